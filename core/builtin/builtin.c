/* core/builtin/builtin.c — the built-in reference backend.
 *
 * Needs no third-party library: epoll (or poll) for fds, an eventfd for
 * wakeups and signals, and a deadline it waits for itself as the one timer.
 * Each iteration: wait (not at all while dispatch_soon is on), report what
 * is ready, fire the timer if due, then call host->dispatch. */
#include "builtin.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const char *bi_engine_version(void) {
  return "interloop builtin (epoll) " IL_VERSION_STRING_BUILTIN;
}

static const char *bi_poll_engine_version(void) {
  return "interloop builtin (poll) " IL_VERSION_STRING_BUILTIN;
}

void il__bi_on_wake(il__bi_t *bi) {
  uint64_t v;
  ssize_t r = read(bi->wakefd, &v, sizeof(v));
  (void)r;
  /* Clear the flag before telling the core: a wakeup sent from now on
   * writes the eventfd again, one sent before is covered by this drain. */
  atomic_store(&bi->wake_pending, 0);
  bi->host->wakeup(bi->host->core);
  if (bi->sig_slot >= 0) {
    uint64_t pending = il__bi_sig_take_pending(bi->sig_slot);
    for (int s = 1; pending && s < IL__NSIG; s++) {
      uint64_t bit = UINT64_C(1) << (unsigned)(s - 1);
      if (!(pending & bit))
        continue;
      pending &= ~bit;
      if (bi->sigs[s])
        bi->host->signal(bi->sigs[s]->ud, s);
    }
  }
}

static int bi_create_with(const il_backend_host_t *host, void *engine_loop,
                          void **state, const il__poller_t *poller) {
  if (engine_loop)
    return IL_ENOTSUP;
  il__bi_t *bi = calloc(1, sizeof(*bi));
  if (!bi)
    return IL_ENOMEM;
  bi->host = host;
  bi->poller = poller;
  bi->epfd = -1;
  bi->sig_slot = -1;
  atomic_init(&bi->wake_pending, 0);
  bi->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (bi->wakefd < 0) {
    int err = errno;
    free(bi);
    return il_translate_sys_error(err);
  }
  int rc = poller->init(bi);
  if (rc < 0) {
    close(bi->wakefd);
    free(bi);
    return rc;
  }
  *state = bi;
  return 0;
}

static int bi_create(const il_backend_host_t *host, void *engine_loop,
                     void **state) {
  return bi_create_with(host, engine_loop, state, &il__poller_epoll);
}

static int bi_poll_create(const il_backend_host_t *host, void *engine_loop,
                          void **state) {
  return bi_create_with(host, engine_loop, state, &il__poller_poll);
}

static void bi_destroy(void *state) {
  il__bi_t *bi = state;
  if (bi->sig_slot >= 0)
    il__bi_sig_slot_release(bi->sig_slot);
  bi->poller->fini(bi);
  close(bi->wakefd);
  free(bi);
}

static int timeout_ms(il__bi_t *bi, int mode) {
  if (bi->soon || mode == IL_RUN_NOWAIT)
    return 0;
  if (!bi->timer_on)
    return -1;
  uint64_t now = il__now_ns();
  if (bi->timer_deadline <= now)
    return 0;
  uint64_t ms = (bi->timer_deadline - now + 999999u) / 1000000u;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int bi_run(void *state, int mode) {
  il__bi_t *bi = state;
  bi->stop = 0;
  do {
    int rc = bi->poller->wait(bi, timeout_ms(bi, mode));
    if (rc < 0)
      return rc;
    if (bi->timer_on && il__now_ns() >= bi->timer_deadline) {
      bi->timer_on = 0;
      bi->host->timer(bi->host->core);
    }
    bi->host->dispatch(bi->host->core);
  } while (mode == IL_RUN_DEFAULT && !bi->stop);
  bi->stop = 0;
  return 0;
}

static void bi_stop(void *state) {
  ((il__bi_t *)state)->stop = 1;
}

static void bi_dispatch_soon(void *state, int on) {
  ((il__bi_t *)state)->soon = on;
}

static void bi_timer_start(void *state, uint64_t timeout_ns) {
  il__bi_t *bi = state;
  bi->timer_on = 1;
  bi->timer_deadline = il__now_ns() + timeout_ns;
}

static void bi_timer_stop(void *state) {
  ((il__bi_t *)state)->timer_on = 0;
}

static void bi_wakeup(void *state) {
  il__bi_t *bi = state;
  if (atomic_exchange(&bi->wake_pending, 1) == 0) {
    uint64_t one = 1;
    ssize_t r = write(bi->wakefd, &one, sizeof(one));
    (void)r; /* EAGAIN only when the counter is full: already readable */
  }
}

static int bi_io_start(void *state, int fd, unsigned events, void *ud,
                       void **out) {
  il__bi_t *bi = state;
  il__bi_io_t *io = calloc(1, sizeof(*io));
  if (!io)
    return IL_ENOMEM;
  io->fd = fd;
  io->events = events;
  io->ud = ud;
  int rc = bi->poller->add(bi, io);
  if (rc < 0) {
    free(io);
    return rc;
  }
  io->next = bi->ios;
  if (bi->ios)
    bi->ios->prev = io;
  bi->ios = io;
  *out = io;
  return 0;
}

static int bi_io_modify(void *state, void *w, unsigned events) {
  il__bi_t *bi = state;
  il__bi_io_t *io = w;
  unsigned old = io->events;
  io->events = events;
  int rc = bi->poller->mod(bi, io);
  if (rc < 0)
    io->events = old;
  return rc;
}

static void bi_io_stop(void *state, void *w) {
  il__bi_t *bi = state;
  il__bi_io_t *io = w;
  bi->poller->del(bi, io);
  if (io->prev)
    io->prev->next = io->next;
  else
    bi->ios = io->next;
  if (io->next)
    io->next->prev = io->prev;
  free(io);
}

static int bi_signal_start(void *state, int signum, void *ud, void **out) {
  il__bi_t *bi = state;
  if (signum <= 0 || signum >= IL__NSIG)
    return IL_EINVAL;
  if (bi->sig_slot < 0) {
    int slot = il__bi_sig_slot_claim(bi->wakefd);
    if (slot < 0)
      return slot;
    bi->sig_slot = slot;
  }
  il__bi_sig_t *s = malloc(sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  s->signum = signum;
  s->ud = ud;
  bi->sigs[signum] = s;
  int rc = il__bi_sig_watch(bi->sig_slot, signum);
  if (rc < 0) {
    bi->sigs[signum] = NULL;
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

static void bi_signal_stop(void *state, void *w) {
  il__bi_t *bi = state;
  il__bi_sig_t *s = w;
  il__bi_sig_unwatch(bi->sig_slot, s->signum);
  bi->sigs[s->signum] = NULL;
  free(s);
}

/* In the child the epoll set and the eventfd are shared with the parent:
 * make new ones and register every watcher again. */
static int bi_fork(void *state) {
  il__bi_t *bi = state;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return il_translate_sys_error(errno);
  bi->poller->fini(bi);
  close(bi->wakefd);
  bi->wakefd = fd;
  atomic_store(&bi->wake_pending, 0);
  int rc = bi->poller->init(bi);
  if (rc < 0)
    return rc;
  for (il__bi_io_t *io = bi->ios; io; io = io->next) {
    rc = bi->poller->add(bi, io);
    if (rc < 0)
      return rc;
  }
  if (bi->sig_slot >= 0)
    il__bi_sig_slot_set_fd(bi->sig_slot, bi->wakefd);
  return 0;
}

#define BUILTIN_OPS(NAME, VERSION, CREATE)                                     \
  {                                                                            \
    .abi_version = IL_BACKEND_ABI_VERSION,                                     \
    .struct_size = sizeof(il_backend_ops_t), .name = NAME,                     \
    .features = IL_BACKEND_F_SIGNALS | IL_BACKEND_F_FORK,                      \
    .engine_version = VERSION, .create = CREATE, .destroy = bi_destroy,        \
    .run = bi_run, .stop = bi_stop, .dispatch_soon = bi_dispatch_soon,         \
    .timer_start = bi_timer_start, .timer_stop = bi_timer_stop,                \
    .wakeup = bi_wakeup, .io_start = bi_io_start, .io_modify = bi_io_modify,   \
    .io_stop = bi_io_stop, .signal_start = bi_signal_start,                    \
    .signal_stop = bi_signal_stop, .fork = bi_fork, .engine_loop = NULL,       \
    .foreign_new = NULL, .foreign_run = NULL, .foreign_free = NULL             \
  }

const il_backend_ops_t il__builtin_ops =
    BUILTIN_OPS("builtin", bi_engine_version, bi_create);
const il_backend_ops_t il__builtin_poll_ops =
    BUILTIN_OPS("builtin-poll", bi_poll_engine_version, bi_poll_create);
