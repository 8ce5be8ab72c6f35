/* core/io.c — add_reader / add_writer on file descriptors.
 *
 * One watcher per fd per loop, with the union of reader and writer interest
 * started on the backend. Readiness is queued (the watcher's embedded handle)
 * and delivered in the next pass, where the current reader and writer are
 * looked up again: a callback removed after the event was reported is not
 * called. Watchers are kept in a table indexed by fd and freed at close, so
 * a queued handle never points at freed memory. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static il__fdw_t *fdw_get(il_loop_t *loop, int fd) {
  if (fd >= loop->nfds) {
    int n = loop->nfds ? loop->nfds : 64;
    while (n <= fd)
      n *= 2;
    il__fdw_t **fds = realloc(loop->fds, (size_t)n * sizeof(*fds));
    if (!fds)
      return NULL;
    memset(fds + loop->nfds, 0, (size_t)(n - loop->nfds) * sizeof(*fds));
    loop->fds = fds;
    loop->nfds = n;
  }
  il__fdw_t *w = loop->fds[fd];
  if (!w) {
    w = calloc(1, sizeof(*w));
    if (!w)
      return NULL;
    w->fd = fd;
    w->qh.kind = IL__H_IO;
    w->qh.loop = loop;
    loop->fds[fd] = w;
  }
  return w;
}

/* The same refusal on every backend: a closed fd is EBADF, and regular files
 * and directories (always "ready", and refused by epoll) are EPERM. */
static int fd_check(int fd) {
  if (fcntl(fd, F_GETFD) < 0)
    return il_translate_sys_error(errno);
  struct stat st;
  if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    return IL_EPERM;
  return 0;
}

static int set_interest(il_loop_t *loop, il__fdw_t *w, unsigned interest) {
  int rc = 0;
  if (interest == w->interest)
    return 0;
  if (interest == 0) {
    loop->ops->io_stop(loop->bstate, w->bio);
    w->bio = NULL;
  } else if (w->interest == 0) {
    rc = loop->ops->io_start(loop->bstate, w->fd, interest, w, &w->bio);
  } else {
    rc = loop->ops->io_modify(loop->bstate, w->bio, interest);
  }
  if (rc < 0)
    return rc;
  w->interest = interest;
  w->revents &= interest;
  return 0;
}

static int add_watch(il_loop_t *loop, int fd, il_io_fn cb, void *arg,
                     unsigned bit) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (fd < 0 || !cb)
    return IL_EINVAL;
  rc = fd_check(fd);
  if (rc < 0)
    return rc;
  return il__io_add(loop, fd, cb, arg, bit);
}

int il__io_add(il_loop_t *loop, int fd, il_io_fn cb, void *arg, unsigned bit) {
  int rc;
  il__fdw_t *w = fdw_get(loop, fd);
  if (!w)
    return IL_ENOMEM;
  rc = set_interest(loop, w, w->interest | bit);
  if (rc < 0)
    return rc;
  if (bit == IL_IO_READ) {
    w->rcb = cb;
    w->rarg = arg;
  } else {
    w->wcb = cb;
    w->warg = arg;
  }
  return 0;
}

static int remove_watch(il_loop_t *loop, int fd, unsigned bit) {
  if (!loop || fd < 0)
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc == IL_ECLOSED)
    return 0;
  if (rc < 0)
    return rc;
  il__fdw_t *w = fd < loop->nfds ? loop->fds[fd] : NULL;
  if (!w || !(bit == IL_IO_READ ? w->rcb : w->wcb))
    return 0;
  if (bit == IL_IO_READ) {
    w->rcb = NULL;
    w->rarg = NULL;
  } else {
    w->wcb = NULL;
    w->warg = NULL;
  }
  rc = set_interest(loop, w, w->interest & ~bit);
  if (rc < 0) {
    /* The backend could not narrow the interest: stop the watcher and start
     * it again for what is left, so no callback is lost or kept. */
    unsigned rest = w->interest & ~bit;
    set_interest(loop, w, 0);
    if (rest && (rc = set_interest(loop, w, rest)) < 0)
      il__report(loop, rc, IL_SOURCE_BACKEND,
                 "could not restart an fd watcher after removing interest",
                 NULL, NULL, fd);
  }
  return 1;
}

int il_loop_add_reader(il_loop_t *loop, int fd, il_io_fn cb, void *arg) {
  return add_watch(loop, fd, cb, arg, IL_IO_READ);
}

int il_loop_add_writer(il_loop_t *loop, int fd, il_io_fn cb, void *arg) {
  return add_watch(loop, fd, cb, arg, IL_IO_WRITE);
}

int il_loop_remove_reader(il_loop_t *loop, int fd) {
  return remove_watch(loop, fd, IL_IO_READ);
}

int il_loop_remove_writer(il_loop_t *loop, int fd) {
  return remove_watch(loop, fd, IL_IO_WRITE);
}

void il__host_io(void *io_ud, unsigned revents) {
  il__fdw_t *w = io_ud;
  revents &= w->interest;
  if (!revents)
    return;
  w->revents |= revents;
  if (!w->qh.loop_ref) {
    w->qh.loop_ref = 1;
    il__ready_push(w->qh.loop, &w->qh);
  }
}

void il__io_run(il_loop_t *loop, il__fdw_t *w) {
  unsigned ev = w->revents;
  w->revents = 0;
  if ((ev & IL_IO_READ) && w->rcb) {
    il_io_fn cb = w->rcb;
    void *arg = w->rarg;
    int rc = cb(loop, w->fd, arg);
    if (rc < 0)
      il__report(loop, rc, IL_SOURCE_READER,
                 "reader callback returned an error", (const void *)cb, arg,
                 w->fd);
  }
  /* The reader may have removed the writer: look it up again. */
  if ((ev & IL_IO_WRITE) && w->wcb) {
    il_io_fn cb = w->wcb;
    void *arg = w->warg;
    int rc = cb(loop, w->fd, arg);
    if (rc < 0)
      il__report(loop, rc, IL_SOURCE_WRITER,
                 "writer callback returned an error", (const void *)cb, arg,
                 w->fd);
  }
}

void il__io_close_all(il_loop_t *loop) {
  for (int fd = 0; fd < loop->nfds; fd++) {
    il__fdw_t *w = loop->fds[fd];
    if (!w)
      continue;
    if (w->interest)
      loop->ops->io_stop(loop->bstate, w->bio);
    free(w);
  }
  free(loop->fds);
  loop->fds = NULL;
  loop->nfds = 0;
}
