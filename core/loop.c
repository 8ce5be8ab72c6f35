/* core/loop.c — the loop: lifecycle, the pass, timers, run/stop, errors.
 *
 * Everything here sits on the adapter ABI (backend.h) only. The backend tells
 * the core that something happened (host->io, ->timer, ->wakeup, ->signal);
 * the core queues the work and the backend then calls host->dispatch, which
 * runs passes over the ready queue. A pass runs exactly the callbacks that
 * were ready when it began; what they schedule waits for the next pass. */
#include "future_internal.h"
#include "internal.h"
#include "subprocess_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One dispatch runs up to this many passes before it gives the engine a turn
 * to poll for I/O, and stops early after IL__DISPATCH_SLICE_NS. Running a few
 * passes per poll is what lets a chain of call_soon callbacks run at tens of
 * millions a second without starving I/O. */
#define IL__PASSES_PER_DISPATCH 128u
#define IL__DISPATCH_SLICE_NS 2000000u
/* Compact the timer heap when cancelled entries are this many and the
 * majority. */
#define IL__HEAP_COMPACT_MIN 64u

_Static_assert(sizeof(pthread_t) <= sizeof(uintptr_t),
               "thread identity must fit in uintptr_t");

static inline uintptr_t self_id(void) {
  return (uintptr_t)pthread_self();
}

/* ---- errors ----------------------------------------------------------------
 */

static const char *source_name(il_error_source_t s) {
  switch (s) {
  case IL_SOURCE_CALLBACK:
    return "callback";
  case IL_SOURCE_TIMER:
    return "timer callback";
  case IL_SOURCE_READER:
    return "reader callback";
  case IL_SOURCE_WRITER:
    return "writer callback";
  case IL_SOURCE_SIGNAL:
    return "signal handler";
  case IL_SOURCE_THREADSAFE:
    return "thread-safe callback";
  case IL_SOURCE_USER:
    return "reported error";
  case IL_SOURCE_BACKEND:
    return "backend";
  case IL_SOURCE_FUTURE:
    return "future";
  case IL_SOURCE_DEBUG:
    return "debug";
  case IL_SOURCE_SERVER:
    return "server";
  case IL_SOURCE_TRANSPORT:
    return "transport";
  case IL_SOURCE_EXECUTOR:
    return "executor";
  case IL_SOURCE_PROCESS:
    return "process";
  }
  return "unknown source";
}

void il_loop_default_error_handler(il_loop_t *loop,
                                   const il_error_context_t *ctx, void *ud) {
  IL__UNUSED(ud);
  if (!ctx)
    return;
  const char *backend = loop ? il_loop_backend_name(loop) : "?";
  if (ctx->code)
    fprintf(stderr, "interloop[%s]: %s: %s (%s: %s)\n", backend ? backend : "?",
            source_name(ctx->source), ctx->message, il_err_name(ctx->code),
            il_strerror(ctx->code));
  else
    fprintf(stderr, "interloop[%s]: %s: %s\n", backend ? backend : "?",
            source_name(ctx->source), ctx->message);
}

void il__report(il_loop_t *loop, int code, il_error_source_t source,
                const char *message, const void *cb, void *arg, int fd) {
  il_error_context_t ctx;
  ctx.size = sizeof(ctx);
  ctx.code = code;
  ctx.source = source;
  ctx.message = message ? message : il_strerror(code);
  ctx.callback = cb;
  ctx.arg = arg;
  ctx.fd = fd;
  if (loop->err_fn)
    loop->err_fn(loop, &ctx, loop->err_ud);
  else
    il_loop_default_error_handler(loop, &ctx, NULL);
}

int il_loop_set_error_handler(il_loop_t *loop, il_error_handler_fn fn,
                              void *ud) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  loop->err_fn = fn;
  loop->err_ud = fn ? ud : NULL;
  return 0;
}

int il_loop_report_error(il_loop_t *loop, int code, const char *message) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il__report(loop, code, IL_SOURCE_USER, message, NULL, NULL, -1);
  return 0;
}

/* ---- the backend's view of the loop ------------------------------------- */

static void heap_drop_cancelled_top(il_loop_t *loop) {
  while (loop->timers.n && loop->timers.v[0].h->state == IL__H_CANCELLED) {
    il_handle_t *h = loop->timers.v[0].h;
    il__heap_pop(&loop->timers);
    h->in_heap = 0;
    loop->timers_cancelled--;
    il__handle_drop_loop_ref(h);
  }
}

void il__loop_sync_backend(il_loop_t *loop) {
  int want_soon = loop->nready != 0;
  if (want_soon != loop->soon_on) {
    loop->soon_on = want_soon;
    loop->ops->dispatch_soon(loop->bstate, want_soon);
  }
  heap_drop_cancelled_top(loop);
  if (loop->timers.n == 0) {
    if (loop->armed_ns) {
      loop->armed_ns = 0;
      loop->ops->timer_stop(loop->bstate);
    }
    return;
  }
  uint64_t when = loop->timers.v[0].when_ns;
  if (when == loop->armed_ns)
    return;
  uint64_t now = il__now_ns();
  loop->armed_ns = when;
  loop->ops->timer_start(loop->bstate, when > now ? when - now : 0);
}

static void heap_compact(il_loop_t *loop) {
  il__timer_heap_t *heap = &loop->timers;
  size_t j = 0;
  for (size_t i = 0; i < heap->n; i++) {
    il_handle_t *h = heap->v[i].h;
    if (h->state == IL__H_CANCELLED) {
      h->in_heap = 0;
      il__handle_drop_loop_ref(h);
    } else {
      heap->v[j++] = heap->v[i];
    }
  }
  heap->n = j;
  loop->timers_cancelled = 0;
  il__heap_heapify(heap);
}

/* Moves every timer whose deadline has passed to the ready queue, in
 * deadline order. The clock is read after the deadlines were set, so a timer
 * never runs before il_loop_time() reaches its deadline. */
static void collect_due_timers(il_loop_t *loop) {
  if (loop->timers_cancelled >= IL__HEAP_COMPACT_MIN &&
      loop->timers_cancelled * 2 > loop->timers.n)
    heap_compact(loop);
  uint64_t now = il__now_ns();
  while (loop->timers.n) {
    il__timer_entry_t *top = &loop->timers.v[0];
    il_handle_t *h = top->h;
    if (h->state == IL__H_CANCELLED) {
      il__heap_pop(&loop->timers);
      h->in_heap = 0;
      loop->timers_cancelled--;
      il__handle_drop_loop_ref(h);
      continue;
    }
    if (top->when_ns > now)
      break;
    il__heap_pop(&loop->timers);
    h->in_heap = 0;
    loop->stats.timers--;
    loop->stats.ready++;
    il__ready_push(loop, h);
  }
}

static il_error_source_t kind_source(uint8_t kind) {
  switch (kind) {
  case IL__H_TIMER:
    return IL_SOURCE_TIMER;
  case IL__H_THREADSAFE:
    return IL_SOURCE_THREADSAFE;
  default:
    return IL_SOURCE_CALLBACK;
  }
}

static void run_callback_debug(il_loop_t *loop, il_handle_t *h) {
  uint64_t t0 = il__now_ns();
  int rc = h->cb(loop, h->arg);
  uint64_t dt = il__now_ns() - t0;
  if (rc < 0)
    il__report(loop, rc, kind_source(h->kind), "callback returned an error",
               (const void *)h->cb, h->arg, -1);
  if (dt > loop->slow_ns) {
    char msg[96];
    snprintf(msg, sizeof(msg), "executing a %s took %.3f seconds",
             source_name(kind_source(h->kind)), (double)dt / 1e9);
    il__report(loop, 0, IL_SOURCE_DEBUG, msg, (const void *)h->cb, h->arg, -1);
  }
}

/* One pass: exactly what was queued when it began. Returns how many callbacks
 * ran. */
static unsigned run_pass(il_loop_t *loop) {
  il_handle_t *h = loop->ready_head;
  loop->ready_head = loop->ready_tail = NULL;
  loop->nready = 0;
  loop->stats.passes++;
  unsigned ran = 0;
  while (h) {
    il_handle_t *next = h->next;
    switch (h->kind) {
    case IL__H_IO:
      h->loop_ref = 0;
      il__io_run(loop, IL__CONTAINER_OF(h, il__fdw_t, qh));
      ran++;
      break;
    case IL__H_SIGNAL:
      h->loop_ref = 0;
      il__signal_run(loop, IL__CONTAINER_OF(h, il__sigw_t, qh));
      ran++;
      break;
    default:
      if (h->state == IL__H_PENDING) {
        h->state = IL__H_DONE;
        loop->stats.ready--;
        ran++;
        if (IL__UNLIKELY(loop->debug)) {
          run_callback_debug(loop, h);
        } else {
          int rc = h->cb(loop, h->arg);
          if (IL__UNLIKELY(rc < 0))
            il__report(loop, rc, kind_source(h->kind),
                       "callback returned an error", (const void *)h->cb,
                       h->arg, -1);
        }
      }
      il__handle_drop_loop_ref(h);
      break;
    }
    h = next;
  }
  loop->stats.callbacks_run += ran;
  loop->run_callbacks += ran;
  return ran;
}

static void host_dispatch(void *core) {
  il_loop_t *loop = core;
  if (loop->in_dispatch || loop->stopping ||
      atomic_load_explicit(&loop->closed, memory_order_relaxed))
    return;
  loop->in_dispatch = 1;
  loop->stats.dispatches++;
  unsigned max =
      loop->limit_passes ? loop->passes_left : IL__PASSES_PER_DISPATCH;
  unsigned passes = 0;
  uint64_t slice_start = 0;
  for (;;) {
    if (atomic_load_explicit(&loop->ts.pending, memory_order_relaxed))
      il__ts_drain(loop);
    if (loop->timers.n)
      collect_due_timers(loop);
    if (loop->nready == 0 || passes >= max)
      break;
    if (run_pass(loop))
      passes++;
    if (loop->stop_requested)
      break;
    if ((passes & 7u) == 7u) {
      uint64_t now = il__now_ns();
      if (!slice_start)
        slice_start = now;
      else if (now - slice_start > IL__DISPATCH_SLICE_NS)
        break;
    }
  }
  if (loop->limit_passes)
    loop->passes_left -= passes;
  loop->in_dispatch = 0;
  if (loop->stop_requested && atomic_load(&loop->running)) {
    loop->stopping = 1;
    loop->ops->stop(loop->bstate);
  }
  il__loop_sync_backend(loop);
}

static void host_timer(void *core) {
  il_loop_t *loop = core;
  loop->armed_ns = 0; /* one-shot: it fired */
}

static void host_wakeup(void *core) {
  /* Dispatch drains the thread-safe queue. The backend has cleared its
   * wakeup flag before calling this; the fence keeps dispatch's read of
   * ts.pending after that clear (the sender's side is in threadsafe.c). */
  IL__UNUSED(core);
  atomic_thread_fence(memory_order_seq_cst);
}

static void host_report(void *core, int code, const char *message) {
  il_loop_t *loop = core;
  if (!loop->bstate && !loop->create_msg[0]) {
    /* During create(): keep the backend's reason for
     * il_loop_last_error_message(). */
    snprintf(loop->create_msg, sizeof(loop->create_msg), "%s",
             message ? message : il_strerror(code));
  }
  il__report(core, code, IL_SOURCE_BACKEND, message, NULL, NULL, -1);
}

/* ---- lifecycle ---------------------------------------------------------- */

static int env_debug(void) {
  const char *v = getenv("INTERLOOP_DEBUG");
  return v && *v && strcmp(v, "0") != 0;
}

#define OPT_HAS(opts, member)                                                  \
  ((opts)->size >= offsetof(il_loop_options_t, member) +                       \
                       sizeof(((il_loop_options_t *)0)->member))

int il_loop_new_with_backend(il_loop_t **out, const il_backend_ops_t *ops,
                             void *engine_loop, const il_loop_options_t *opts) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  if (!ops || (opts && !OPT_HAS(opts, backend))) {
    il__set_last_error("invalid arguments to il_loop_new");
    return IL_EINVAL;
  }
  int rc = il__backend_validate(ops, ops->name ? ops->name : "(unnamed)");
  if (rc < 0)
    return rc;
  if (engine_loop && !(ops->features & IL_BACKEND_F_ADOPT)) {
    il__set_last_error("backend \"%s\" cannot adopt a foreign loop", ops->name);
    return IL_ENOTSUP;
  }
  il_loop_t *loop = calloc(1, sizeof(*loop));
  if (!loop)
    return IL_ENOMEM;
  loop->ops = ops;
  loop->refs = 1;
  loop->stats.size = sizeof(loop->stats);
  int debug = opts && OPT_HAS(opts, debug) ? opts->debug : -1;
  loop->debug = debug < 0 ? env_debug() : debug != 0;
  double slow = opts && OPT_HAS(opts, slow_callback) ? opts->slow_callback : 0;
  loop->slow_ns =
      slow > 0 && isfinite(slow) ? (uint64_t)(slow * 1e9) : 100000000u;
  rc = il__ts_init(&loop->ts);
  if (rc < 0) {
    free(loop);
    return rc;
  }
  loop->host.abi_version = IL_BACKEND_ABI_VERSION;
  loop->host.struct_size = sizeof(loop->host);
  loop->host.core = loop;
  loop->host.io = il__host_io;
  loop->host.timer = host_timer;
  loop->host.wakeup = host_wakeup;
  loop->host.signal = il__host_signal;
  loop->host.dispatch = host_dispatch;
  loop->host.report = host_report;
  rc = ops->create(&loop->host, engine_loop, &loop->bstate);
  if (rc < 0) {
    il__set_last_error("backend \"%s\" failed to create its loop: %s%s%s",
                       ops->name, il_strerror(rc),
                       loop->create_msg[0] ? ": " : "", loop->create_msg);
    il__ts_destroy(&loop->ts);
    free(loop);
    return rc;
  }
  if (engine_loop) {
    loop->adopted = 1;
    atomic_store(&loop->owner, self_id());
  }
  il__set_last_error("%s", "");
  *out = loop;
  return 0;
}

int il_loop_new(il_loop_t **out, const il_loop_options_t *opts) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  if (opts && !OPT_HAS(opts, backend)) {
    il__set_last_error("il_loop_options_t.size is too small (%zu)", opts->size);
    return IL_EINVAL;
  }
  const char *name = opts ? opts->backend : NULL;
  if (!name || !*name)
    name = getenv("INTERLOOP_BACKEND");
  if (!name || !*name)
    name = "builtin";
  const il_backend_ops_t *ops;
  int rc = il_backend_load(name, &ops);
  if (rc < 0)
    return rc;
  return il_loop_new_with_backend(out, ops, NULL, opts);
}

static void drop_queues(il_loop_t *loop) {
  il_handle_t *h = loop->ready_head;
  loop->ready_head = loop->ready_tail = NULL;
  loop->nready = 0;
  while (h) {
    il_handle_t *next = h->next;
    if (h->kind == IL__H_IO || h->kind == IL__H_SIGNAL) {
      h->loop_ref = 0;
    } else {
      if (h->kind == IL__H_FUTCB && h->state == IL__H_PENDING)
        il__fut_cb_drop(h->arg);
      if (h->state == IL__H_PENDING)
        h->state = IL__H_CANCELLED;
      il__handle_drop_loop_ref(h);
    }
    h = next;
  }
  for (size_t i = 0; i < loop->timers.n; i++) {
    h = loop->timers.v[i].h;
    if (h->state == IL__H_PENDING)
      h->state = IL__H_CANCELLED;
    h->in_heap = 0;
    il__handle_drop_loop_ref(h);
  }
  loop->timers.n = 0;
  loop->timers_cancelled = 0;
  loop->stats.ready = loop->stats.timers = 0;
}

static void report_leaks(il_loop_t *loop) {
  char msg[160];
  for (il_handle_t *h = loop->held; h; h = h->held_next) {
    if (h->internal)
      continue;
    snprintf(msg, sizeof(msg),
             "leaked handle %p: %s never released (il_handle_release)",
             (void *)h,
             h->kind == IL__H_TIMER ? "timer handle" : "callback handle");
    il__report(loop, 0, IL_SOURCE_DEBUG, msg, (const void *)h->cb, h->arg, -1);
  }
  for (int fd = 0; fd < loop->nfds; fd++) {
    il__fdw_t *w = loop->fds[fd];
    if (!w || !w->interest)
      continue;
    snprintf(msg, sizeof(msg), "fd %d still watched at close (%s%s)", fd,
             w->rcb ? "reader" : "",
             w->wcb ? (w->rcb ? "+writer" : "writer") : "");
    il__report(loop, 0, IL_SOURCE_DEBUG, msg, NULL, NULL, fd);
  }
  for (int s = 1; s < IL__NSIG; s++) {
    if (!loop->sigs[s] || !loop->sigs[s]->cb)
      continue;
    snprintf(msg, sizeof(msg), "signal %d handler still installed at close", s);
    il__report(loop, 0, IL_SOURCE_DEBUG, msg, NULL, NULL, s);
  }
}

int il_loop_close(il_loop_t *loop) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (atomic_load(&loop->running) || loop->in_dispatch)
    return IL_ERUNNING;
  /* Tasks first, while the loop still works: each unwinds its C stack
   * (its waits return IL_ECANCELED) and frees what it holds. */
  il__tasks_close(loop);
  /* Children still running are killed and reaped (their pipes go with the
   * transports below). */
  il__procs_close(loop);
  /* Then the network: every transport's connection_lost(IL_ECLOSED), the
   * listening sockets, and the executor's threads (joined). */
  il__servers_close(loop);
  il__transports_close(loop);
  il__executor_close(loop);
  if (loop->debug)
    report_leaks(loop);
  atomic_store(&loop->closed, 1);
  il__ts_close(loop);
  drop_queues(loop); /* before the watchers: it touches their handles */
  il__io_close_all(loop);
  il__signal_close_all(loop);
  if (loop->armed_ns)
    loop->ops->timer_stop(loop->bstate);
  loop->armed_ns = 0;
  if (loop->soon_on)
    loop->ops->dispatch_soon(loop->bstate, 0);
  loop->soon_on = 0;
  loop->ops->destroy(loop->bstate);
  loop->bstate = NULL;
  il__heap_free(&loop->timers);
  il__tasks_destroy(loop);
  il__handles_release_all(loop);
  if (loop->data_dtor)
    loop->data_dtor(loop->data);
  loop->data = NULL;
  loop->data_dtor = NULL;
  /* A closed loop belongs to no thread: il_loop_free may come from any. */
  atomic_store(&loop->owner, 0);
  return 0;
}

void il__loop_unref(il_loop_t *loop) {
  if (--loop->refs == 0) {
    il__slabs_free(&loop->fslabs); /* the last future is gone */
    il__ts_destroy(&loop->ts);
    free(loop);
  }
}

int il_loop_free(il_loop_t *loop) {
  if (!loop)
    return 0;
  int rc = il__loop_check(loop);
  if (rc == IL_EWRONGTHREAD)
    return rc;
  if (rc == 0) {
    rc = il_loop_close(loop);
    if (rc < 0)
      return rc;
  }
  il__loop_unref(loop);
  return 0;
}

int il_loop_set_data(il_loop_t *loop, void *data, il_destructor_fn dtor) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  void *old = loop->data;
  il_destructor_fn old_dtor = loop->data_dtor;
  loop->data = data;
  loop->data_dtor = dtor;
  if (old_dtor && old != data)
    old_dtor(old);
  return 0;
}

void *il_loop_get_data(const il_loop_t *loop) {
  return loop ? loop->data : NULL;
}

/* ---- running ------------------------------------------------------------ */

int il_loop_run(il_loop_t *loop, il_run_mode_t mode) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if ((int)mode < IL_RUN_DEFAULT || (int)mode > IL_RUN_NOWAIT)
    return IL_EINVAL;
  if (atomic_load(&loop->running) || loop->in_dispatch)
    return IL_ERUNNING;
  if (loop->stop_requested)
    mode = IL_RUN_NOWAIT;
  if (!loop->adopted)
    atomic_store(&loop->owner, self_id());
  atomic_store(&loop->running, 1);
  loop->limit_passes = mode != IL_RUN_DEFAULT;
  loop->passes_left = 1;
  loop->run_callbacks = 0;
  loop->stopping = 0;
  il__loop_sync_backend(loop);
  do {
    rc = loop->ops->run(loop->bstate, (int)mode);
  } while (rc == 0 && mode == IL_RUN_ONCE && loop->run_callbacks == 0 &&
           loop->passes_left && !loop->stop_requested);
  loop->limit_passes = 0;
  loop->stop_requested = 0;
  loop->stopping = 0;
  atomic_store(&loop->running, 0);
  if (!loop->adopted)
    atomic_store(&loop->owner, 0);
  return rc;
}

int il_loop_stop(il_loop_t *loop) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  loop->stop_requested = 1;
  return 0;
}

int il_loop_is_running(const il_loop_t *loop) {
  return loop ? atomic_load(&loop->running) : 0;
}

int il_loop_is_closed(const il_loop_t *loop) {
  return loop ? atomic_load(&loop->closed) : 0;
}

double il_loop_time(const il_loop_t *loop) {
  return loop ? (double)il__now_ns() / 1e9 : -1.0;
}

uint64_t il_loop_time_ns(const il_loop_t *loop) {
  return loop ? il__now_ns() : 0;
}

const char *il_loop_backend_name(const il_loop_t *loop) {
  return loop ? loop->ops->name : NULL;
}

const char *il_loop_engine_version(const il_loop_t *loop) {
  return loop ? loop->ops->engine_version() : NULL;
}

const il_backend_ops_t *il_loop_backend_ops(const il_loop_t *loop) {
  return loop ? loop->ops : NULL;
}

void *il_loop_engine_loop(const il_loop_t *loop) {
  if (!loop || atomic_load(&loop->closed) || !loop->ops->engine_loop)
    return NULL;
  return loop->ops->engine_loop(loop->bstate);
}

int il_loop_is_adopted(const il_loop_t *loop) {
  return loop ? loop->adopted : 0;
}

int il_loop_get_debug(const il_loop_t *loop) {
  return loop ? loop->debug : 0;
}

int il_loop_fork(il_loop_t *loop) {
  if (!loop)
    return IL_EINVAL;
  if (atomic_load(&loop->closed))
    return IL_ECLOSED;
  if (atomic_load(&loop->running) || loop->in_dispatch)
    return IL_ERUNNING;
  if (!loop->ops->fork)
    return IL_ENOTSUP;
  /* The child has one thread: the one calling us. */
  if (loop->adopted)
    atomic_store(&loop->owner, self_id());
  int rc = il__ts_init_after_fork(&loop->ts);
  if (rc < 0)
    return rc;
  return loop->ops->fork(loop->bstate);
}

int il_loop_get_stats(const il_loop_t *loop, il_loop_stats_t *stats) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (!stats || stats->size < offsetof(il_loop_stats_t, callbacks_run) +
                                  sizeof(stats->callbacks_run))
    return IL_EINVAL;
  size_t size = stats->size < sizeof(*stats) ? stats->size : sizeof(*stats);
  il_loop_stats_t s = loop->stats;
  s.readers = s.writers = 0;
  for (int fd = 0; fd < loop->nfds; fd++) {
    il__fdw_t *w = loop->fds[fd];
    if (w && w->rcb)
      s.readers++;
    if (w && w->wcb)
      s.writers++;
  }
  s.signals = 0;
  for (int i = 1; i < IL__NSIG; i++)
    if (loop->sigs[i] && loop->sigs[i]->cb)
      s.signals++;
  s.size = size;
  memcpy(stats, &s, size);
  return 0;
}

/* ---- scheduling --------------------------------------------------------- */

/* Queues cb(loop, arg) as a handle of `kind`; `out`, if not NULL, receives
 * a held reference (the application's unless `internal`). */
static inline int schedule_soon(il_loop_t *loop, il_callback_fn cb, void *arg,
                                uint8_t kind, il_handle_t **out,
                                int internal) {
  il_handle_t *h = il__handle_get(loop);
  if (IL__UNLIKELY(!h))
    return IL_ENOMEM;
  h->cb = cb;
  h->arg = arg;
  h->kind = kind;
  il__ready_push(loop, h);
  loop->stats.ready++;
  if (out) {
    il__handle_hold(loop, h);
    if (internal)
      il__handle_mark_internal(h);
    *out = h;
  }
  if (!loop->soon_on && !loop->in_dispatch)
    il__loop_sync_backend(loop);
  return 0;
}

int il_loop_call_soon(il_loop_t *loop, il_callback_fn cb, void *arg,
                      il_handle_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (IL__UNLIKELY(rc < 0))
    return rc;
  if (IL__UNLIKELY(!cb))
    return IL_EINVAL;
  return schedule_soon(loop, cb, arg, IL__H_SOON, out, 0);
}

int il__schedule(il_loop_t *loop, il_callback_fn cb, void *arg, uint8_t kind,
                 il_handle_t **held) {
  if (IL__UNLIKELY(atomic_load_explicit(&loop->closed, memory_order_relaxed)))
    return IL_ECLOSED;
  return schedule_soon(loop, cb, arg, kind, held, 1);
}

static int schedule_timer(il_loop_t *loop, uint64_t when_ns, il_callback_fn cb,
                          void *arg, il_handle_t **out) {
  il_handle_t *h = il__handle_get(loop);
  if (IL__UNLIKELY(!h))
    return IL_ENOMEM;
  h->cb = cb;
  h->arg = arg;
  h->kind = IL__H_TIMER;
  h->when_ns = when_ns;
  h->in_heap = 1;
  int rc = il__heap_push(&loop->timers, when_ns, loop->timer_seq++, h);
  if (IL__UNLIKELY(rc < 0)) {
    il__handle_put(loop, h);
    return rc;
  }
  loop->stats.timers++;
  if (out) {
    il__handle_hold(loop, h);
    *out = h;
  }
  if (!loop->in_dispatch && (loop->armed_ns == 0 || when_ns < loop->armed_ns))
    il__loop_sync_backend(loop);
  return 0;
}

/* Seconds to a nanosecond deadline, rounded up so a timer is never early;
 * clamped far in the future instead of overflowing. */
static uint64_t deadline_from_seconds(double when) {
  if (!(when > 0)) /* also NaN */
    return 0;
  double ns = ceil(when * 1e9);
  if (ns >= 9.2e18)
    return UINT64_C(9200000000000000000);
  uint64_t v = (uint64_t)ns;
  /* ns / 1e9 can round below `when`: il_handle_when() must never report a
   * deadline earlier than the one asked for. */
  while ((double)v / 1e9 < when)
    v++;
  return v;
}

int il_loop_call_later(il_loop_t *loop, double delay, il_callback_fn cb,
                       void *arg, il_handle_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (IL__UNLIKELY(rc < 0))
    return rc;
  if (IL__UNLIKELY(!cb))
    return IL_EINVAL;
  uint64_t now = il__now_ns();
  uint64_t when = now;
  if (delay > 0) {
    uint64_t d = deadline_from_seconds(delay);
    when = d > UINT64_C(9200000000000000000) - now
               ? UINT64_C(9200000000000000000)
               : now + d;
  }
  return schedule_timer(loop, when, cb, arg, out);
}

int il_loop_call_at(il_loop_t *loop, double when, il_callback_fn cb, void *arg,
                    il_handle_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (IL__UNLIKELY(rc < 0))
    return rc;
  if (IL__UNLIKELY(!cb))
    return IL_EINVAL;
  return schedule_timer(loop, deadline_from_seconds(when), cb, arg, out);
}
