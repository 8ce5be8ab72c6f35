/* adapters/uv/uv.c — the libuv backend: lifecycle, run/stop, the timer,
 * dispatch and the thread-safe wakeup. fd watchers are in uv_io.c, signal
 * watchers in uv_signal.c.
 *
 * One libuv iteration (uv_run, libuv 1.x) and what interloop does in it:
 *
 *   timers    our uv_timer_t fires: host->timer, and the idle handle is
 *             started ("kicked") so that this iteration's poll, or the next
 *             one's, does not block before the check phase dispatched
 *   idle      active while dispatch_soon is on or after a kick: an active
 *             idle handle makes libuv poll with a zero timeout
 *   poll      fd watchers (host->io), the wakeup async (host->wakeup),
 *             signals (host->signal)
 *   check     host->dispatch, every iteration: after the poll phase and
 *             before libuv can block again, as backend.h requires
 *   closing   close callbacks free stopped fd and signal watchers
 *
 * The timer is not dispatched from its own callback: timers run before the
 * poll phase, and a dispatch there would run the core's pass and then let
 * the same iteration block in poll — IL_RUN_ONCE would wait for unrelated
 * events after its pass. In UV_RUN_ONCE libuv also runs due timers once
 * more after the check phase and then returns; the kick makes the next
 * iteration dispatch them without blocking first.
 *
 * libuv caches a millisecond clock (uv_now, on Linux CLOCK_MONOTONIC_COARSE
 * when that is 1 ms fine), so a uv timer can fire up to one tick before the
 * real deadline. The backend keeps the deadline itself in nanoseconds on
 * CLOCK_MONOTONIC — the core's clock — and re-arms when libuv fires early;
 * timeouts are rounded up to whole milliseconds, never down to a zero
 * timeout that would spin. */
#include "uv_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------- */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whole milliseconds, rounded up: libuv's timers have no finer resolution
 * and a timer must never fire early. */
static uint64_t ceil_ms(uint64_t ns) {
  return ns / 1000000u + (ns % 1000000u != 0);
}

int il__uv_err(int e) {
  /* On Linux UV_E* are negated errno values, like IL_E*; spelled out so the
   * mapping holds wherever libuv's codes differ from the host's errno. */
  switch (e) {
  case 0:
    return 0;
  case UV_EPERM:
    return IL_EPERM;
  case UV_ENOENT:
    return IL_ENOENT;
  case UV_EINTR:
    return IL_EINTR;
  case UV_EIO:
    return IL_EIO;
  case UV_EBADF:
    return IL_EBADF;
  case UV_EAGAIN:
    return IL_EAGAIN;
  case UV_ENOMEM:
    return IL_ENOMEM;
  case UV_EACCES:
    return IL_EACCES;
  case UV_EFAULT:
    return IL_EFAULT;
  case UV_EBUSY:
    return IL_EBUSY;
  case UV_EEXIST:
    return IL_EEXIST;
  case UV_ENODEV:
    return IL_ENODEV;
  case UV_EINVAL:
    return IL_EINVAL;
  case UV_ENFILE:
    return IL_ENFILE;
  case UV_EMFILE:
    return IL_EMFILE;
  case UV_ENOSPC:
    return IL_ENOSPC;
  case UV_ENOSYS:
    return IL_ENOSYS;
  case UV_ENOTSUP:
    return IL_ENOTSUP;
  case UV_ENOTSOCK:
    return IL_ENOTSOCK;
  case UV_ENOBUFS:
    return IL_ENOBUFS;
  case UV_ECANCELED:
    return IL_ECANCELED;
  default:
    return IL_EIO;
  }
}

/* ---- engine version ------------------------------------------------------ */

static char version_buf[48];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_init(void) {
  /* The library actually loaded, which may be newer than the headers. */
  snprintf(version_buf, sizeof(version_buf), "libuv %s", uv_version_string());
}

static const char *uvb_engine_version(void) {
  pthread_once(&version_once, version_init);
  return version_buf;
}

/* ---- callbacks ----------------------------------------------------------- */

static void on_idle(uv_idle_t *h) {
  /* Nothing to do: an active idle handle only keeps the poll phase from
   * blocking; the check handle dispatches. */
  IL__UV_UNUSED(h);
}

static void on_timer(uv_timer_t *t) {
  il__uv_t *s = t->data;
  if (!s->timer_on)
    return;
  uint64_t now = now_ns();
  if (now < s->deadline_ns) {
    /* libuv's coarse cached clock let it fire early: wait for the rest. */
    uv_update_time(s->loop);
    uv_timer_start(t, on_timer, ceil_ms(s->deadline_ns - now), 0);
    return;
  }
  s->timer_on = 0;
  s->host->timer(s->host->core);
  s->kick = 1;
  uv_idle_start(&s->idle, on_idle);
}

static void on_check(uv_check_t *h) {
  il__uv_t *s = h->data;
  s->kick = 0;
  s->host->dispatch(s->host->core);
  if (!s->soon && !s->kick)
    uv_idle_stop(&s->idle);
}

static void on_async(uv_async_t *h) {
  il__uv_t *s = h->data;
  s->host->wakeup(s->host->core);
}

/* ---- lifecycle ----------------------------------------------------------- */

/* Why create() failed, in libuv's words: the core passes it on through
 * il_loop_last_error_message(). */
static void report_create(const il_backend_host_t *host, int uv_err,
                          const char *what) {
  char msg[128];
  snprintf(msg, sizeof(msg), "%s failed: %s (%s)", what, uv_strerror(uv_err),
           uv_err_name(uv_err));
  host->report(host->core, il__uv_err(uv_err), msg);
}

static int uvb_create(const il_backend_host_t *host, void *engine_loop,
                      void **state) {
  il__uv_t *s = calloc(1, sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  s->host = host;
  if (engine_loop) {
    s->loop = engine_loop;
    s->adopted = 1;
  } else {
    s->loop = malloc(sizeof(*s->loop));
    if (!s->loop) {
      free(s);
      return IL_ENOMEM;
    }
    int rc = uv_loop_init(s->loop);
    if (rc < 0) {
      report_create(host, rc, "uv_loop_init");
      free(s->loop);
      free(s);
      return il__uv_err(rc);
    }
  }
  /* The async first: it is the only init that can fail (it may create the
   * loop's eventfd), and nothing else needs undoing then. */
  int rc = uv_async_init(s->loop, &s->async, on_async);
  if (rc < 0) {
    report_create(host, rc, "uv_async_init (the wakeup)");
    if (!s->adopted) {
      uv_loop_close(s->loop);
      free(s->loop);
    }
    free(s);
    return il__uv_err(rc);
  }
  uv_unref((uv_handle_t *)&s->async);
  uv_timer_init(s->loop, &s->timer);
  uv_idle_init(s->loop, &s->idle);
  uv_check_init(s->loop, &s->check);
  s->async.data = s->timer.data = s->idle.data = s->check.data = s;
  /* Unreferenced: dispatching after every iteration is no reason for the
   * application's uv_run to keep going. */
  uv_check_start(&s->check, on_check);
  uv_unref((uv_handle_t *)&s->check);
  *state = s;
  return 0;
}

static void on_handle_closed(uv_handle_t *h) {
  il__uv_t *s = h->data;
  /* An adopted loop's handles close on the application's next iteration,
   * after destroy returned: the last one frees the state. */
  if (--s->nhandles == 0 && s->adopted)
    free(s);
}

static void close_leftover(uv_handle_t *h, void *arg) {
  IL__UV_UNUSED(arg);
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void uvb_destroy(void *state) {
  il__uv_t *s = state;
  uv_loop_t *loop = s->loop;
  int adopted = s->adopted;
  const il_backend_host_t *host = s->host;
  s->nhandles = 4;
  uv_close((uv_handle_t *)&s->timer, on_handle_closed);
  uv_close((uv_handle_t *)&s->idle, on_handle_closed);
  uv_close((uv_handle_t *)&s->check, on_handle_closed);
  uv_close((uv_handle_t *)&s->async, on_handle_closed);
  if (adopted)
    return; /* `s` belongs to the close callbacks now */
  /* Owned: nothing is active any more, so uv_run returns as soon as every
   * close callback (ours, and those of fd and signal watchers stopped
   * earlier) has run. */
  uv_run(loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(loop);
  if (rc == UV_EBUSY) {
    host->report(host->core, IL_EBUSY,
                 "libuv loop still had handles at destroy; closed them");
    uv_walk(loop, close_leftover, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(loop);
  }
  if (rc == 0)
    free(loop); /* else leaked rather than freed while libuv uses it */
  free(s);
}

/* ---- running ------------------------------------------------------------- */

static uv_run_mode uv_mode(int mode) {
  return mode == IL_RUN_ONCE     ? UV_RUN_ONCE
         : mode == IL_RUN_NOWAIT ? UV_RUN_NOWAIT
                                 : UV_RUN_DEFAULT;
}

static int uvb_run(void *state, int mode) {
  il__uv_t *s = state;
  uv_run_mode m = uv_mode(mode);
  s->stop = 0;
  /* Referenced for the duration: uv_run returns at once on a loop with
   * nothing referenced, and DEFAULT must wait for ops->stop, ONCE for a
   * wakeup, even when interloop has nothing else pending. */
  uv_ref((uv_handle_t *)&s->async);
  do {
    uv_run(s->loop, m);
    /* An application callback's uv_stop ends uv_run early too: DEFAULT
     * goes on until interloop's own stop. */
  } while (m == UV_RUN_DEFAULT && !s->stop);
  uv_unref((uv_handle_t *)&s->async);
  s->stop = 0;
  return 0;
}

/* Called from inside host->dispatch, so inside uv_run: libuv finishes the
 * current iteration and returns. */
static void uvb_stop(void *state) {
  il__uv_t *s = state;
  s->stop = 1;
  uv_stop(s->loop);
}

static void uvb_dispatch_soon(void *state, int on) {
  il__uv_t *s = state;
  s->soon = on != 0;
  if (on)
    uv_idle_start(&s->idle, on_idle); /* idempotent */
  else if (!s->kick)
    uv_idle_stop(&s->idle);
}

static void uvb_timer_start(void *state, uint64_t timeout_ns) {
  il__uv_t *s = state;
  uint64_t now = now_ns();
  s->deadline_ns =
      timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
  s->timer_on = 1;
  /* uv_timer_start counts from the cached uv_now(), which inside a long
   * callback can be far behind. */
  uv_update_time(s->loop);
  uv_timer_start(&s->timer, on_timer, ceil_ms(timeout_ns), 0);
}

static void uvb_timer_stop(void *state) {
  il__uv_t *s = state;
  s->timer_on = 0;
  uv_timer_stop(&s->timer);
}

/* Any thread. uv_async_send is libuv's one thread-safe call and coalesces.
 * The core never sends after destroy began (its queue is closed first). */
static void uvb_wakeup(void *state) {
  il__uv_t *s = state;
  uv_async_send(&s->async);
}

/* uv_loop_fork re-creates the epoll set, the async eventfd and the signal
 * pipe and re-registers every started watcher. */
static int uvb_fork(void *state) {
  il__uv_t *s = state;
  return il__uv_err(uv_loop_fork(s->loop));
}

static void *uvb_engine_loop(void *state) {
  return ((il__uv_t *)state)->loop;
}

/* ---- adopted-mode test hooks --------------------------------------------- */

static int uvb_foreign_new(void **engine_loop) {
  uv_loop_t *loop = malloc(sizeof(*loop));
  if (!loop)
    return IL_ENOMEM;
  int rc = uv_loop_init(loop);
  if (rc < 0) {
    free(loop);
    return il__uv_err(rc);
  }
  *engine_loop = loop;
  return 0;
}

static int uvb_foreign_run(void *engine_loop, int mode) {
  uv_run(engine_loop, uv_mode(mode));
  return 0;
}

typedef struct census {
  int total, open;
} census_t;

static void count_handle(uv_handle_t *h, void *arg) {
  census_t *c = arg;
  c->total++;
  if (!uv_is_closing(h))
    c->open++;
}

/* libuv runs close callbacks only inside uv_run, so — as any application
 * must after closing a handle — let the loop iterate (never blocking: the
 * closing handles make the poll timeout zero) until the handles interloop
 * closed are gone. Only then is it clean: no handle at all. */
static int uvb_foreign_free(void *engine_loop) {
  uv_loop_t *loop = engine_loop;
  int busy = 0;
  for (int i = 0; i < 1000; i++) {
    census_t c = {0, 0};
    uv_walk(loop, count_handle, &c);
    if (c.open) {
      busy = 1; /* a watcher left behind: never run its callback */
      break;
    }
    if (c.total == 0)
      break;
    uv_run(loop, UV_RUN_NOWAIT);
  }
  if (busy) {
    uv_walk(loop, close_leftover, NULL);
    for (int i = 0; i < 1000 && uv_loop_alive(loop); i++)
      uv_run(loop, UV_RUN_NOWAIT);
  }
  int rc = uv_loop_close(loop);
  if (rc == 0)
    free(loop);
  return busy || rc ? IL_EBUSY : 0;
}

const il_backend_ops_t il__uv_ops = {
    .abi_version = IL_BACKEND_ABI_VERSION,
    .struct_size = sizeof(il_backend_ops_t),
    .name = "uv",
    .features = IL_BACKEND_F_ADOPT | IL_BACKEND_F_SIGNALS | IL_BACKEND_F_FORK,
    .engine_version = uvb_engine_version,
    .create = uvb_create,
    .destroy = uvb_destroy,
    .run = uvb_run,
    .stop = uvb_stop,
    .dispatch_soon = uvb_dispatch_soon,
    .timer_start = uvb_timer_start,
    .timer_stop = uvb_timer_stop,
    .wakeup = uvb_wakeup,
    .io_start = il__uv_io_start,
    .io_modify = il__uv_io_modify,
    .io_stop = il__uv_io_stop,
    .signal_start = il__uv_signal_start,
    .signal_stop = il__uv_signal_stop,
    .fork = uvb_fork,
    .engine_loop = uvb_engine_loop,
    .foreign_new = uvb_foreign_new,
    .foreign_run = uvb_foreign_run,
    .foreign_free = uvb_foreign_free,
};
