/* bench/udp_server.c — interloop's UDP echo server for the UDP ping-pong
 * benchmark (bench/parts/udp.py), on any backend:
 *
 *   bench_udp_server [--backend NAME] [--port N]
 *
 * One datagram endpoint (il_create_datagram_endpoint) bound to 127.0.0.1;
 * its datagram_received sends every datagram back to its sender with
 * il_transport_sendto. The port is printed ("port N") from connection_made,
 * once the endpoint is bound. Serves until SIGTERM, then closes the
 * endpoint and the loop and exits with status 0. Driven by
 * bench/udp_client.c; bench/native/udp_*.c are the same server on each
 * engine directly. */
#include <interloop/interloop.h>

#include "bench_common.h"
#include "net_common.h"

#include <arpa/inet.h>
#include <signal.h>

static il_transport_t *endpoint;

static void on_made(il_transport_t *t, void *ud) {
  (void)ud;
  struct sockaddr_in sin;
  size_t len = sizeof(sin);
  if (il_transport_get_extra_info(t, IL_INFO_SOCKNAME, &sin, &len) < 0) {
    fprintf(stderr, "bench_udp_server: no socket name\n");
    il_loop_stop(il_transport_loop(t));
    return;
  }
  endpoint = il_transport_ref(t);
  net_announce(ntohs(sin.sin_port));
}

static void on_datagram(il_transport_t *t, const void *data, size_t len,
                        const struct sockaddr *addr, socklen_t addrlen,
                        void *ud) {
  (void)ud;
  /* A datagram that cannot be sent is lost, as UDP allows; the client
   * counts it. */
  (void)il_transport_sendto(t, data, len, addr, addrlen);
}

static const il_protocol_t echo_protocol = {
    .size = sizeof(il_protocol_t),
    .connection_made = on_made,
    .datagram_received = on_datagram,
};

/* The endpoint could not be made: say why and end the run. */
static int on_created(il_future_t *f, void *arg) {
  (void)arg;
  const char *why = NULL;
  if (il_future_error(f, &why) != 0) {
    fprintf(stderr, "bench_udp_server: cannot bind: %s\n", why ? why : "?");
    il_loop_stop(il_future_loop(f));
  }
  return 0;
}

static int on_sigterm(il_loop_t *loop, int signum, void *arg) {
  (void)signum, (void)arg;
  il_loop_stop(loop);
  return 0;
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  il_loop_t *loop = bench_new_loop("bench_udp_server", a.backend);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  o.local_port = a.port;
  il_future_t *created = NULL;
  int rc = il_loop_add_signal_handler(loop, SIGTERM, on_sigterm, NULL);
  if (rc == 0)
    rc = il_create_datagram_endpoint(loop, &o, &echo_protocol, NULL, &created);
  if (rc == 0)
    rc = il_future_add_done_callback(created, on_created, NULL);
  if (rc == 0)
    rc = il_loop_run(loop, IL_RUN_DEFAULT);
  int ok = rc == 0 && endpoint;
  if (rc < 0)
    fprintf(stderr, "bench_udp_server: %s\n", il_strerror(rc));
  if (endpoint) {
    il_transport_abort(endpoint);
    il_transport_unref(endpoint);
  }
  il_future_unref(created);
  il_loop_free(loop);
  return ok ? 0 : 1;
}
