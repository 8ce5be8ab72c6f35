/* adapters/uv/uv_internal.h — the libuv backend's private types.
 *
 * One il__uv_t per interloop loop. It owns four libuv handles on the engine
 * loop (owned or adopted) and starts one uv_poll_t per watched fd and one
 * uv_signal_t per watched signal:
 *
 *   timer   uv_timer_t    the core's one re-armable timer (referenced)
 *   idle    uv_idle_t     started while dispatch_soon is on, or after the
 *                         timer fired until the next check, so the poll
 *                         phase does not block (referenced: ready work
 *                         keeps the loop alive, as a native idle would)
 *   check   uv_check_t    after the poll phase: host->dispatch, every
 *                         iteration (unreferenced)
 *   async   uv_async_t    the thread-safe wakeup (unreferenced outside
 *                         ops->run)
 *
 * Never includes a core header: the plugin reaches the core only through
 * il_backend_host_t. */
#ifndef IL__UV_INTERNAL_H
#define IL__UV_INTERNAL_H

#include <interloop/backend.h>
#include <interloop/error.h>

#include <stdint.h>
#include <uv.h>

#define IL__UV_UNUSED(x) ((void)(x))

typedef struct il__uv {
  const il_backend_host_t *host;
  uv_loop_t *loop;
  int adopted; /* the application owns `loop` */
  uv_timer_t timer;
  uv_idle_t idle;
  uv_check_t check;
  uv_async_t async;
  uint64_t deadline_ns; /* CLOCK_MONOTONIC; valid while timer_on */
  int timer_on;
  int soon;     /* dispatch_soon is on */
  int kick;     /* the timer fired; the next check must dispatch */
  int stop;     /* ops->stop was called during the current ops->run */
  int nhandles; /* our four handles not yet through their close cb */
} il__uv_t;

/* An fd watcher. Freed in its close callback, which may run after
 * ops->destroy (adopted loops), so it holds no pointer to il__uv_t. */
typedef struct il__uv_io {
  uv_poll_t poll;
  const il_backend_host_t *host;
  void *ud;
  unsigned events; /* IL_IO_* interest */
  int fd;
} il__uv_io_t;

/* A signal watcher; freed in its close callback, like il__uv_io_t. */
typedef struct il__uv_sig {
  uv_signal_t sig;
  const il_backend_host_t *host;
  void *ud;
  int signum;
} il__uv_sig_t;

/* The backend's ops (uv.c). */
extern const il_backend_ops_t il__uv_ops;

/* A libuv error code as an IL_E* code (uv.c). */
int il__uv_err(int uv_err);

/* uv_io.c */
int il__uv_io_start(void *state, int fd, unsigned events, void *io_ud,
                    void **io);
int il__uv_io_modify(void *state, void *io, unsigned events);
void il__uv_io_stop(void *state, void *io);

/* uv_signal.c */
int il__uv_signal_start(void *state, int signum, void *sig_ud, void **sig);
void il__uv_signal_stop(void *state, void *sig);

#endif /* IL__UV_INTERNAL_H */
