/* interloop/loop.h — the event loop. See spec/SPEC.md §4.
 *
 * Threads: a loop belongs to one thread at a time — the thread running it
 * (il_loop_run), or for an adopted loop the thread that adopted it. Every
 * function here must be called from that thread, except
 * il_loop_call_soon_threadsafe(), il_loop_time() and il_loop_time_ns(). While
 * the loop runs, a call from another thread is refused with IL_EWRONGTHREAD. */
#ifndef INTERLOOP_LOOP_H
#define INTERLOOP_LOOP_H

#include "common.h"

IL_BEGIN_DECLS

/* A scheduled callback. Return 0, or a negative IL_E* code: a negative return
 * is reported to the loop's error handler and the loop keeps running. */
typedef int (*il_callback_fn)(il_loop_t *loop, void *arg);

/* An fd readiness callback, called on the loop thread while the fd is ready. */
typedef int (*il_io_fn)(il_loop_t *loop, int fd, void *arg);

/* A signal callback, called on the loop thread after `signum` arrived. */
typedef int (*il_signal_fn)(il_loop_t *loop, int signum, void *arg);

/* ---- options ------------------------------------------------------------ */

typedef struct il_loop_options {
  size_t size;          /* sizeof(il_loop_options_t); set by the INIT macro */
  const char *backend;  /* "builtin", "uv", "ev", "event", a path to a plugin,
                           or NULL: $INTERLOOP_BACKEND, else "builtin" */
  int debug;            /* -1: $INTERLOOP_DEBUG decides; 0: off; 1: on */
  double slow_callback; /* debug mode: report callbacks slower than this many
                           seconds; 0 means the default, 0.1 */
} il_loop_options_t;

#define IL_LOOP_OPTIONS_INIT {sizeof(il_loop_options_t), NULL, -1, 0.0}

/* ---- lifecycle ---------------------------------------------------------- */

/* Creates a loop on the backend the options choose. On success *out owns the
 * new loop; the caller closes it with il_loop_close(). `opts` may be NULL
 * (all defaults). Any thread; the loop is not bound to a thread until it runs.
 * Errors: IL_EINVAL (out NULL, opts->size too small), IL_ENOBACKEND (unknown
 * or unloadable backend; the reason is in il_loop_last_error_message()),
 * IL_EBACKENDABI, IL_ENOMEM, or the backend's own error. */
IL_EXTERN int il_loop_new(il_loop_t **out, const il_loop_options_t *opts);

/* Closes the loop: drops pending callbacks and timers without running them
 * (their handles report cancelled), stops every fd watcher and signal
 * handler, releases the backend (leaving an adopted engine loop as it was
 * found) and frees everything but the loop object itself, which stays valid —
 * every later call on it returns IL_ECLOSED or reports "nothing there" — until
 * il_loop_free(). Handles the caller still holds stay valid until released.
 * Before that it cancels the loop's tasks, kills (SIGKILL) and reaps its
 * children, and loses its transports (SPEC §8.5, §10.9, §13.6).
 * Loop thread. Errors: IL_EINVAL (NULL), IL_ECLOSED (already closed),
 * IL_ERUNNING (called while the loop runs or from one of its callbacks —
 * nothing is changed), IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_close(il_loop_t *loop);

/* Frees the loop object, closing it first if needed. The pointer is dangling
 * afterwards: other threads must have stopped calling
 * il_loop_call_soon_threadsafe() on it. NULL is a no-op returning 0.
 * Loop thread. Errors: IL_ERUNNING, IL_EWRONGTHREAD (nothing is freed). */
IL_EXTERN int il_loop_free(il_loop_t *loop);

/* Attaches user data to the loop; `dtor` (may be NULL) is called with it when
 * the loop closes or the data is replaced. Loop thread.
 * Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_set_data(il_loop_t *loop, void *data,
                               il_destructor_fn dtor);

/* The data set with il_loop_set_data(), or NULL. */
IL_EXTERN void *il_loop_get_data(const il_loop_t *loop);

/* Why the last il_loop_new() on this thread failed, as a sentence naming what
 * was looked for and what exists; "" if nothing failed. Static, per thread. */
IL_EXTERN const char *il_loop_last_error_message(void);

/* ---- running ------------------------------------------------------------ */

typedef enum il_run_mode {
  IL_RUN_DEFAULT = 0, /* run until il_loop_stop() */
  IL_RUN_ONCE = 1,    /* wait for work if none is ready, run one pass */
  IL_RUN_NOWAIT = 2   /* run one pass of what is ready, never block */
} il_run_mode_t;

/* Runs the loop on the calling thread. Returns 0 when it returned normally,
 * or: IL_EINVAL (NULL loop, bad mode), IL_ECLOSED, IL_ERUNNING (re-entrant
 * call from a callback: nothing runs), IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_run(il_loop_t *loop, il_run_mode_t mode);

/* Asks a running loop to return from il_loop_run() once the current pass has
 * finished; called before il_loop_run(), it makes the next run do exactly one
 * non-blocking pass. Loop thread (use call_soon_threadsafe from others).
 * Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_stop(il_loop_t *loop);

/* 1 if the loop is inside il_loop_run(), 0 if not or NULL. Any thread. */
IL_EXTERN int il_loop_is_running(const il_loop_t *loop);

/* 1 if il_loop_close() has begun on this loop, 0 if not or NULL. */
IL_EXTERN int il_loop_is_closed(const il_loop_t *loop);

/* The loop's clock: monotonic seconds, the reference for every deadline.
 * Never goes backwards. Any thread. Returns -1.0 for a NULL loop. */
IL_EXTERN double il_loop_time(const il_loop_t *loop);

/* The same clock in nanoseconds. Any thread. Returns 0 for a NULL loop. */
IL_EXTERN uint64_t il_loop_time_ns(const il_loop_t *loop);

/* The backend's name ("builtin", "uv", ...). Static string owned by the
 * backend, valid until the loop is closed. NULL for a NULL loop. */
IL_EXTERN const char *il_loop_backend_name(const il_loop_t *loop);

/* The engine and its version ("libuv 1.44.2"), as the backend reports it.
 * Valid until the loop is closed. NULL for a NULL loop. */
IL_EXTERN const char *il_loop_engine_version(const il_loop_t *loop);

/* Re-initialises the loop in a child process after fork(): call it in the
 * child before any other use. Loop thread of the child. Errors: IL_EINVAL,
 * IL_ECLOSED, IL_ENOTSUP (backend cannot), or the backend's error. */
IL_EXTERN int il_loop_fork(il_loop_t *loop);

/* ---- callbacks ---------------------------------------------------------- */

/* Schedules cb(loop, arg) to run in the loop's next pass, after every callback
 * already scheduled (FIFO). If `out` is not NULL it receives a handle the
 * caller owns and must release with il_handle_release(); pass NULL when the
 * callback will never be cancelled. Loop thread. Does not allocate once warm.
 * Errors: IL_EINVAL (NULL loop or cb), IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_loop_call_soon(il_loop_t *loop, il_callback_fn cb, void *arg,
                                il_handle_t **out);

/* Schedules cb(loop, arg) to run `delay` seconds from now (il_loop_time()),
 * never earlier. A delay <= 0 (or NaN) means as soon as possible, after the
 * callbacks already ready. Timers with equal deadlines run in the order they
 * were scheduled. `out` as for il_loop_call_soon(). Loop thread.
 * Errors: as il_loop_call_soon(). */
IL_EXTERN int il_loop_call_later(il_loop_t *loop, double delay,
                                 il_callback_fn cb, void *arg,
                                 il_handle_t **out);

/* Like il_loop_call_later() with an absolute deadline on il_loop_time()'s
 * clock. Loop thread. Errors: as il_loop_call_soon(). */
IL_EXTERN int il_loop_call_at(il_loop_t *loop, double when, il_callback_fn cb,
                              void *arg, il_handle_t **out);

/* Schedules cb(loop, arg) from any thread, waking the loop if it is blocked.
 * Calls from one thread run in the order made. The only scheduling call other
 * threads may make. Errors: IL_EINVAL, IL_ECLOSED, IL_ENOMEM. */
IL_EXTERN int il_loop_call_soon_threadsafe(il_loop_t *loop, il_callback_fn cb,
                                           void *arg);

/* ---- handles ------------------------------------------------------------ */

/* Cancels the handle's callback if it has not run yet. Returns 1 if this call
 * cancelled it, 0 if it had already run or been cancelled (nothing changes),
 * IL_EINVAL for NULL. Loop thread; safe after the loop is closed. */
IL_EXTERN int il_handle_cancel(il_handle_t *h);

/* 1 if the handle was cancelled, 0 otherwise (or NULL). */
IL_EXTERN int il_handle_cancelled(const il_handle_t *h);

/* The deadline of a timer handle on il_loop_time()'s clock; -1.0 for a handle
 * from call_soon or NULL. */
IL_EXTERN double il_handle_when(const il_handle_t *h);

/* Gives up the caller's reference. The handle must not be used afterwards;
 * releasing does not cancel. Loop thread; safe after the loop is closed.
 * NULL is a no-op. */
IL_EXTERN void il_handle_release(il_handle_t *h);

/* ---- file descriptors --------------------------------------------------- */

/* Calls cb(loop, fd, arg) on every pass in which fd is readable, until
 * il_loop_remove_reader(). Replaces an earlier reader of the same fd. The fd
 * stays the caller's: interloop never closes it. Loop thread.
 * Errors: IL_EINVAL (NULL, negative fd, NULL cb), IL_EBADF (not an open fd),
 * IL_EPERM (fd kind the backend cannot watch, e.g. a regular file on epoll),
 * IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_loop_add_reader(il_loop_t *loop, int fd, il_io_fn cb,
                                 void *arg);

/* As il_loop_add_reader() for writability. */
IL_EXTERN int il_loop_add_writer(il_loop_t *loop, int fd, il_io_fn cb,
                                 void *arg);

/* Stops watching fd for reading. Returns 1 if a reader was registered, 0 if
 * not (also after the loop is closed), IL_EINVAL for NULL or a negative fd,
 * IL_EWRONGTHREAD. Call it before closing the fd. Loop thread. */
IL_EXTERN int il_loop_remove_reader(il_loop_t *loop, int fd);

/* As il_loop_remove_reader() for writability. */
IL_EXTERN int il_loop_remove_writer(il_loop_t *loop, int fd);

/* ---- signals ------------------------------------------------------------ */

/* Calls cb(loop, signum, arg) on the loop thread after signum arrives (several
 * deliveries before the loop notices may be coalesced into one call), waking
 * a blocked loop. Replaces an earlier handler for signum on this loop.
 * Errors: IL_EINVAL (NULL, SIGKILL, SIGSTOP, out of range), IL_ENOTSUP,
 * IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. Loop thread. */
IL_EXTERN int il_loop_add_signal_handler(il_loop_t *loop, int signum,
                                         il_signal_fn cb, void *arg);

/* Removes this loop's handler for signum. Returns 1 if one was registered,
 * 0 if not, IL_EINVAL (NULL, bad signum). Loop thread. */
IL_EXTERN int il_loop_remove_signal_handler(il_loop_t *loop, int signum);

/* ---- errors nobody else can receive ------------------------------------- */

typedef enum il_error_source {
  IL_SOURCE_CALLBACK = 1,   /* a call_soon callback returned an error */
  IL_SOURCE_TIMER = 2,      /* a call_later / call_at callback */
  IL_SOURCE_READER = 3,     /* an add_reader callback */
  IL_SOURCE_WRITER = 4,     /* an add_writer callback */
  IL_SOURCE_SIGNAL = 5,     /* a signal handler */
  IL_SOURCE_THREADSAFE = 6, /* a call_soon_threadsafe callback */
  IL_SOURCE_USER = 7,       /* il_loop_report_error() */
  IL_SOURCE_BACKEND = 8,    /* the engine reported a failure */
  IL_SOURCE_FUTURE = 9,     /* a future's error was never retrieved */
  IL_SOURCE_DEBUG = 10,     /* debug mode: slow callback, leaked handle */
  IL_SOURCE_SERVER = 11,    /* a server survived an accept error (fd: the
                               listening socket) */
  IL_SOURCE_TRANSPORT = 12, /* a transport failed where no caller could
                               be told (fd: its socket) */
  IL_SOURCE_EXECUTOR = 13,  /* the executor could not start a thread */
  IL_SOURCE_PROCESS = 14    /* a child was reaped by someone else (fd: its
                               pid) */
} il_error_source_t;

typedef struct il_error_context {
  size_t size;              /* sizeof(il_error_context_t) */
  int code;                 /* IL_E* code; 0 for debug-mode warnings */
  il_error_source_t source;
  const char *message;      /* never NULL; valid during the handler call */
  const void *callback;     /* the failing callback's address, or NULL */
  void *arg;                /* the failing callback's arg, or NULL */
  int fd;                   /* READER / WRITER: the fd; SIGNAL: signum; -1 */
} il_error_context_t;

typedef void (*il_error_handler_fn)(il_loop_t *loop,
                                    const il_error_context_t *ctx, void *ud);

/* Sets the handler that receives errors nobody else can receive. NULL restores
 * the default handler, which prints one line to stderr. Loop thread.
 * Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_set_error_handler(il_loop_t *loop,
                                        il_error_handler_fn fn, void *ud);

/* Calls the loop's error handler now with source IL_SOURCE_USER (for
 * libraries that own a failure nobody else can receive). `message` may be
 * NULL. Loop thread. Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_report_error(il_loop_t *loop, int code,
                                   const char *message);

/* The handler used when none is set: prints the context to stderr. */
IL_EXTERN void il_loop_default_error_handler(il_loop_t *loop,
                                             const il_error_context_t *ctx,
                                             void *ud);

/* ---- introspection ------------------------------------------------------ */

typedef struct il_loop_stats {
  size_t size;            /* set to sizeof(il_loop_stats_t) by the caller */
  uint64_t handles_held;  /* handles returned to the caller, not released */
  uint64_t ready;         /* callbacks scheduled and not yet run or dropped */
  uint64_t timers;        /* timers pending (cancelled ones excluded) */
  uint64_t readers;       /* fds with a reader */
  uint64_t writers;       /* fds with a writer */
  uint64_t signals;       /* signal handlers */
  uint64_t passes;        /* passes run since the loop was created */
  uint64_t callbacks_run; /* callbacks run since the loop was created */
  uint64_t dispatches;    /* times the backend handed the core a turn (about
                             once per engine iteration) */
  uint64_t transports;    /* transports not yet freed (open, or lost but
                             still referenced) */
  uint64_t servers;       /* servers not yet freed */
  uint64_t executor_jobs; /* executor jobs queued or running */
  uint64_t processes;     /* subprocesses not yet freed (running, or exited
                             but still referenced) */
} il_loop_stats_t;

#define IL_LOOP_STATS_INIT                                                     \
  {sizeof(il_loop_stats_t), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/* Fills *stats (which must have size set). Loop thread.
 * Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_get_stats(const il_loop_t *loop, il_loop_stats_t *stats);

/* 1 if the loop runs in debug mode. */
IL_EXTERN int il_loop_get_debug(const il_loop_t *loop);

IL_END_DECLS

#endif /* INTERLOOP_LOOP_H */
