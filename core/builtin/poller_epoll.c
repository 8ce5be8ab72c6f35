/* core/builtin/poller_epoll.c — the builtin backend's epoll poller. */
#include "builtin.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 256

static uint32_t to_epoll(unsigned events) {
  return ((events & IL_IO_READ) ? EPOLLIN : 0u) |
         ((events & IL_IO_WRITE) ? EPOLLOUT : 0u);
}

static int ep_init(il__bi_t *bi) {
  bi->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (bi->epfd < 0)
    return il_translate_sys_error(errno);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(bi->epfd, EPOLL_CTL_ADD, bi->wakefd, &ev) < 0) {
    int err = errno;
    close(bi->epfd);
    bi->epfd = -1;
    return il_translate_sys_error(err);
  }
  return 0;
}

static void ep_fini(il__bi_t *bi) {
  if (bi->epfd >= 0)
    close(bi->epfd);
  bi->epfd = -1;
}

static int ep_ctl(il__bi_t *bi, int op, il__bi_io_t *io) {
  struct epoll_event ev = {.events = to_epoll(io->events), .data.ptr = io};
  if (epoll_ctl(bi->epfd, op, io->fd, &ev) == 0)
    return 0;
  /* The fd was closed and reused without being removed first: the kernel
   * forgot it (ENOENT) or still has the old registration (EEXIST). */
  if (op == EPOLL_CTL_MOD && errno == ENOENT)
    return ep_ctl(bi, EPOLL_CTL_ADD, io);
  if (op == EPOLL_CTL_ADD && errno == EEXIST)
    return ep_ctl(bi, EPOLL_CTL_MOD, io);
  return il_translate_sys_error(errno);
}

static int ep_add(il__bi_t *bi, il__bi_io_t *io) {
  return ep_ctl(bi, EPOLL_CTL_ADD, io);
}

static int ep_mod(il__bi_t *bi, il__bi_io_t *io) {
  return ep_ctl(bi, EPOLL_CTL_MOD, io);
}

static void ep_del(il__bi_t *bi, il__bi_io_t *io) {
  struct epoll_event ev = {0};
  (void)epoll_ctl(bi->epfd, EPOLL_CTL_DEL, io->fd, &ev);
}

static int ep_wait(il__bi_t *bi, int timeout_ms) {
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait(bi->epfd, events, MAX_EVENTS, timeout_ms);
  if (n < 0)
    return errno == EINTR ? 0 : il_translate_sys_error(errno);
  for (int i = 0; i < n; i++) {
    il__bi_io_t *io = events[i].data.ptr;
    if (!io) {
      il__bi_on_wake(bi);
      continue;
    }
    uint32_t e = events[i].events;
    unsigned rev = 0;
    if (e & (EPOLLERR | EPOLLHUP))
      rev = io->events;
    if (e & EPOLLIN)
      rev |= IL_IO_READ;
    if (e & EPOLLOUT)
      rev |= IL_IO_WRITE;
    rev &= io->events;
    if (rev)
      bi->host->io(io->ud, rev);
  }
  return 0;
}

const il__poller_t il__poller_epoll = {"epoll", ep_init, ep_fini, ep_add,
                                       ep_mod,  ep_del,  ep_wait};
