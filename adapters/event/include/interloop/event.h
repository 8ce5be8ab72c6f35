/* interloop/event.h — interloop on libevent. See adapters/event/README.md.
 *
 * Link libinterloop-event (CMake: interloop::interloop-event) to run
 * interloop on an event_base the application already owns and drives. A
 * loop that owns its base needs none of this: il_loop_new() with backend
 * "event" loads the run-time plugin.
 *
 * The application keeps running the base with event_base_dispatch() /
 * event_base_loop(), or runs it through il_loop_run(); both work. interloop
 * adds its own events to the base: its pending timers, ready callbacks, fd
 * and signal watchers keep event_base_dispatch() running the way the
 * application's own events would; its thread-safe wakeup does not. Call
 * event_base_priority_init() before adopting, if at all. After
 * il_loop_close() no event of interloop's is left on the base, and
 * event_base_free() stays the application's job. */
#ifndef INTERLOOP_EVENT_H
#define INTERLOOP_EVENT_H

#include <event2/event.h>
#include <interloop/backend.h>

IL_BEGIN_DECLS

/* Creates a loop running on `base`, which stays the application's: closing
 * the loop leaves the base as it was found, and the base must outlive the
 * loop's il_loop_close(). On success *out owns the new loop. The calling
 * thread owns the loop and must be the thread that runs the base.
 * Errors: IL_EINVAL (NULL base or out), IL_ENOMEM, IL_EIO (libevent refused
 * an event), IL_ENOBACKEND (this libevent is not the one the adapter was
 * built for; see il_loop_last_error_message()). */
IL_EXTERN int il_event_adopt(struct event_base *base, il_loop_t **out);

/* The event_base a loop on the "event" backend runs on (adopted or owned);
 * NULL for NULL, a closed loop, or a loop on another backend. The base stays
 * owned by whoever owned it: an owned base is freed by il_loop_close(). Loop
 * thread. */
IL_EXTERN struct event_base *il_event_loop_get(il_loop_t *loop);

/* The libevent backend's ops, for il_loop_new_with_backend(). Static
 * storage, valid for the life of the process. Any thread. Never NULL. */
IL_EXTERN const il_backend_ops_t *il_event_backend(void);

IL_END_DECLS

#endif /* INTERLOOP_EVENT_H */
