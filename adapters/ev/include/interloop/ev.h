/* interloop/ev.h — the libev adapter: use interloop on a libev loop the
 * application already runs. See adapters/ev/README.md.
 *
 * Link with libinterloop-ev (CMake: interloop::interloop-ev), which links
 * libinterloop and libev. An application that only wants interloop to own
 * its loop needs none of this: il_loop_new() with backend "ev" loads the
 * plugin at run time.
 *
 * Threads: as for every loop (loop.h), an adopted loop belongs to the thread
 * that adopted it; that thread also drives the ev loop. */
#ifndef INTERLOOP_EV_H
#define INTERLOOP_EV_H

#include <ev.h>

#include <interloop/backend.h>

IL_BEGIN_DECLS

/* Wraps the application's libev loop `ev` in a new interloop loop. On
 * success *out owns the new loop (close it with il_loop_close(), free it
 * with il_loop_free()); `ev` stays the application's, which keeps driving
 * it with ev_run(): interloop's ready callbacks, pending timers, fd watchers
 * and signal handlers keep ev_run going as native watchers would, a pending
 * call_soon_threadsafe alone does not. il_loop_run() on the returned loop
 * also works, but never from inside a callback of that ev loop (IL_ERUNNING).
 * il_loop_close() stops every watcher interloop started on `ev` and leaves
 * everything the application started untouched; afterwards the application
 * may keep using `ev` and frees it with ev_loop_destroy() as before (never
 * before il_loop_close()). Calling thread (it owns the new loop).
 * Errors: IL_EINVAL (ev or out NULL), IL_ENOMEM, IL_EBACKENDABI. */
IL_EXTERN int il_ev_adopt(struct ev_loop *ev, il_loop_t **out);

/* The libev loop under an interloop loop of the ev backend, adopted or
 * owned; NULL if `loop` is NULL, closed, or runs on another backend. The
 * pointer stays the loop's (or the application's): do not destroy it.
 * Any thread. Errors: none (NULL as above). */
IL_EXTERN struct ev_loop *il_ev_loop_get(il_loop_t *loop);

/* The ev backend's operations, for il_loop_new_with_backend() or
 * il_backend_load()-style introspection. Static storage, valid for the life
 * of the process. Any thread. Errors: none (never NULL). */
IL_EXTERN const il_backend_ops_t *il_ev_backend(void);

IL_END_DECLS

#endif /* INTERLOOP_EV_H */
