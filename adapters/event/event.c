/* adapters/event/event.c — the libevent backend.
 *
 * Every event of the adapter lives in one libevent priority queue (the
 * base's middle priority, which is also libevent's default), so that within
 * one iteration they run in the order libevent activated them: fd events
 * (from the poll), then timers (zero-timeout "soon" first if due), then
 * whatever those callbacks activate. libevent runs only the highest-priority
 * non-empty queue per iteration and keeps running a queue until it is empty,
 * which decides the two dispatch mechanisms:
 *   - disp_ev, never added, only event_active()d by our fd, timer, wakeup and
 *     signal callbacks: it joins the tail of the queue being processed, so
 *     host->dispatch runs after what was reported, before the base polls
 *     again;
 *   - soon_ev, a zero-timeout timer added while dispatch_soon is on: it is
 *     due at the next iteration, which keeps that poll from blocking and
 *     calls host->dispatch there. Re-activating disp_ev from its own
 *     dispatch instead would run it again in the same queue pass, forever,
 *     without polling.
 * The core's timer is one evtimer, checked against CLOCK_MONOTONIC when it
 * fires (see on_timer); the thread-safe wakeup is an eventfd. */
#include "event_internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Longest single engine timeout: a longer deadline is reached by re-arming
 * when this one fires, so libevent never adds a huge timeval to its clock. */
#define MAX_ARM_US (UINT64_C(86400) * 1000000u)
/* Largest lag of the engine's clock behind CLOCK_MONOTONIC the adapter
 * compensates for (a coarse clock is a few ms behind at most). */
#define MAX_LAG_US UINT64_C(50000)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The plugin must not link libinterloop (il_translate_sys_error): IL_E*
 * codes that mirror errno are the negated Linux values. */
static int sys_error(int err) {
  return err > 0 ? -err : IL_EIO;
}

/* Assigns an event of ours: our priority (event_assign resets it to the
 * base's default), and for the wakeup the internal flag, which makes
 * libevent not count it as a reason to keep looping. */
static int assign(il__event_t *st, struct event *ev, int fd, short what,
                  event_callback_fn cb, void *arg, int internal) {
  if (IL__EV(event_assign)(ev, st->base, fd, what, cb, arg) < 0)
    return IL_EINVAL;
  if (IL__EV(event_priority_set)(ev, st->priority) < 0)
    return IL_EINVAL;
  if (internal)
    ev->ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
  return 0;
}

/* ---- engine version --------------------------------------------------------
 */

static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static char version[160];

static void make_version(void) {
  if (il__event_api_load() == 0)
    snprintf(version, sizeof(version), "libevent %s",
             IL__EV(event_get_version)());
  else
    snprintf(version, sizeof(version), "libevent (unusable: %s)",
             il__event_api_error());
}

static const char *ev_engine_version(void) {
  pthread_once(&version_once, make_version);
  return version;
}

/* ---- dispatch ------------------------------------------------------------ */

/* soon_ev follows st->soon. `rearm`: called right after a dispatch, when a
 * soon_ev already due in this iteration must move to the next one. */
static void sync_soon(il__event_t *st, int rearm) {
  if (st->soon && (rearm || !st->soon_armed)) {
    static const struct timeval zero = {0, 0};
    /* Re-adding a timed-out event takes it off the active queue too. */
    IL__EV(event_add)(&st->soon_ev, &zero);
    st->soon_armed = 1;
  } else if (!st->soon && st->soon_armed) {
    IL__EV(event_del)(&st->soon_ev);
    st->soon_armed = 0;
  }
}

static void run_dispatch(il__event_t *st) {
  /* This dispatch covers everything reported so far in the iteration. */
  if (st->disp_active) {
    IL__EV(event_del)(&st->disp_ev);
    st->disp_active = 0;
  }
  st->in_dispatch = 1;
  st->host->dispatch(st->host->core);
  st->in_dispatch = 0;
  sync_soon(st, 1);
}

/* After host->io/timer/wakeup/signal: dispatch before the base polls again. */
static void request_dispatch(il__event_t *st) {
  if (!st->disp_active) {
    st->disp_active = 1;
    IL__EV(event_active)(&st->disp_ev, EV_TIMEOUT, 1);
  }
}

static void on_disp(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(fd);
  IL__EVENT_UNUSED(what);
  il__event_t *st = arg;
  st->disp_active = 0;
  run_dispatch(st);
}

static void on_soon(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(fd);
  IL__EVENT_UNUSED(what);
  il__event_t *st = arg;
  st->soon_armed = 0; /* a one-shot timer is no longer pending */
  run_dispatch(st);
}

static void ev_dispatch_soon(void *state, int on) {
  il__event_t *st = state;
  st->soon = on != 0;
  /* Inside a dispatch, run_dispatch() syncs when it returns. */
  if (!st->in_dispatch)
    sync_soon(st, 0);
}

/* ---- the timer ------------------------------------------------------------
 */

/* Arms timer_ev for timeout_ns, rounded up to libevent's microseconds, plus
 * one microsecond because libevent truncates its clock to microseconds, plus
 * the lag its clock was seen to have (a base without
 * EVENT_BASE_FLAG_PRECISE_TIMER reads CLOCK_MONOTONIC_COARSE). The cached
 * time is refreshed first: inside a callback it is the time the iteration
 * began, which would make the timer early by the callbacks' run time. */
static void arm_timer(il__event_t *st, uint64_t timeout_ns) {
  struct timeval tv = {0, 0};
  if (timeout_ns) {
    uint64_t us = (timeout_ns + 999u) / 1000u + 1u + st->clock_lag_us;
    if (us > MAX_ARM_US)
      us = MAX_ARM_US;
    tv.tv_sec = (time_t)(us / 1000000u);
    tv.tv_usec = (suseconds_t)(us % 1000000u);
  }
  IL__EV(event_base_update_cache_time)(st->base);
  IL__EV(event_add)(&st->timer_ev, &tv);
}

/* libevent fires a timer by its own clock, which may run behind
 * CLOCK_MONOTONIC (the coarse clock, or a capped long timeout). An early
 * fire is never reported: the timer is re-armed for the rest, and the lag
 * is remembered so the next arming allows for it. */
static void on_timer(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(fd);
  IL__EVENT_UNUSED(what);
  il__event_t *st = arg;
  if (!st->timer_on)
    return;
  uint64_t now = now_ns();
  if (now < st->timer_deadline) {
    uint64_t rest = st->timer_deadline - now;
    uint64_t early_us = (rest + 999u) / 1000u;
    if (early_us > st->clock_lag_us && early_us <= MAX_LAG_US)
      st->clock_lag_us = early_us;
    arm_timer(st, rest);
    return;
  }
  st->timer_on = 0;
  st->host->timer(st->host->core);
  request_dispatch(st);
}

static void ev_timer_start(void *state, uint64_t timeout_ns) {
  il__event_t *st = state;
  uint64_t now = now_ns();
  st->timer_on = 1;
  st->timer_deadline =
      timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
  arm_timer(st, timeout_ns);
}

static void ev_timer_stop(void *state) {
  il__event_t *st = state;
  st->timer_on = 0;
  IL__EV(event_del)(&st->timer_ev);
}

/* ---- the thread-safe wakeup ---------------------------------------------- */

static void drain(int fd) {
  uint64_t v;
  ssize_t r = read(fd, &v, sizeof(v));
  (void)r; /* EAGAIN: nothing to drain */
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(what);
  il__event_t *st = arg;
  drain(fd);
  /* Clear the flag before telling the core: a wakeup sent from now on writes
   * the eventfd again; one sent before is covered by this callback. */
  atomic_store(&st->wake_pending, 0);
  st->host->wakeup(st->host->core);
  request_dispatch(st);
}

/* Any thread. Only an eventfd write, no libevent call: libevent is not
 * thread-safe without evthread_use_pthreads(), which is process-wide. */
static void ev_wakeup(void *state) {
  il__event_t *st = state;
  if (atomic_exchange(&st->wake_pending, 1) == 0) {
    uint64_t one = 1;
    ssize_t r = write(st->wakefd, &one, sizeof(one));
    (void)r; /* EAGAIN only when the counter is full: already readable */
  }
}

/* ---- fd watchers ----------------------------------------------------------
 */

static short to_libevent(unsigned events) {
  return (short)(((events & IL_IO_READ) ? EV_READ : 0) |
                 ((events & IL_IO_WRITE) ? EV_WRITE : 0) | EV_PERSIST);
}

/* libevent's epoll backend reports an error or hang-up as EV_READ|EV_WRITE,
 * so the watcher sees every event it is interested in. Level-triggered: a
 * persistent event without EV_ET is reported every iteration while ready. */
static void on_io(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(fd);
  il__event_io_t *io = arg;
  il__event_t *st = io->st;
  unsigned rev = ((what & EV_READ) ? IL_IO_READ : 0u) |
                 ((what & EV_WRITE) ? IL_IO_WRITE : 0u);
  rev &= io->events;
  if (rev)
    st->host->io(io->ud, rev);
  request_dispatch(st);
}

static int io_arm(il__event_t *st, il__event_io_t *io, unsigned events) {
  int rc = assign(st, &io->ev, io->fd, to_libevent(events), on_io, io, 0);
  if (rc < 0)
    return rc;
  errno = 0;
  if (IL__EV(event_add)(&io->ev, NULL) < 0)
    return sys_error(errno);
  return 0;
}

static int ev_io_start(void *state, int fd, unsigned events, void *ud,
                       void **out) {
  il__event_t *st = state;
  il__event_io_t *io = calloc(1, sizeof(*io));
  if (!io)
    return IL_ENOMEM;
  io->st = st;
  io->fd = fd;
  io->events = events;
  io->ud = ud;
  int rc = io_arm(st, io, events);
  if (rc < 0) {
    free(io);
    return rc;
  }
  io->next = st->ios;
  if (st->ios)
    st->ios->prev = io;
  st->ios = io;
  *out = io;
  return 0;
}

/* A pending event's interest cannot change in place: delete, re-assign,
 * add. */
static int ev_io_modify(void *state, void *w, unsigned events) {
  il__event_t *st = state;
  il__event_io_t *io = w;
  if (events == io->events)
    return 0;
  IL__EV(event_del)(&io->ev);
  int rc = io_arm(st, io, events);
  if (rc < 0) {
    /* Keep the watcher as it was, so the core's view stays true. */
    if (io_arm(st, io, io->events) < 0)
      st->host->report(st->host->core, rc,
                       "libevent: an fd watcher could be neither changed nor "
                       "restored");
    return rc;
  }
  io->events = events;
  return 0;
}

/* event_del also takes the event off the active queue, so it is not
 * reported later in this iteration. */
static void ev_io_stop(void *state, void *w) {
  il__event_t *st = state;
  il__event_io_t *io = w;
  IL__EV(event_del)(&io->ev);
  IL__EV(event_debug_unassign)(&io->ev); /* libevent's debug mode forgets it */
  if (io->prev)
    io->prev->next = io->next;
  else
    st->ios = io->next;
  if (io->next)
    io->next->prev = io->prev;
  free(io);
}

/* ---- signals --------------------------------------------------------------
 */

static void on_sig(evutil_socket_t fd, short what, void *arg) {
  IL__EVENT_UNUSED(what);
  il__event_t *st = arg;
  drain(fd);
  uint64_t pending = il__event_sig_take(st->sig_slot);
  for (int s = 1; pending && s < IL__EVENT_NSIG; s++) {
    uint64_t b = UINT64_C(1) << (unsigned)(s - 1);
    if (!(pending & b))
      continue;
    pending &= ~b;
    if (st->sigs[s])
      st->host->signal(st->sigs[s]->ud, s);
  }
  request_dispatch(st);
}

/* The first signal watcher of a loop gives it an eventfd, a delivery slot
 * and sig_ev. sig_ev is an ordinary (counted) event while the loop watches
 * a signal, so, like a native evsignal, it keeps an application's loop
 * alive. */
static int sig_setup(il__event_t *st) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return sys_error(errno);
  int rc = assign(st, &st->sig_ev, fd, EV_READ | EV_PERSIST, on_sig, st, 0);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  int slot = il__event_sig_slot_claim(fd);
  if (slot < 0) {
    close(fd);
    return slot;
  }
  st->sigfd = fd;
  st->sig_slot = slot;
  return 0;
}

static int ev_signal_start(void *state, int signum, void *ud, void **out) {
  il__event_t *st = state;
  if (signum <= 0 || signum >= IL__EVENT_NSIG)
    return IL_EINVAL;
  if (st->sigs[signum])
    return IL_EEXIST; /* the core starts one watcher per signal */
  int rc;
  if (st->sig_slot < 0 && (rc = sig_setup(st)) < 0)
    return rc;
  il__event_sig_t *s = malloc(sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  s->signum = signum;
  s->ud = ud;
  if (st->nsigs == 0 && IL__EV(event_add)(&st->sig_ev, NULL) < 0) {
    free(s);
    return IL_EIO;
  }
  rc = il__event_sig_watch(st->sig_slot, signum);
  if (rc < 0) {
    if (st->nsigs == 0)
      IL__EV(event_del)(&st->sig_ev);
    free(s);
    return rc;
  }
  st->sigs[signum] = s;
  st->nsigs++;
  *out = s;
  return 0;
}

static void ev_signal_stop(void *state, void *w) {
  il__event_t *st = state;
  il__event_sig_t *s = w;
  il__event_sig_unwatch(st->sig_slot, s->signum);
  st->sigs[s->signum] = NULL;
  free(s);
  if (--st->nsigs == 0)
    IL__EV(event_del)(&st->sig_ev);
}

/* ---- lifecycle ------------------------------------------------------------
 */

static void ev_destroy(void *state);

static int ev_create(const il_backend_host_t *host, void *engine_loop,
                     void **state) {
  int rc = il__event_api_load();
  if (rc < 0) {
    host->report(host->core, rc, il__event_api_error());
    return rc;
  }
  il__event_t *st = calloc(1, sizeof(*st));
  if (!st)
    return IL_ENOMEM;
  st->host = host;
  st->wakefd = st->sigfd = st->sig_slot = -1;
  atomic_init(&st->wake_pending, 0);
  if (engine_loop) {
    st->base = engine_loop;
  } else {
    /* A precise clock (CLOCK_MONOTONIC, and a timerfd in the epoll
     * backend) for sub-millisecond timers; libevent's default is
     * CLOCK_MONOTONIC_COARSE. */
    struct event_config *cfg = IL__EV(event_config_new)();
    if (!cfg) {
      free(st);
      return IL_ENOMEM;
    }
    IL__EV(event_config_set_flag)(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    st->base = IL__EV(event_base_new_with_config)(cfg);
    IL__EV(event_config_free)(cfg);
    if (!st->base) {
      free(st);
      return IL_ENOMEM;
    }
    st->owned = 1;
  }
  int npri = IL__EV(event_base_get_npriorities)(st->base);
  st->priority = npri > 0 ? npri / 2 : 0;
  /* Every event is assigned before the first failure can reach
   * ev_destroy(), which deletes them all. */
  st->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (st->wakefd < 0) {
    rc = sys_error(errno);
    if (st->owned)
      IL__EV(event_base_free)(st->base);
    free(st);
    return rc;
  }
  if ((rc = assign(st, &st->disp_ev, -1, 0, on_disp, st, 0)) < 0 ||
      (rc = assign(st, &st->soon_ev, -1, 0, on_soon, st, 0)) < 0 ||
      (rc = assign(st, &st->timer_ev, -1, 0, on_timer, st, 0)) < 0 ||
      (rc = assign(st, &st->wake_ev, st->wakefd, EV_READ | EV_PERSIST, on_wake,
                   st, 1)) < 0) {
    close(st->wakefd);
    if (st->owned)
      IL__EV(event_base_free)(st->base);
    free(st);
    return rc;
  }
  if (IL__EV(event_add)(&st->wake_ev, NULL) < 0) {
    ev_destroy(st);
    return IL_EIO;
  }
  *state = st;
  return 0;
}

static void ev_destroy(void *state) {
  il__event_t *st = state;
  /* The core stopped every watcher and the timer; these are ours. */
  while (st->ios)
    ev_io_stop(st, st->ios);
  IL__EV(event_del)(&st->disp_ev);
  IL__EV(event_del)(&st->soon_ev);
  IL__EV(event_del)(&st->timer_ev);
  IL__EV(event_del)(&st->wake_ev);
  IL__EV(event_debug_unassign)(&st->disp_ev);
  IL__EV(event_debug_unassign)(&st->soon_ev);
  IL__EV(event_debug_unassign)(&st->timer_ev);
  IL__EV(event_debug_unassign)(&st->wake_ev);
  if (st->sig_slot >= 0) {
    for (int s = 1; s < IL__EVENT_NSIG; s++)
      if (st->sigs[s])
        ev_signal_stop(st, st->sigs[s]);
    IL__EV(event_del)(&st->sig_ev);
    IL__EV(event_debug_unassign)(&st->sig_ev);
    il__event_sig_slot_release(st->sig_slot);
    close(st->sigfd);
  }
  close(st->wakefd);
  if (st->owned)
    IL__EV(event_base_free)(st->base);
  free(st);
}

/* ---- running --------------------------------------------------------------
 */

/* EVLOOP_NO_EXIT_ON_EMPTY: run() waits for its wakeup (an internal event)
 * even when nothing else is pending. EVLOOP_ONCE ends the call after the
 * iteration that ran a callback (libevent iterates again only while events
 * stay active, e.g. in a lower-priority queue, or when the only thing that
 * happened was one of libevent's internal events). */
static int ev_run(void *state, int mode) {
  il__event_t *st = state;
  int flags = EVLOOP_NO_EXIT_ON_EMPTY;
  if (mode == IL_RUN_ONCE)
    flags |= EVLOOP_ONCE;
  else if (mode == IL_RUN_NOWAIT)
    flags |= EVLOOP_ONCE | EVLOOP_NONBLOCK;
  st->stop = 0;
  int rc = 0;
  do {
    errno = 0;
    if (IL__EV(event_base_loop)(st->base, flags) < 0) {
      /* libevent refuses a loop on a base that is already looping (the
       * application called il_loop_run from one of its own callbacks)
       * without setting errno; a failed poll sets it. */
      rc = errno ? sys_error(errno) : IL_ERUNNING;
      break;
    }
    /* An application's event_base_loopbreak/loopexit inside our run ends
     * event_base_loop early; IL_RUN_DEFAULT goes on until ops->stop. */
  } while (mode == IL_RUN_DEFAULT && !st->stop);
  st->stop = 0;
  return rc;
}

/* Called by the core from inside host->dispatch, so inside run(): the
 * break takes effect when the current callback returns. Events still active
 * stay queued for the next run. */
static void ev_stop(void *state) {
  il__event_t *st = state;
  st->stop = 1;
  IL__EV(event_base_loopbreak)(st->base);
}

/* ---- fork -----------------------------------------------------------------
 */

/* After event_reinit (new epoll set, every event re-registered), the wakeup
 * and signal eventfds are still shared with the parent: replace them. */
static int replace_fd(il__event_t *st, struct event *ev, int *fdp,
                      event_callback_fn cb, int internal, int add) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return sys_error(errno);
  IL__EV(event_del)(ev);
  close(*fdp);
  *fdp = fd;
  int rc = assign(st, ev, fd, EV_READ | EV_PERSIST, cb, st, internal);
  if (rc < 0)
    return rc;
  if (add && IL__EV(event_add)(ev, NULL) < 0)
    return IL_EIO;
  return 0;
}

static int ev_fork(void *state) {
  il__event_t *st = state;
  if (IL__EV(event_reinit)(st->base) < 0)
    return IL_EIO;
  int rc = replace_fd(st, &st->wake_ev, &st->wakefd, on_wake, 1, 1);
  if (rc < 0)
    return rc;
  atomic_store(&st->wake_pending, 0);
  if (st->sig_slot >= 0) {
    rc = replace_fd(st, &st->sig_ev, &st->sigfd, on_sig, 0, st->nsigs > 0);
    if (rc < 0)
      return rc;
    il__event_sig_slot_set_fd(st->sig_slot, st->sigfd);
  }
  return 0;
}

static void *ev_engine_loop(void *state) {
  return ((il__event_t *)state)->base;
}

/* ---- adopted-mode test hooks ----------------------------------------------
 */

/* An application's base: libevent's defaults (coarse clock included). */
static int ev_foreign_new(void **engine_loop) {
  int rc = il__event_api_load();
  if (rc < 0)
    return rc;
  struct event_base *base = IL__EV(event_base_new)();
  if (!base)
    return IL_ENOMEM;
  *engine_loop = base;
  return 0;
}

/* As an application runs its loop. DEFAULT: event_base_dispatch(), which
 * returns once no counted event is left (interloop's idle wakeup is not
 * one). ONCE and NOWAIT stand for an application that calls the loop
 * repeatedly and keeps it alive with watchers of its own: libevent's
 * EVLOOP_NO_EXIT_ON_EMPTY says just that, so the call polls (and hears a
 * thread-safe wakeup) even when interloop has nothing else pending, where
 * plain EVLOOP_ONCE would return at once without polling. NOWAIT is one
 * non-blocking round: EVLOOP_NONBLOCK alone would go on for as long as a
 * level-triggered fd stays ready. */
static int ev_foreign_run(void *engine_loop, int mode) {
  int flags = 0;
  if (mode == IL_RUN_ONCE)
    flags = EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY;
  else if (mode == IL_RUN_NOWAIT)
    flags = EVLOOP_ONCE | EVLOOP_NONBLOCK | EVLOOP_NO_EXIT_ON_EMPTY;
  errno = 0;
  if (IL__EV(event_base_loop)(engine_loop, flags) < 0)
    return errno ? sys_error(errno) : IL_ERUNNING;
  return 0;
}

static int count_internal(const struct event_base *base, const struct event *ev,
                          void *arg) {
  IL__EVENT_UNUSED(base);
  if (ev->ev_evcallback.evcb_flags & EVLIST_INTERNAL)
    ++*(int *)arg;
  return 0;
}

/* Clean means no event at all: counted ones (added, active, virtual) and
 * internal ones such as the adapter's wakeup, which the counters skip. */
static int ev_foreign_free(void *engine_loop) {
  struct event_base *base = engine_loop;
  int n = IL__EV(event_base_get_num_events)(base, EVENT_BASE_COUNT_ADDED |
                                                      EVENT_BASE_COUNT_ACTIVE |
                                                      EVENT_BASE_COUNT_VIRTUAL);
  IL__EV(event_base_foreach_event)(base, count_internal, &n);
  IL__EV(event_base_free)(base);
  return n ? IL_EBUSY : 0;
}

const il_backend_ops_t il__event_ops = {
    .abi_version = IL_BACKEND_ABI_VERSION,
    .struct_size = sizeof(il_backend_ops_t),
    .name = "event",
    .features = IL_BACKEND_F_ADOPT | IL_BACKEND_F_SIGNALS | IL_BACKEND_F_FORK,
    .engine_version = ev_engine_version,
    .create = ev_create,
    .destroy = ev_destroy,
    .run = ev_run,
    .stop = ev_stop,
    .dispatch_soon = ev_dispatch_soon,
    .timer_start = ev_timer_start,
    .timer_stop = ev_timer_stop,
    .wakeup = ev_wakeup,
    .io_start = ev_io_start,
    .io_modify = ev_io_modify,
    .io_stop = ev_io_stop,
    .signal_start = ev_signal_start,
    .signal_stop = ev_signal_stop,
    .fork = ev_fork,
    .engine_loop = ev_engine_loop,
    .foreign_new = ev_foreign_new,
    .foreign_run = ev_foreign_run,
    .foreign_free = ev_foreign_free,
};
