/* bench/native/echo_epoll.c — the floor: an echo server on raw epoll, with
 * nothing between the kernel and the bytes. Level-triggered (as every
 * engine measured here uses epoll); one read() per readiness into one
 * shared buffer, write() straight back, EPOLLOUT only while bytes are
 * queued. See bench/net_common.h for the command line. */
#include "../net_common.h"

#include <sys/epoll.h>

typedef struct conn {
  int fd;
  int reading; /* EPOLLIN is in the interest set */
  net_wbuf_t wb;
} conn_t;

static int ep;
static long live; /* open connections */
static char buf[NET_READ_BUF];

static void watch(conn_t *c, int op) {
  struct epoll_event ev;
  ev.events =
      (c->reading ? EPOLLIN : 0) | (net_wbuf_pending(&c->wb) ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl(ep, op, c->fd, &ev);
}

static void drop(conn_t *c) {
  close(c->fd); /* also leaves the epoll set */
  net_wbuf_free(&c->wb);
  free(c);
  live--;
}

static void on_readable(conn_t *c) {
  ssize_t n = read(c->fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    drop(c);
    return;
  }
  int r = net_echo(c->fd, &c->wb, buf, (size_t)n);
  if (r < 0) {
    drop(c);
  } else if (r > 0) {
    c->reading = net_wbuf_pending(&c->wb) <= NET_HIGH;
    watch(c, EPOLL_CTL_MOD);
  }
}

static void on_writable(conn_t *c) {
  int r = net_wbuf_flush(c->fd, &c->wb);
  if (r < 0) {
    drop(c);
    return;
  }
  if (!c->reading && net_wbuf_pending(&c->wb) <= NET_LOW)
    c->reading = 1;
  if (r == 0 || c->reading)
    watch(c, EPOLL_CTL_MOD);
}

static void on_accept(int lfd) {
  int fd;
  while ((fd = net_accept(lfd)) >= 0) {
    conn_t *c = calloc(1, sizeof(*c));
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->reading = 1;
    live++;
    watch(c, EPOLL_CTL_ADD);
  }
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  int lfd = net_listen(a.port);
  static int listener; /* its address tells the listener from a conn */
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  int served = 0;
  struct epoll_event evs[256];
  while (!(a.once && served && live == 0)) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == &listener) {
        on_accept(lfd);
        served = 1;
        continue;
      }
      conn_t *c = evs[i].data.ptr;
      /* A conn dropped earlier in this batch cannot show up again: each fd
       * has one entry per epoll_wait. */
      if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP) &&
          net_wbuf_pending(&c->wb)) {
        long before = live;
        on_writable(c);
        if (live != before)
          continue;
      }
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) && c->reading)
        on_readable(c);
    }
  }
  close(lfd);
  close(ep);
  return 0;
}
