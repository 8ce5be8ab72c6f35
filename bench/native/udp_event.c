/* bench/native/udp_event.c — the UDP echo server of the UDP ping-pong
 * benchmark written directly on libevent, as a careful libevent user
 * writes it.
 *
 *   native_udp_event [--port N]
 *
 * One socket bound to 127.0.0.1 (prints "port N") and one persistent
 * event (event_new on an event_base_new() base); per readiness up to 32
 * recvfrom() into one 64 KiB buffer, each datagram sent straight back with
 * sendto() (interloop and libuv read up to 32 per readiness too). A
 * datagram the socket cannot take is dropped, as UDP allows. A signal event
 * ends the run on SIGTERM (status 0). Driven by bench/udp_client.c. */
#include "../net_common.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <signal.h>

#define READS_PER_PASS 32

static char buf[NET_READ_BUF];

static void on_read(evutil_socket_t fd, short what, void *arg) {
  (void)what, (void)arg;
  net_udp_echo(fd, buf, sizeof(buf), READS_PER_PASS);
}

static void on_term(evutil_socket_t sig, short what, void *arg) {
  (void)sig, (void)what;
  event_base_loopbreak(arg);
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  struct event_base *base = event_base_new();
  if (!base) {
    fprintf(stderr, "udp_event: event_base_new failed\n");
    return 1;
  }
  int fd = net_udp_bind(a.port, "udp_event");
  struct event *r = event_new(base, fd, EV_READ | EV_PERSIST, on_read, NULL);
  struct event *term = evsignal_new(base, SIGTERM, on_term, base);
  if (!r || !term || event_add(r, NULL) || event_add(term, NULL)) {
    fprintf(stderr, "udp_event: cannot add events\n");
    return 1;
  }
  event_base_dispatch(base);
  event_free(r);
  event_free(term);
  close(fd);
  event_base_free(base);
  return 0;
}
