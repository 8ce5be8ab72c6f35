/* bench/native/udp_ev.c — the UDP echo server of the UDP ping-pong
 * benchmark written directly on libev, as a careful libev user writes it.
 *
 *   native_udp_ev [--port N]
 *
 * One socket bound to 127.0.0.1 (prints "port N") and one ev_io; per
 * readiness up to 32 recvfrom() into one 64 KiB buffer, each datagram sent
 * straight back with sendto() (interloop and libuv read up to 32 per
 * readiness too). A datagram the socket cannot take is dropped, as UDP
 * allows. An ev_signal ends the run on SIGTERM (status 0). Driven by
 * bench/udp_client.c. */
#include "../net_common.h"

#include <arpa/inet.h>
#include <ev.h>
#include <signal.h>

#define READS_PER_PASS 32

static char buf[NET_READ_BUF];

static void on_read(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop, (void)revents;
  net_udp_echo(w->fd, buf, sizeof(buf), READS_PER_PASS);
}

static void on_term(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)w, (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  /* EVFLAG_AUTO, as interloop's ev adapter asks: epoll on Linux. */
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (!loop) {
    fprintf(stderr, "udp_ev: ev_loop_new failed\n");
    return 1;
  }
  ev_signal term;
  ev_signal_init(&term, on_term, SIGTERM);
  ev_signal_start(loop, &term);
  ev_io r;
  ev_io_init(&r, on_read, net_udp_bind(a.port, "udp_ev"), EV_READ);
  ev_io_start(loop, &r);
  ev_run(loop, 0);
  ev_io_stop(loop, &r);
  ev_signal_stop(loop, &term);
  close(r.fd);
  ev_loop_destroy(loop);
  return 0;
}
