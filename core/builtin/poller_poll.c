/* core/builtin/poller_poll.c — the builtin backend's poll() poller, the
 * portable fallback (also selectable as the "builtin-poll" backend so the
 * conformance suite keeps it honest on Linux). */
#include "builtin.h"

#include <errno.h>
#include <stdlib.h>

static short to_poll(unsigned events) {
  return (short)(((events & IL_IO_READ) ? POLLIN : 0) |
                 ((events & IL_IO_WRITE) ? POLLOUT : 0));
}

static int pl_grow(il__bi_t *bi) {
  if (bi->npfds < bi->cappfds)
    return 0;
  size_t cap = bi->cappfds ? bi->cappfds * 2 : 16;
  struct pollfd *p = realloc(bi->pfds, cap * sizeof(*p));
  if (!p)
    return IL_ENOMEM;
  bi->pfds = p;
  il__bi_io_t **q = realloc(bi->pios, cap * sizeof(*q));
  if (!q)
    return IL_ENOMEM;
  bi->pios = q;
  bi->cappfds = cap;
  return 0;
}

static int pl_init(il__bi_t *bi) {
  bi->npfds = 0;
  int rc = pl_grow(bi);
  if (rc < 0)
    return rc;
  bi->pfds[0].fd = bi->wakefd;
  bi->pfds[0].events = POLLIN;
  bi->pfds[0].revents = 0;
  bi->pios[0] = NULL;
  bi->npfds = 1;
  return 0;
}

static void pl_fini(il__bi_t *bi) {
  free(bi->pfds);
  free(bi->pios);
  bi->pfds = NULL;
  bi->pios = NULL;
  bi->npfds = bi->cappfds = 0;
}

static int pl_add(il__bi_t *bi, il__bi_io_t *io) {
  int rc = pl_grow(bi);
  if (rc < 0)
    return rc;
  io->slot = bi->npfds++;
  bi->pfds[io->slot].fd = io->fd;
  bi->pfds[io->slot].events = to_poll(io->events);
  bi->pfds[io->slot].revents = 0;
  bi->pios[io->slot] = io;
  return 0;
}

static int pl_mod(il__bi_t *bi, il__bi_io_t *io) {
  bi->pfds[io->slot].events = to_poll(io->events);
  return 0;
}

static void pl_del(il__bi_t *bi, il__bi_io_t *io) {
  size_t last = --bi->npfds;
  if (io->slot != last) {
    bi->pfds[io->slot] = bi->pfds[last];
    bi->pios[io->slot] = bi->pios[last];
    bi->pios[io->slot]->slot = io->slot;
  }
}

static int pl_wait(il__bi_t *bi, int timeout_ms) {
  int n = poll(bi->pfds, (nfds_t)bi->npfds, timeout_ms);
  if (n < 0)
    return errno == EINTR ? 0 : il_translate_sys_error(errno);
  /* host->io only queues work, so the array does not change under us. */
  for (size_t i = 0; i < bi->npfds && n > 0; i++) {
    short e = bi->pfds[i].revents;
    if (!e)
      continue;
    n--;
    il__bi_io_t *io = bi->pios[i];
    if (!io) {
      il__bi_on_wake(bi);
      continue;
    }
    unsigned rev = 0;
    if (e & (POLLERR | POLLHUP | POLLNVAL))
      rev = io->events;
    if (e & POLLIN)
      rev |= IL_IO_READ;
    if (e & POLLOUT)
      rev |= IL_IO_WRITE;
    rev &= io->events;
    if (rev)
      bi->host->io(io->ud, rev);
  }
  return 0;
}

const il__poller_t il__poller_poll = {"poll", pl_init, pl_fini, pl_add,
                                      pl_mod, pl_del,  pl_wait};
