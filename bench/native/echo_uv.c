/* bench/native/echo_uv.c — the echo server written directly on libuv, as a
 * careful libuv user writes it: uv_read_start with an alloc_cb that lends
 * one reused 64 KiB buffer (libuv calls read_cb before it asks again), and
 * for the echo uv_try_write first, uv_write only for what the socket did
 * not take (one malloc holding the request and the copied bytes). Reading
 * stops while more than NET_HIGH bytes are queued. See
 * bench/net_common.h. */
#include "../net_common.h"

#include <uv.h>

typedef struct wreq {
  uv_write_t req;
  char data[]; /* the bytes uv_try_write left */
} wreq_t;

static long live;
static int once;
static char buf[NET_READ_BUF];
static uv_tcp_t server;

static void on_close(uv_handle_t *h) {
  free(h);
  if (--live == 0 && once)
    uv_close((uv_handle_t *)&server, NULL);
}

static void free_handle(uv_handle_t *h) {
  free(h);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h;
  (void)hint;
  *b = uv_buf_init(buf, sizeof(buf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_write(uv_write_t *req, int status) {
  uv_stream_t *s = req->handle;
  free(req);
  if (status < 0) {
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (uv_is_closing((uv_handle_t *)s))
    return;
  if (s->data && uv_stream_get_write_queue_size(s) <= NET_LOW) {
    s->data = NULL; /* reading again */
    uv_read_start(s, on_alloc, on_read);
  }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  if (n < 0) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (n == 0)
    return; /* EAGAIN */
  uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
  int w = uv_try_write(s, &out, 1);
  if (w == n)
    return;
  if (w < 0 && w != UV_EAGAIN) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (w < 0)
    w = 0;
  wreq_t *r = malloc(sizeof(*r) + (size_t)(n - w));
  if (!r) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  memcpy(r->data, b->base + w, (size_t)(n - w));
  out = uv_buf_init(r->data, (unsigned)(n - w));
  uv_write(&r->req, s, &out, 1, on_write);
  if (uv_stream_get_write_queue_size(s) > NET_HIGH) {
    s->data = s; /* paused: on_write restarts reading */
    uv_read_stop(s);
  }
}

static void on_connection(uv_stream_t *l, int status) {
  if (status < 0)
    return;
  uv_tcp_t *c = malloc(sizeof(*c));
  if (!c)
    return;
  uv_tcp_init(l->loop, c);
  c->data = NULL;
  if (uv_accept(l, (uv_stream_t *)c) != 0) {
    uv_close((uv_handle_t *)c, free_handle);
    return;
  }
  live++;
  uv_tcp_nodelay(c, 1);
  uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  once = a.once;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sockaddr_in sin;
  uv_ip4_addr("127.0.0.1", a.port, &sin);
  uv_tcp_init(&loop, &server);
  int err = uv_tcp_bind(&server, (const struct sockaddr *)&sin, 0);
  if (!err)
    err = uv_listen((uv_stream_t *)&server, NET_BACKLOG, on_connection);
  if (err) {
    fprintf(stderr, "echo_uv: %s\n", uv_strerror(err));
    return 1;
  }
  int len = sizeof(sin);
  uv_tcp_getsockname(&server, (struct sockaddr *)&sin, &len);
  net_announce(ntohs(sin.sin_port));
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
