/* bench/native/udp_uv.c — the UDP echo server of the UDP ping-pong
 * benchmark written directly on libuv, as a careful libuv user writes it.
 *
 *   native_udp_uv [--port N]
 *
 * One uv_udp_t bound to 127.0.0.1 (prints "port N"); uv_udp_recv_start
 * with an alloc_cb that lends one reused 64 KiB buffer (libuv reads up to
 * 32 datagrams per readiness, calling recv_cb for each), and each datagram
 * sent straight back with uv_udp_try_send. A datagram the socket cannot
 * take (UV_EAGAIN) is dropped, as UDP allows. A uv_signal_t ends the run
 * on SIGTERM (status 0). Driven by bench/udp_client.c. */
#include "../net_common.h"

#include <signal.h>
#include <uv.h>

static char buf[NET_READ_BUF];
static uv_udp_t sock;
static uv_signal_t term;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h, (void)hint;
  *b = uv_buf_init(buf, sizeof(buf));
}

static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
                    const struct sockaddr *addr, unsigned flags) {
  (void)flags;
  if (n < 0 || !addr)
    return; /* an error UDP shrugs off, or nothing more to read */
  uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
  uv_udp_try_send(u, &out, 1, addr);
}

static void on_term(uv_signal_t *s, int signum) {
  (void)signum;
  uv_close((uv_handle_t *)&sock, NULL);
  uv_close((uv_handle_t *)s, NULL);
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sockaddr_in sin;
  uv_ip4_addr("127.0.0.1", a.port, &sin);
  uv_udp_init(&loop, &sock);
  int err = uv_udp_bind(&sock, (const struct sockaddr *)&sin, 0);
  if (!err)
    err = uv_udp_recv_start(&sock, on_alloc, on_recv);
  if (!err)
    err = uv_signal_init(&loop, &term);
  if (!err)
    err = uv_signal_start(&term, on_term, SIGTERM);
  if (err) {
    fprintf(stderr, "udp_uv: %s\n", uv_strerror(err));
    return 1;
  }
  int len = sizeof(sin);
  uv_udp_getsockname(&sock, (struct sockaddr *)&sin, &len);
  net_announce(ntohs(sin.sin_port));
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
