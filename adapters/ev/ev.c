/* adapters/ev/ev.c — the libev backend.
 *
 * Each primitive of backend.h maps onto one libev watcher:
 *   fd watchers     ev_io (level-triggered), one per io_start
 *   the one timer   ev_timer, one-shot, re-armed with a fresh ev_now
 *   dispatch soon   ev_idle (no blocking) + ev_check (dispatch per iteration)
 *   wakeup          ev_async, unreferenced outside ops->run
 *   signals         a process-wide sigaction fan-out (signals.c) sending to a
 *                   second ev_async; libev's ev_signal allows one loop only
 *
 * One iteration of ev_run: prepare watchers, poll (not at all while the idle
 * watcher is active), then every pending callback from the highest priority
 * down. Ours at the default priority only record what happened in the core
 * (host->io / timer / wakeup / signal) and feed the "kick" check watcher,
 * which sits at EV_MINPRI and so runs host->dispatch after every other
 * callback of the same iteration — before the engine can block again. */
#include "ev_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the process-wide registry --------------------------------------------
 * One mutex serialises the list of live states (foreign_free asks whether a
 * state still sits on an engine loop) and signals.c's tables. */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static il__ev_t *attached; /* every live state, through next_attached */

static void atfork_prepare(void) {
  pthread_mutex_lock(&registry_mu);
}
static void atfork_parent(void) {
  pthread_mutex_unlock(&registry_mu);
}
static void atfork_child(void) {
  /* The forking thread took the mutex in atfork_prepare, so the child's
   * copy is held by this very thread and can be released. */
  pthread_mutex_unlock(&registry_mu);
  il__ev_sig_atfork_child();
}

/* Without these, a fork() while another thread holds the mutex would leave
 * it locked forever in the child. */
static void registry_init(void) {
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void il__ev_registry_lock(void) {
  pthread_once(&registry_once, registry_init);
  pthread_mutex_lock(&registry_mu);
}

void il__ev_registry_unlock(void) {
  pthread_mutex_unlock(&registry_mu);
}

static void attach(il__ev_t *st) {
  il__ev_registry_lock();
  st->next_attached = attached;
  attached = st;
  il__ev_registry_unlock();
}

static void detach(il__ev_t *st) {
  il__ev_registry_lock();
  for (il__ev_t **p = &attached; *p; p = &(*p)->next_attached) {
    if (*p == st) {
      *p = st->next_attached;
      break;
    }
  }
  il__ev_registry_unlock();
}

static unsigned attached_to(struct ev_loop *loop) {
  unsigned n = 0;
  il__ev_registry_lock();
  for (il__ev_t *st = attached; st; st = st->next_attached)
    n += st->loop == loop;
  il__ev_registry_unlock();
  return n;
}

/* ---- engine version ------------------------------------------------------ */

static char version_buf[32];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_init(void) {
  /* The library actually loaded, not the header we were built with. */
  snprintf(version_buf, sizeof(version_buf), "libev %d.%d", ev_version_major(),
           ev_version_minor());
}

static const char *il__ev_engine_version(void) {
  pthread_once(&version_once, version_init);
  return version_buf;
}

/* ---- watcher callbacks ----------------------------------------------------
 */

/* Makes host->dispatch run once more in the current invoke phase. kick and
 * soon_check sit at EV_MINPRI, below every watcher of ours, so a pending one
 * runs after the callback that asked for it. */
static inline void need_dispatch(il__ev_t *st) {
  if (ev_is_pending(&st->kick))
    return;
  if (st->soon && ev_is_pending(&st->soon_check))
    return;
  ev_feed_event(st->loop, &st->kick, EV_CUSTOM);
}

static void on_dispatch(struct ev_loop *loop, ev_check *w, int revents) {
  (void)loop;
  (void)revents;
  il__ev_t *st = w->data;
  st->host->dispatch(st->host->core);
}

static void on_soon_idle(struct ev_loop *loop, ev_idle *w, int revents) {
  /* Only its being active matters: it keeps ev_run from blocking. */
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents) {
  (void)loop;
  (void)revents;
  il__ev_t *st = w->data;
  /* Clear the flag before telling the core: a wakeup sent from now on sends
   * the async again; one sent before is covered by this call. */
  atomic_store(&st->wake_pending, 0);
  st->host->wakeup(st->host->core);
  need_dispatch(st);
}

static void on_sig_async(struct ev_loop *loop, ev_async *w, int revents) {
  (void)loop;
  (void)revents;
  il__ev_t *st = w->data;
  if (st->sig_slot < 0)
    return;
  uint64_t pending = il__ev_sig_take_pending(st->sig_slot);
  for (int s = 1; pending && s < IL__EV_NSIG; s++) {
    uint64_t bit = UINT64_C(1) << (unsigned)(s - 1);
    if (!(pending & bit))
      continue;
    pending &= ~bit;
    if (st->sigs[s])
      st->host->signal(st->sigs[s]->ud, s);
  }
  need_dispatch(st);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  il__ev_t *st = w->data;
  /* A non-repeating ev_timer is already stopped when its callback runs. */
  st->host->timer(st->host->core);
  need_dispatch(st);
}

static unsigned to_ev(unsigned events) {
  return ((events & IL_IO_READ) ? EV_READ : 0u) |
         ((events & IL_IO_WRITE) ? EV_WRITE : 0u);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  il__ev_io_t *io = (il__ev_io_t *)w;
  il__ev_t *st = io->st;
  unsigned rev = 0;
  /* libev's epoll backend already reports an error or hang-up as both
   * EV_READ and EV_WRITE, masked by the interest. EV_ERROR means libev
   * found the fd invalid (closed without io_stop) and stopped the watcher:
   * report every watched event so the callback sees the failure, and say
   * why, since level-triggered reports end here. */
  if (revents & EV_ERROR) {
    char msg[128];
    snprintf(msg, sizeof(msg),
             "libev stopped watching fd %d: it is not a valid descriptor "
             "(closed before the reader/writer was removed?)",
             w->fd);
    rev = io->events;
    st->host->report(st->host->core, IL_EBADF, msg);
  }
  if (revents & EV_READ)
    rev |= IL_IO_READ;
  if (revents & EV_WRITE)
    rev |= IL_IO_WRITE;
  rev &= io->events;
  if (rev)
    st->host->io(io->ud, rev);
  need_dispatch(st);
}

/* ---- lifecycle --------------------------------------------------------------
 */

static int il__ev_create(const il_backend_host_t *host, void *engine_loop,
                         void **state) {
  if (!host || !state)
    return IL_EINVAL;
  if (IL_BACKEND_ABI_MAJOR_OF(host->abi_version) != IL_BACKEND_ABI_MAJOR)
    return IL_EBACKENDABI;
  il__ev_t *st = calloc(1, sizeof(*st));
  if (!st)
    return IL_ENOMEM;
  st->host = host;
  st->sig_slot = -1;
  atomic_init(&st->wake_pending, 0);
  if (engine_loop) {
    st->loop = engine_loop;
  } else {
    /* A loop of our own, never the default loop: that one belongs to the
     * application (and installs a SIGCHLD handler). */
    errno = 0;
    st->loop = ev_loop_new(EVFLAG_AUTO);
    if (!st->loop) {
      int err = errno;
      free(st);
      return err ? il__ev_sys_error(err) : IL_ENOMEM;
    }
    st->owned = 1;
  }

  ev_async_init(&st->wake, on_wake);
  st->wake.data = st;
  ev_async_init(&st->sig_async, on_sig_async);
  st->sig_async.data = st;
  ev_idle_init(&st->soon_idle, on_soon_idle);
  ev_set_priority(&st->soon_idle, EV_MINPRI);
  st->soon_idle.data = st;
  ev_check_init(&st->soon_check, on_dispatch);
  ev_set_priority(&st->soon_check, EV_MINPRI);
  st->soon_check.data = st;
  ev_check_init(&st->kick, on_dispatch);
  ev_set_priority(&st->kick, EV_MINPRI);
  st->kick.data = st;
  ev_timer_init(&st->timer, on_timer, 0., 0.);
  st->timer.data = st;

  /* The wakeup must work while the application drives the loop, so it is
   * started now; unreferenced, it never keeps ev_run alive on its own. */
  ev_async_start(st->loop, &st->wake);
  ev_unref(st->loop);

  attach(st);
  *state = st;
  return 0;
}

static void il__ev_destroy(void *state) {
  il__ev_t *st = state;
  struct ev_loop *loop = st->loop;
  /* The core stops every io and signal watcher first; anything left is
   * stopped here anyway, so an adopted loop never keeps a pointer into
   * freed memory. */
  while (st->ios) {
    il__ev_io_t *io = st->ios;
    st->ios = io->next;
    ev_io_stop(loop, &io->w);
    free(io);
  }
  if (st->sig_slot >= 0) {
    il__ev_sig_slot_release(st->sig_slot);
    st->sig_slot = -1;
  }
  for (int s = 1; s < IL__EV_NSIG; s++) {
    free(st->sigs[s]);
    st->sigs[s] = NULL;
  }
  /* ev_*_stop also drops a pending event; kick is never started, so its
   * pending event (if any) is dropped explicitly. */
  ev_async_stop(loop, &st->sig_async);
  ev_idle_stop(loop, &st->soon_idle);
  ev_check_stop(loop, &st->soon_check);
  ev_clear_pending(loop, &st->kick);
  ev_timer_stop(loop, &st->timer);
  /* Give back the reference ev_unref took, then stop: ev_ref/ev_unref
   * around an unreferenced watcher must balance. */
  if (!st->wake_refd)
    ev_ref(loop);
  ev_async_stop(loop, &st->wake);
  detach(st);
  if (st->owned)
    ev_loop_destroy(loop);
  free(st);
}

/* ---- running
 * ------------------------------------------------------------------ */

static int il__ev_run(void *state, int mode) {
  il__ev_t *st = state;
  int flags;
  switch (mode) {
  case IL_RUN_DEFAULT:
    flags = 0;
    break;
  case IL_RUN_ONCE:
    flags = EVRUN_ONCE;
    break;
  case IL_RUN_NOWAIT:
    flags = EVRUN_NOWAIT;
    break;
  default:
    return IL_EINVAL;
  }
  /* interloop never runs the engine from inside the application's own
   * callbacks (an adopted loop whose ev_run is on the stack). */
  if (ev_depth(st->loop) > 0)
    return IL_ERUNNING;
  st->stop = 0;
  /* While interloop runs the loop, the wakeup watcher counts as active:
   * DEFAULT must run until ops->stop, and ONCE must block for a wakeup,
   * even when nothing else is active. */
  ev_ref(st->loop);
  st->wake_refd = 1;
  if (mode == IL_RUN_DEFAULT) {
    /* ev_run returns after ev_break (ops->stop); an application callback's
     * own ev_break does not end an interloop run. */
    while (!st->stop)
      ev_run(st->loop, 0);
  } else {
    ev_run(st->loop, flags);
  }
  ev_unref(st->loop);
  st->wake_refd = 0;
  st->stop = 0;
  return 0;
}

static void il__ev_stop(void *state) {
  il__ev_t *st = state;
  st->stop = 1;
  ev_break(st->loop, EVBREAK_ONE);
}

static void il__ev_dispatch_soon(void *state, int on) {
  il__ev_t *st = state;
  on = on != 0;
  if (on == st->soon)
    return;
  st->soon = on;
  /* Both referenced: while the core has ready callbacks, an application's
   * ev_run keeps going, as it would for a native idle watcher. */
  if (on) {
    ev_idle_start(st->loop, &st->soon_idle);
    ev_check_start(st->loop, &st->soon_check);
  } else {
    ev_idle_stop(st->loop, &st->soon_idle);
    ev_check_stop(st->loop, &st->soon_check);
  }
}

/* ---- timer
 * -------------------------------------------------------------------- */

/* libev keeps CLOCK_MONOTONIC (the core's clock) as a double of seconds and
 * fires a timer once that clock is past mn_now + after. The timeout is
 * rounded up to a whole microsecond and one more is added: that covers the
 * double's rounding (about 2 ns after 100 days of uptime), so the engine
 * never fires before the core's deadline and the core never has to re-arm
 * for a few nanoseconds. A zero timeout stays zero: the deadline has passed,
 * and libev then polls without waiting. Timeouts under libev's epoll
 * granularity (1 ms) wait that millisecond, never spin. */
static ev_tstamp ns_to_after(uint64_t ns) {
  if (ns == 0)
    return 0.;
  uint64_t us = ns / 1000u + (ns % 1000u != 0) + 1u;
  return (ev_tstamp)us * 1e-6;
}

static void il__ev_timer_start(void *state, uint64_t timeout_ns) {
  il__ev_t *st = state;
  ev_timer_stop(st->loop, &st->timer);
  /* ev_timer counts from the time cached at the start of the iteration;
   * refresh it, or the timer would fire early by the time spent since. */
  ev_now_update(st->loop);
  ev_timer_set(&st->timer, ns_to_after(timeout_ns), 0.);
  ev_timer_start(st->loop, &st->timer);
}

static void il__ev_timer_stop(void *state) {
  il__ev_t *st = state;
  ev_timer_stop(st->loop, &st->timer);
}

/* ---- wakeup
 * ------------------------------------------------------------------- */

static void il__ev_wakeup(void *state) {
  il__ev_t *st = state;
  /* ev_async_send is thread-safe; the flag just spares it to concurrent
   * callers once a wakeup is on its way. */
  if (atomic_exchange(&st->wake_pending, 1) == 0)
    ev_async_send(st->loop, &st->wake);
}

/* ---- fd watchers
 * ---------------------------------------------------------------- */

static int il__ev_io_start(void *state, int fd, unsigned events, void *ud,
                           void **out) {
  il__ev_t *st = state;
  if (!out || events == 0 || (events & ~(IL_IO_READ | IL_IO_WRITE)))
    return IL_EINVAL;
  /* libev reports a bad fd only later, from its poll (EV_ERROR): check now
   * so the caller gets the error. */
  if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    return IL_EBADF;
  il__ev_io_t *io = malloc(sizeof(*io));
  if (!io)
    return IL_ENOMEM;
  ev_io_init(&io->w, on_io, fd, (int)to_ev(events));
  io->st = st;
  io->ud = ud;
  io->events = events;
  ev_io_start(st->loop, &io->w);
  io->prev = NULL;
  io->next = st->ios;
  if (st->ios)
    st->ios->prev = io;
  st->ios = io;
  *out = io;
  return 0;
}

static int il__ev_io_modify(void *state, void *w, unsigned events) {
  il__ev_t *st = state;
  il__ev_io_t *io = w;
  if (events == 0 || (events & ~(IL_IO_READ | IL_IO_WRITE)))
    return IL_EINVAL;
  /* libev changes an ev_io's events only while it is stopped. Stopping drops
   * an event already pending for this iteration; keep what is still wanted
   * so the change loses no readiness report. */
  int pending = ev_clear_pending(st->loop, &io->w);
  ev_io_stop(st->loop, &io->w);
  ev_io_modify(&io->w, (int)to_ev(events));
  ev_io_start(st->loop, &io->w);
  io->events = events;
  pending &= (int)to_ev(events);
  if (pending)
    ev_feed_event(st->loop, &io->w, pending);
  return 0;
}

static void il__ev_io_stop(void *state, void *w) {
  il__ev_t *st = state;
  il__ev_io_t *io = w;
  /* Also drops an event pending for later in this iteration: host->io is
   * never called for a stopped watcher. */
  ev_io_stop(st->loop, &io->w);
  if (io->prev)
    io->prev->next = io->next;
  else
    st->ios = io->next;
  if (io->next)
    io->next->prev = io->prev;
  free(io);
}

/* ---- signals
 * ---------------------------------------------------------------------- */

static int il__ev_signal_start(void *state, int signum, void *ud, void **out) {
  il__ev_t *st = state;
  if (signum <= 0 || signum >= IL__EV_NSIG || !out)
    return IL_EINVAL;
  if (st->sigs[signum])
    return IL_EINVAL; /* the core starts one watcher per signal per loop */
  il__ev_sig_t *s = malloc(sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  s->signum = signum;
  s->ud = ud;
  if (st->sig_slot < 0) {
    /* The async must be started before the handler can send to it. */
    ev_async_start(st->loop, &st->sig_async);
    int slot = il__ev_sig_slot_claim(st->loop, &st->sig_async);
    if (slot < 0) {
      ev_async_stop(st->loop, &st->sig_async);
      free(s);
      return slot;
    }
    st->sig_slot = slot;
  }
  st->sigs[signum] = s;
  int rc = il__ev_sig_watch(st->sig_slot, signum);
  if (rc < 0) {
    st->sigs[signum] = NULL;
    free(s);
    if (st->nsigs == 0) {
      il__ev_sig_slot_release(st->sig_slot);
      st->sig_slot = -1;
      ev_async_stop(st->loop, &st->sig_async);
    }
    return rc;
  }
  st->nsigs++;
  *out = s;
  return 0;
}

static void il__ev_signal_stop(void *state, void *w) {
  il__ev_t *st = state;
  il__ev_sig_t *s = w;
  il__ev_sig_unwatch(st->sig_slot, s->signum);
  st->sigs[s->signum] = NULL;
  free(s);
  if (--st->nsigs == 0) {
    /* No handler touches the async once the slot is released. */
    il__ev_sig_slot_release(st->sig_slot);
    st->sig_slot = -1;
    ev_async_stop(st->loop, &st->sig_async);
  }
}

/* ---- fork
 * ---------------------------------------------------------------------------
 */

static int il__ev_fork(void *state) {
  il__ev_t *st = state;
  /* libev re-creates its epoll set and its wakeup pipe, and registers every
   * started watcher again, at the start of the next iteration. */
  ev_loop_fork(st->loop);
  /* A wakeup the parent had under way may have belonged to a thread that
   * does not exist here: reset the flag and deliver one wakeup from the
   * child's own memory (no write to the pipe still shared with the parent),
   * so the core drains whatever its thread-safe queue holds. */
  atomic_store(&st->wake_pending, 1);
  ev_feed_event(st->loop, &st->wake, EV_ASYNC);
  return 0;
}

static void *il__ev_engine_loop(void *state) {
  return ((il__ev_t *)state)->loop;
}

/* ---- adopted-mode test hooks
 * ---------------------------------------------------------- */

static int il__ev_foreign_new(void **engine_loop) {
  if (!engine_loop)
    return IL_EINVAL;
  errno = 0;
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (!loop)
    return errno ? il__ev_sys_error(errno) : IL_ENOMEM;
  *engine_loop = loop;
  return 0;
}

static int il__ev_foreign_run(void *engine_loop, int mode) {
  if (!engine_loop)
    return IL_EINVAL;
  int flags = mode == IL_RUN_ONCE     ? EVRUN_ONCE
              : mode == IL_RUN_NOWAIT ? EVRUN_NOWAIT
                                      : 0;
  ev_run(engine_loop, flags);
  return 0;
}

static void probe_break(struct ev_loop *loop, ev_prepare *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ONE);
}

/* The engine's own count of active, referenced watchers. ev_run returns it;
 * a prepare watcher that breaks at once makes that a pure query: the
 * iteration ends before fd changes, the poll, timers, idle and check
 * watchers are processed, so no other watcher is touched. */
static int active_watchers(struct ev_loop *loop) {
  ev_prepare probe;
  ev_prepare_init(&probe, probe_break);
  ev_prepare_start(loop, &probe);
  ev_unref(loop); /* the probe itself does not count */
  int n = ev_run(loop, EVRUN_NOWAIT);
  ev_ref(loop);
  ev_prepare_stop(loop, &probe);
  return n;
}

static int il__ev_foreign_free(void *engine_loop) {
  struct ev_loop *loop = engine_loop;
  if (!loop)
    return IL_EINVAL;
  /* A state still attached holds the loop: freeing it would leave that
   * state dangling. */
  if (attached_to(loop))
    return IL_EBUSY;
  /* Clean means: no event queued for a watcher (a pending one of ours would
   * point into freed memory), and no active referenced watcher, which is
   * every watcher interloop starts except the wakeup async — and that one
   * lives exactly as long as its state, checked above. */
  if (ev_depth(loop) > 0)
    return IL_EBUSY; /* called from inside its own ev_run: cannot free */
  int clean = ev_pending_count(loop) == 0;
  if (clean)
    clean = active_watchers(loop) == 0;
  ev_loop_destroy(loop);
  return clean ? 0 : IL_EBUSY;
}

const il_backend_ops_t il__ev_ops = {
    .abi_version = IL_BACKEND_ABI_VERSION,
    .struct_size = sizeof(il_backend_ops_t),
    .name = "ev",
    .features = IL_BACKEND_F_ADOPT | IL_BACKEND_F_SIGNALS | IL_BACKEND_F_FORK,
    .engine_version = il__ev_engine_version,
    .create = il__ev_create,
    .destroy = il__ev_destroy,
    .run = il__ev_run,
    .stop = il__ev_stop,
    .dispatch_soon = il__ev_dispatch_soon,
    .timer_start = il__ev_timer_start,
    .timer_stop = il__ev_timer_stop,
    .wakeup = il__ev_wakeup,
    .io_start = il__ev_io_start,
    .io_modify = il__ev_io_modify,
    .io_stop = il__ev_io_stop,
    .signal_start = il__ev_signal_start,
    .signal_stop = il__ev_signal_stop,
    .fork = il__ev_fork,
    .engine_loop = il__ev_engine_loop,
    .foreign_new = il__ev_foreign_new,
    .foreign_run = il__ev_foreign_run,
    .foreign_free = il__ev_foreign_free,
};
