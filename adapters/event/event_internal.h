/* adapters/event/event_internal.h — the libevent adapter's private types.
 *
 * The same sources build twice: as the run-time plugin (IL__EVENT_PLUGIN
 * defined), which reaches libevent only through a table of function pointers
 * it fills with dlsym() on its own handle of libevent_core, and as the
 * linkable library, which calls libevent directly. Every libevent call in
 * the adapter goes through IL__EV(name) so both builds share one text.
 * Never installed. */
#ifndef IL__EVENT_INTERNAL_H
#define IL__EVENT_INTERNAL_H

#include <interloop/backend.h>
#include <interloop/error.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdatomic.h>
#include <stdint.h>

#define IL__EVENT_UNUSED(x) ((void)(x))

/* Signals 1..64, one bit each in a uint64_t. */
#define IL__EVENT_NSIG 65

/* Every libevent function the adapter calls. Keep it to functions that exist
 * since libevent 2.1.2 and appear in its 2.1 ABI. */
#define IL__EVENT_API(X)                                                       \
  X(event_config_new)                                                          \
  X(event_config_free)                                                         \
  X(event_config_set_flag)                                                     \
  X(event_base_new_with_config)                                                \
  X(event_base_new)                                                            \
  X(event_base_free)                                                           \
  X(event_base_loop)                                                           \
  X(event_base_loopbreak)                                                      \
  X(event_base_update_cache_time)                                              \
  X(event_base_get_npriorities)                                                \
  X(event_base_get_num_events)                                                 \
  X(event_base_foreach_event)                                                  \
  X(event_reinit)                                                              \
  X(event_assign)                                                              \
  X(event_add)                                                                 \
  X(event_del)                                                                 \
  X(event_active)                                                              \
  X(event_priority_set)                                                        \
  X(event_debug_unassign)                                                      \
  X(event_get_version)                                                         \
  X(event_get_struct_event_size)

#ifdef IL__EVENT_PLUGIN
/* __typeof__ takes each member's type from libevent's own prototype without
 * referencing the symbol, so the plugin has no undefined event_* symbol. */
typedef struct il__event_api {
#define IL__EVENT_API_MEMBER(fn) __typeof__(&fn) fn;
  IL__EVENT_API(IL__EVENT_API_MEMBER)
#undef IL__EVENT_API_MEMBER
} il__event_api_t;
extern il__event_api_t il__event_api;
#define IL__EV(fn) (il__event_api.fn)
#else
#define IL__EV(fn) fn
#endif

/* Makes libevent callable: the plugin opens and binds libevent_core (once,
 * thread-safe); both builds check that struct event, which the adapter
 * embeds in its own objects, has the size libevent was built with.
 * Returns 0, or IL_ENOBACKEND with the reason in il__event_api_error(). */
int il__event_api_load(void);
const char *il__event_api_error(void);

/* The ops table (event.c). */
extern const il_backend_ops_t il__event_ops;

/* ---- the backend's objects ------------------------------------------------
 */

typedef struct il__event il__event_t;

typedef struct il__event_io {
  struct event ev; /* first: its callback argument is the watcher */
  il__event_t *st;
  struct il__event_io *prev, *next; /* every started watcher */
  int fd;
  unsigned events; /* IL_IO_READ | IL_IO_WRITE */
  void *ud;
} il__event_io_t;

typedef struct il__event_sig {
  int signum;
  void *ud;
} il__event_sig_t;

struct il__event {
  const il_backend_host_t *host;
  struct event_base *base;
  int owned;    /* create() made the base: destroy() frees it */
  int priority; /* every event of ours runs in this one active queue */

  /* host->dispatch, later in the current iteration: activated after
   * host->io/timer/wakeup/signal. */
  struct event disp_ev;
  int disp_active;
  /* host->dispatch in the next iteration without blocking: a zero-timeout
   * timer, added while dispatch_soon is on. */
  struct event soon_ev;
  int soon;        /* dispatch_soon is on */
  int soon_armed;  /* soon_ev is added */
  int in_dispatch; /* inside host->dispatch */

  /* The core's one timer. */
  struct event timer_ev;
  int timer_on;
  uint64_t timer_deadline; /* CLOCK_MONOTONIC ns */
  uint64_t clock_lag_us;   /* how far behind the engine's clock was seen */

  /* The thread-safe wakeup: an eventfd with a persistent read event marked
   * internal, so it never keeps an application's loop alive. */
  struct event wake_ev;
  int wakefd;
  atomic_int wake_pending;

  int stop; /* ops->stop was called during run() */

  il__event_io_t *ios;

  /* Signals: a process-wide handler (signals.c) writes sigfd. */
  struct event sig_ev;
  int sigfd;    /* -1 until the first signal watcher */
  int sig_slot; /* -1 until the first signal watcher */
  int nsigs;    /* watchers started; sig_ev is added while > 0 */
  il__event_sig_t *sigs[IL__EVENT_NSIG];
};

/* ---- signals.c: process-wide signal delivery to this adapter's loops ----- */

/* Claims a delivery slot writing to fd. Returns the slot or IL_ENOMEM. */
int il__event_sig_slot_claim(int fd);
/* Stops delivery to the slot and frees it; waits out a running handler. */
void il__event_sig_slot_release(int slot);
/* Points the slot at another fd (after fork). */
void il__event_sig_slot_set_fd(int slot, int fd);
/* Starts/stops delivering signum to the slot. The first watcher of signum
 * in the process installs the handler; the last one puts back what was
 * there before. */
int il__event_sig_watch(int slot, int signum);
void il__event_sig_unwatch(int slot, int signum);
/* The signals that arrived for the slot since the last call, bit s-1 for
 * signal s. */
uint64_t il__event_sig_take(int slot);

#endif /* IL__EVENT_INTERNAL_H */
