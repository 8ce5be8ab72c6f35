/* interloop/backend.h — the adapter ABI. See spec/SPEC.md §5.
 *
 * An engine adapter (a "backend") implements il_backend_ops_t: a small set of
 * primitives — fd watchers, one re-armable timer, "dispatch soon", a
 * thread-safe wakeup, signal watchers, run/stop — and the core builds every
 * user-visible behaviour on them, so every backend has identical semantics.
 *
 * The core calls the backend only on the loop thread, except ops->wakeup,
 * which any thread may call. The backend calls the host entry points
 * (il_backend_host_t) only on the loop thread, from inside its engine's
 * callbacks or its run function.
 *
 * Versioning: both structs begin with abi_version and struct_size. The loader
 * refuses a backend whose ABI major differs from the core's, or whose ops
 * struct is smaller than the ABI major's first release. A minor version may
 * append members; the core reads a member only if struct_size covers it.
 * Optional members may be NULL: the core then reports IL_ENOTSUP for the
 * feature, never a silent no-op. */
#ifndef INTERLOOP_BACKEND_H
#define INTERLOOP_BACKEND_H

#include "common.h"
#include "loop.h"

IL_BEGIN_DECLS

#define IL_BACKEND_ABI_MAJOR 1
#define IL_BACKEND_ABI_MINOR 0
#define IL_BACKEND_ABI_VERSION                                                 \
  (((uint32_t)IL_BACKEND_ABI_MAJOR << 16) | (uint32_t)IL_BACKEND_ABI_MINOR)
#define IL_BACKEND_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)

/* Interest and readiness bits for fd watchers. */
#define IL_IO_READ 1u
#define IL_IO_WRITE 2u

/* Feature bits in il_backend_ops_t.features. */
#define IL_BACKEND_F_ADOPT 1u   /* create() accepts a foreign engine loop */
#define IL_BACKEND_F_SIGNALS 2u /* signal_start/stop are implemented */
#define IL_BACKEND_F_FORK 4u    /* fork() is implemented */

/* The core's entry points, handed to ops->create(). The backend keeps the
 * pointer (it stays valid until ops->destroy returns) and calls these on the
 * loop thread only. None of them blocks; none of them calls back into the
 * backend except through ops->dispatch_soon, ops->timer_start/stop,
 * ops->io_modify/io_stop and ops->stop. */
typedef struct il_backend_host {
  uint32_t abi_version; /* IL_BACKEND_ABI_VERSION of the core */
  uint32_t struct_size; /* sizeof(il_backend_host_t) as the core saw it */
  void *core;           /* first argument of timer, wakeup and dispatch */

  /* The fd watcher whose io_start() received `io_ud` is ready. `revents` is a
   * subset of its interest; an error or hang-up condition is reported as
   * every event the watcher is interested in. Level-triggered: the backend
   * reports again in later iterations while the condition holds. */
  void (*io)(void *io_ud, unsigned revents);

  /* The timer set with ops->timer_start() expired. */
  void (*timer)(void *core);

  /* ops->wakeup() was called (possibly several times, coalesced). */
  void (*wakeup)(void *core);

  /* The signal watched with ops->signal_start(..., sig_ud, ...) arrived
   * (possibly several times, coalesced). */
  void (*signal)(void *sig_ud, int signum);

  /* Runs the core's ready work. The backend must call it (a) before it next
   * blocks, after any io/timer/wakeup/signal entry point was called in the
   * current iteration, and (b) at least once per iteration while
   * dispatch_soon is on. Calling it when nothing is ready is cheap. */
  void (*dispatch)(void *core);

  /* Reports an engine failure the backend cannot return to a caller; it
   * reaches the loop's error handler with IL_SOURCE_BACKEND. */
  void (*report)(void *core, int code, const char *message);
} il_backend_host_t;

typedef struct il_backend_ops {
  uint32_t abi_version; /* IL_BACKEND_ABI_VERSION the backend was built for */
  uint32_t struct_size; /* sizeof(il_backend_ops_t) as the backend saw it */
  const char *name;     /* short name: "uv", "ev", "event", "builtin" */
  uint32_t features;    /* IL_BACKEND_F_* */

  /* Required. "libuv 1.44.2": the engine and the version actually loaded.
   * Static string. Any thread. */
  const char *(*engine_version)(void);

  /* Required. Creates the backend state. engine_loop NULL: create and own an
   * engine loop. Otherwise adopt the application's engine loop (needs
   * IL_BACKEND_F_ADOPT, else return IL_ENOTSUP); the application may keep
   * running it with the engine's own run call. Returns 0 or IL_E*. */
  int (*create)(const il_backend_host_t *host, void *engine_loop,
                void **state);

  /* Required. Releases everything create() and later calls made. An owned
   * engine loop is freed; an adopted one is left exactly as it was found: no
   * watcher of the backend left on it, nothing the application owns stopped.
   * Called with every io, signal and the timer already stopped. */
  void (*destroy)(void *state);

  /* Required. Runs the engine on the calling thread. IL_RUN_DEFAULT: until
   * ops->stop() — even when the engine has no other active watchers.
   * IL_RUN_ONCE: one iteration, blocking for events unless dispatch_soon is on.
   * IL_RUN_NOWAIT: one iteration, never blocking. Returns 0 or IL_E*. */
  int (*run)(void *state, int mode);

  /* Required. Makes the current run() return after the current iteration. */
  void (*stop)(void *state);

  /* Required. on != 0: the engine must not block and must call host->dispatch
   * at least once per iteration until dispatch_soon(state, 0). Idempotent. */
  void (*dispatch_soon)(void *state, int on);

  /* Required. Arms the loop's single timer to call host->timer once, no
   * earlier than timeout_ns from now; an engine with a coarser clock rounds
   * up. Re-arming replaces the previous setting. */
  void (*timer_start)(void *state, uint64_t timeout_ns);

  /* Required. Disarms the timer. Idempotent. */
  void (*timer_stop)(void *state);

  /* Required. Any thread, also concurrently: makes the loop call
   * host->wakeup soon, waking it if it blocks. Coalescing is allowed, as
   * long as a wakeup() that finds one pending is followed by a
   * host->wakeup call that starts after it (clear the pending state before
   * calling host->wakeup, not after). Must not fail once create()
   * succeeded. */
  void (*wakeup)(void *state);

  /* Required. Starts watching fd for `events` (IL_IO_READ | IL_IO_WRITE, not
   * 0), reporting through host->io(io_ud, ...). *io receives the watcher.
   * The core starts at most one watcher per fd per loop. Returns 0 or IL_E*
   * (IL_EBADF, IL_EPERM, IL_ENOMEM, ...). */
  int (*io_start)(void *state, int fd, unsigned events, void *io_ud,
                  void **io);

  /* Required. Changes the interest of a started watcher (events != 0). */
  int (*io_modify)(void *state, void *io, unsigned events);

  /* Required. Stops and frees the watcher. host->io is not called for it
   * afterwards, also not later in the current iteration. */
  void (*io_stop)(void *state, void *io);

  /* Optional (IL_BACKEND_F_SIGNALS). Watches signum on this loop, reporting
   * through host->signal(sig_ud, signum). Other loops, of any backend, may
   * watch the same signal at the same time; each is told. */
  int (*signal_start)(void *state, int signum, void *sig_ud, void **sig);

  /* Optional (with signal_start). Stops and frees the signal watcher. */
  void (*signal_stop)(void *state, void *sig);

  /* Optional (IL_BACKEND_F_FORK). Re-initialises the engine in a child
   * process after fork(); every started watcher keeps working. */
  int (*fork)(void *state);

  /* Optional. The engine's loop object (uv_loop_t *, struct ev_loop *,
   * struct event_base *), owned or adopted. */
  void *(*engine_loop)(void *state);

  /* Optional, for the conformance suite's adopted mode: create an engine
   * loop as an application would, drive it with the engine's own run call
   * (mode as for run()), and free it, returning 0 if it was clean (no
   * watcher left on it) or IL_EBUSY if not (it is freed anyway when it can
   * be). */
  int (*foreign_new)(void **engine_loop);
  int (*foreign_run)(void *engine_loop, int mode);
  int (*foreign_free)(void *engine_loop);
} il_backend_ops_t;

/* The symbol a plugin exports. It returns the backend's ops (static storage)
 * or NULL if it cannot serve a core of host_abi_version. */
typedef const il_backend_ops_t *(*il_backend_plugin_fn)(
    uint32_t host_abi_version);
#define IL_BACKEND_PLUGIN_SYMBOL "il_backend_plugin"

/* Finds and loads a backend by name ("builtin", "uv", ...) or by path (any
 * name containing '/'). *out receives its ops, valid for the life of the
 * process (plugins are never unloaded). Any thread.
 * Errors: IL_EINVAL, IL_ENOBACKEND (not found, not loadable, no entry
 * symbol), IL_EBACKENDABI; il_loop_last_error_message() says why, naming
 * where it looked. */
IL_EXTERN int il_backend_load(const char *name_or_path,
                              const il_backend_ops_t **out);

/* Names of the backends this build can find: "builtin" and one entry per
 * plugin file in the search path. Writes up to `cap` static strings into
 * names and returns how many exist (which may exceed cap). Any thread. */
IL_EXTERN size_t il_backend_names(const char **names, size_t cap);

/* The plugin search path, ':'-separated, in the order searched: the
 * installed plugin directory, $INTERLOOP_PLUGIN_PATH, then beside the
 * library. Static string, per thread. */
IL_EXTERN const char *il_backend_search_path(void);

/* Creates a loop on the given backend ops, adopting engine_loop when it is
 * not NULL (the application keeps owning it). This is what an adapter's
 * il_<name>_adopt() calls. Loop thread (the adopting thread owns the loop).
 * Errors: as il_loop_new(), IL_ENOTSUP (adoption not supported). */
IL_EXTERN int il_loop_new_with_backend(il_loop_t **out,
                                       const il_backend_ops_t *ops,
                                       void *engine_loop,
                                       const il_loop_options_t *opts);

/* The backend ops a loop runs on; NULL for NULL. */
IL_EXTERN const il_backend_ops_t *il_loop_backend_ops(const il_loop_t *loop);

/* The engine loop object (see ops->engine_loop), NULL when the backend does
 * not expose one or the loop is NULL/closed. */
IL_EXTERN void *il_loop_engine_loop(const il_loop_t *loop);

/* 1 if the loop adopted a foreign engine loop, 0 if it owns it (or NULL). */
IL_EXTERN int il_loop_is_adopted(const il_loop_t *loop);

IL_END_DECLS

#endif /* INTERLOOP_BACKEND_H */
