/* bench/native/echo_ev.c — the echo server written directly on libev, as a
 * careful libev user writes it: one ev_io for reading and one for writing
 * per connection, one read() per readiness into one shared buffer, write()
 * straight back, the rest in a write buffer drained by the write watcher
 * (started only while bytes are queued). See bench/net_common.h. */
#include "../net_common.h"

#include <ev.h>

typedef struct conn {
  ev_io r, w;
  net_wbuf_t wb;
} conn_t;

static long live;
static int once;
static char buf[NET_READ_BUF];

static void drop(struct ev_loop *loop, conn_t *c) {
  ev_io_stop(loop, &c->r);
  ev_io_stop(loop, &c->w);
  close(c->r.fd);
  net_wbuf_free(&c->wb);
  free(c);
  if (--live == 0 && once)
    ev_break(loop, EVBREAK_ALL);
}

static void on_read(struct ev_loop *loop, ev_io *r, int revents) {
  (void)revents;
  conn_t *c = (conn_t *)r; /* r is the first member */
  ssize_t n = read(r->fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    drop(loop, c);
    return;
  }
  int st = net_echo(r->fd, &c->wb, buf, (size_t)n);
  if (st < 0) {
    drop(loop, c);
  } else if (st > 0) {
    ev_io_start(loop, &c->w);
    if (net_wbuf_pending(&c->wb) > NET_HIGH)
      ev_io_stop(loop, &c->r);
  }
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents) {
  (void)revents;
  conn_t *c = (conn_t *)((char *)w - offsetof(conn_t, w));
  int st = net_wbuf_flush(w->fd, &c->wb);
  if (st < 0) {
    drop(loop, c);
    return;
  }
  if (st == 0)
    ev_io_stop(loop, w);
  if (!ev_is_active(&c->r) && net_wbuf_pending(&c->wb) <= NET_LOW)
    ev_io_start(loop, &c->r);
}

static void on_accept(struct ev_loop *loop, ev_io *l, int revents) {
  (void)revents;
  int fd;
  while ((fd = net_accept(l->fd)) >= 0) {
    conn_t *c = calloc(1, sizeof(*c));
    if (!c) {
      close(fd);
      continue;
    }
    ev_io_init(&c->r, on_read, fd, EV_READ);
    ev_io_init(&c->w, on_write, fd, EV_WRITE);
    ev_io_start(loop, &c->r);
    live++;
  }
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  once = a.once;
  /* EVFLAG_AUTO, as interloop's ev adapter asks: epoll on Linux. */
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (!loop) {
    fprintf(stderr, "echo_ev: ev_loop_new failed\n");
    return 1;
  }
  ev_io l;
  ev_io_init(&l, on_accept, net_listen(a.port), EV_READ);
  ev_io_start(loop, &l);
  ev_run(loop, 0);
  ev_io_stop(loop, &l);
  close(l.fd);
  ev_loop_destroy(loop);
  return 0;
}
