/* interloop/uv.h — the libuv adapter: use interloop on a libuv loop the
 * application already runs. See adapters/uv/README.md.
 *
 * Link with libinterloop-uv (CMake: interloop::interloop-uv), which links
 * libinterloop and libuv. An application that only wants interloop to own
 * its loop needs none of this: il_loop_new() with backend "uv" loads the
 * plugin at run time.
 *
 * Threads: as for every loop (loop.h), an adopted loop belongs to the thread
 * that adopted it; that thread also drives the uv loop. */
#ifndef INTERLOOP_UV_H
#define INTERLOOP_UV_H

#include <uv.h>

#include <interloop/backend.h>

IL_BEGIN_DECLS

/* Wraps the application's libuv loop `uv` in a new interloop loop. On
 * success *out owns the new loop (close it with il_loop_close(), free it
 * with il_loop_free()); `uv` stays the application's, which keeps driving
 * it with uv_run(): interloop's ready callbacks, pending timers, fd watchers
 * and signal handlers keep uv_run going as native handles would; a pending
 * call_soon_threadsafe alone does not (it runs on the next iteration the
 * application makes). il_loop_run() on the returned loop also works, but
 * never from inside a callback of that uv loop: libuv's uv_run is not
 * re-entrant and offers no way to detect it.
 * il_loop_close() closes every handle interloop started on `uv` and
 * touches nothing the application started. libuv completes a close only
 * inside uv_run: before uv_loop_close(uv) the application must let the loop
 * run once more (uv_run(uv, UV_RUN_NOWAIT), as for any handle it closes
 * itself), which also frees what interloop still held. Never free `uv`
 * before il_loop_close(). Calling thread (it owns the new loop).
 * Errors: IL_EINVAL (uv or out NULL), IL_ENOMEM, IL_EMFILE (libuv could not
 * create its wakeup eventfd), IL_EBACKENDABI. */
IL_EXTERN int il_uv_adopt(uv_loop_t *uv, il_loop_t **out);

/* The libuv loop under an interloop loop of the uv backend, adopted or
 * owned; NULL if `loop` is NULL, closed, or runs on another backend. The
 * pointer stays the loop's (or the application's): do not close it.
 * Any thread. Errors: none (NULL as above). */
IL_EXTERN uv_loop_t *il_uv_loop_get(il_loop_t *loop);

/* The uv backend's operations, for il_loop_new_with_backend() or
 * introspection. Static storage, valid for the life of the process.
 * Any thread. Errors: none (never NULL). */
IL_EXTERN const il_backend_ops_t *il_uv_backend(void);

IL_END_DECLS

#endif /* INTERLOOP_UV_H */
