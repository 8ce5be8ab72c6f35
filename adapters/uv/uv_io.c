/* adapters/uv/uv_io.c — fd watchers on uv_poll_t.
 *
 * libuv polls level-triggered (epoll without EPOLLET), so a uv_poll_t
 * reports an fd on every iteration while it stays ready, as backend.h asks.
 * Three libuv behaviours need care:
 *
 * - uv_poll_init() switches the fd to O_NONBLOCK. The fd stays the caller's
 *   (loop.h), so the flag is put back as it was; polling does not need it.
 * - On POLLERR libuv stops the handle and calls back with UV_EBADF once.
 *   Level-triggered semantics want the error reported while it holds, so it
 *   is reported as every watched event and the handle is started again.
 * - libuv abort()s when epoll_ctl fails while re-arming an fd that was
 *   closed (or closed and reused for a regular file) behind its back. Every
 *   re-arm checks the fd first and returns IL_EBADF / IL_EPERM instead.
 *
 * io_stop closes the handle. libuv's stop already drops any event of this
 * iteration still queued for the fd (uv__platform_invalidate_fd), and the
 * watcher's `ud` is cleared as a second guard; the memory is freed in the
 * close callback, on the loop's closing phase. */
#include "uv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

static int to_uv(unsigned events) {
  return ((events & IL_IO_READ) ? UV_READABLE : 0) |
         ((events & IL_IO_WRITE) ? UV_WRITABLE : 0);
}

static int sys_err(int e) {
  return il__uv_err(e > 0 ? -e : UV_EIO);
}

/* The same refusal as the core's: EBADF for a closed fd, EPERM for what
 * epoll cannot watch. One fstat, only when (re)arming. */
static int fd_pollable(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return sys_err(errno);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
    return IL_EPERM;
  return 0;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  il__uv_io_t *w = p->data;
  if (!w->ud)
    return; /* stopped: never report it again */
  unsigned rev = 0;
  if (status < 0) {
    rev = w->events; /* error: every watched event, like the builtin */
  } else {
    if (events & UV_READABLE)
      rev |= IL_IO_READ;
    if (events & UV_WRITABLE)
      rev |= IL_IO_WRITE;
    if (events & UV_DISCONNECT)
      rev |= w->events;
  }
  rev &= w->events;
  if (rev)
    w->host->io(w->ud, rev);
  /* host->io only queues; the watcher is still ours. libuv stopped it on
   * the error: re-arm so the condition is reported again next iteration. */
  if (status < 0 && !uv_is_closing((uv_handle_t *)p) && fd_pollable(w->fd) == 0)
    uv_poll_start(p, to_uv(w->events), on_poll);
}

int il__uv_io_start(void *state, int fd, unsigned events, void *io_ud,
                    void **io) {
  il__uv_t *s = state;
  il__uv_io_t *w = calloc(1, sizeof(*w));
  if (!w)
    return IL_ENOMEM;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    int err = errno;
    free(w);
    return sys_err(err);
  }
  int rc = uv_poll_init(s->loop, &w->poll, fd);
  if (!(flags & O_NONBLOCK))
    (void)fcntl(fd, F_SETFL, flags); /* undo libuv's O_NONBLOCK */
  if (rc < 0) {
    free(w);
    /* UV_EEXIST: the application watches this fd on the same loop with its
     * own uv_poll_t (libuv allows one per fd per loop); IL_EEXIST says so.
     * UV_EPERM: epoll refuses the fd kind. */
    return il__uv_err(rc);
  }
  w->poll.data = w;
  w->host = s->host;
  w->ud = io_ud;
  w->events = events;
  w->fd = fd;
  uv_poll_start(&w->poll, to_uv(events), on_poll);
  *io = w;
  return 0;
}

int il__uv_io_modify(void *state, void *io, unsigned events) {
  IL__UV_UNUSED(state);
  il__uv_io_t *w = io;
  int rc = fd_pollable(w->fd); /* libuv would abort() on a dead fd */
  if (rc < 0)
    return rc;
  w->events = events;
  uv_poll_start(&w->poll, to_uv(events), on_poll);
  return 0;
}

static void on_io_closed(uv_handle_t *h) {
  free(h->data);
}

void il__uv_io_stop(void *state, void *io) {
  IL__UV_UNUSED(state);
  il__uv_io_t *w = io;
  w->ud = NULL;
  uv_close((uv_handle_t *)&w->poll, on_io_closed);
}
