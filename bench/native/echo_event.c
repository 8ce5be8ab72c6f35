/* bench/native/echo_event.c — the echo server written directly on
 * libevent, two ways:
 *
 *  - by default raw events, the way to compare interloop against: two
 *    persistent events per connection made with event_new (read, and write
 *    added only while bytes are queued), one read() per readiness into one
 *    shared buffer, write() straight back. This is what interloop itself
 *    asks of libevent (fd readiness), and the cheapest correct echo a
 *    libevent user can write, so the ratio is against the engine's floor.
 *  - --bufferevent: the idiom most libevent programs use, a bufferevent per
 *    connection whose read callback moves the input buffer to the output
 *    (evbuffer_add_buffer, no copy). libevent reads into its own chains and
 *    writes with writev; shown for reference, next to the raw figure.
 *
 * Both use event_base_new() as a libevent user would (interloop's adapter
 * adds EVENT_BASE_FLAG_PRECISE_TIMER). See bench/net_common.h. */
#include "../net_common.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

typedef struct conn {
  struct event *r, *w;
  net_wbuf_t wb;
  int fd;
} conn_t;

static struct event_base *base;
static long live;
static int once, use_bev;
static char buf[NET_READ_BUF];

static void gone(void) {
  if (--live == 0 && once)
    event_base_loopbreak(base);
}

/* ---- raw events ---------------------------------------------------------- */

static void drop(conn_t *c) {
  event_free(c->r);
  event_free(c->w);
  close(c->fd);
  net_wbuf_free(&c->wb);
  free(c);
  gone();
}

static void on_read(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  conn_t *c = arg;
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    drop(c);
    return;
  }
  int st = net_echo(fd, &c->wb, buf, (size_t)n);
  if (st < 0) {
    drop(c);
  } else if (st > 0) {
    event_add(c->w, NULL);
    if (net_wbuf_pending(&c->wb) > NET_HIGH)
      event_del(c->r);
  }
}

static void on_write(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  conn_t *c = arg;
  int st = net_wbuf_flush(fd, &c->wb);
  if (st < 0) {
    drop(c);
    return;
  }
  if (st == 0)
    event_del(c->w);
  if (!event_pending(c->r, EV_READ, NULL) &&
      net_wbuf_pending(&c->wb) <= NET_LOW)
    event_add(c->r, NULL);
}

static void raw_conn(int fd) {
  conn_t *c = calloc(1, sizeof(*c));
  if (!c) {
    close(fd);
    return;
  }
  c->fd = fd;
  c->r = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
  c->w = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write, c);
  event_add(c->r, NULL);
  live++;
}

/* ---- bufferevents -------------------------------------------------------- */

static void bev_read(struct bufferevent *bev, void *arg) {
  (void)arg;
  struct evbuffer *out = bufferevent_get_output(bev);
  evbuffer_add_buffer(out, bufferevent_get_input(bev));
  if (evbuffer_get_length(out) > NET_HIGH)
    bufferevent_disable(bev, EV_READ);
}

/* Called once the output is down to the low-water mark (NET_LOW). */
static void bev_write(struct bufferevent *bev, void *arg) {
  (void)arg;
  bufferevent_enable(bev, EV_READ);
}

static void bev_event(struct bufferevent *bev, short what, void *arg) {
  (void)arg;
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    bufferevent_free(bev);
    gone();
  }
}

static void bev_conn(int fd) {
  struct bufferevent *bev =
      bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    close(fd);
    return;
  }
  bufferevent_setcb(bev, bev_read, bev_write, bev_event, NULL);
  bufferevent_setwatermark(bev, EV_WRITE, NET_LOW, 0);
  /* libevent reads and writes 16 KiB at a time unless told otherwise; the
   * other servers ask for 64 KiB. */
  bufferevent_set_max_single_read(bev, NET_READ_BUF);
  bufferevent_set_max_single_write(bev, NET_READ_BUF);
  bufferevent_enable(bev, EV_READ);
  live++;
}

/* ---- the listener -------------------------------------------------------- */

static void on_accept(evutil_socket_t lfd, short what, void *arg) {
  (void)what;
  (void)arg;
  int fd;
  while ((fd = net_accept(lfd)) >= 0) {
    if (use_bev)
      bev_conn(fd);
    else
      raw_conn(fd);
  }
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  once = a.once;
  use_bev = a.bufferevent;
  base = event_base_new();
  int lfd = net_listen(a.port);
  struct event *l = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
  event_add(l, NULL);
  event_base_dispatch(base);
  event_free(l);
  close(lfd);
  event_base_free(base);
  return 0;
}
