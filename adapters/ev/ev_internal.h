/* adapters/ev/ev_internal.h — the libev adapter's private types (il__ev_*).
 *
 * Shared by ev.c (the backend ops), signals.c (process-wide signal fan-out),
 * plugin.c (the run-time plugin's entry) and adopt.c (the linkable library's
 * public functions). Never installed. */
#ifndef IL__EV_INTERNAL_H
#define IL__EV_INTERNAL_H

#include <interloop/backend.h>
#include <interloop/error.h>

#include <ev.h>

#include <stdatomic.h>
#include <stdint.h>

/* Signals 1..64 fit one uint64_t bit mask (bit signum-1). */
#define IL__EV_NSIG 65

typedef struct il__ev il__ev_t;

/* One fd watcher: the ev_io first, so libev's pointer is ours. */
typedef struct il__ev_io {
  ev_io w;
  il__ev_t *st;
  struct il__ev_io *prev, *next; /* the state's started watchers */
  void *ud;                      /* host->io's first argument */
  unsigned events;               /* IL_IO_READ | IL_IO_WRITE */
} il__ev_io_t;

typedef struct il__ev_sig {
  int signum;
  void *ud; /* host->signal's first argument */
} il__ev_sig_t;

struct il__ev {
  const il_backend_host_t *host;
  struct ev_loop *loop;
  int owned; /* 1: we created the engine loop and free it in destroy */

  /* Wakeup from any thread. Started for the whole life of the state but
   * unreferenced (ev_unref), so it never keeps an application's ev_run
   * alive on its own; ops->run references it while interloop runs. */
  ev_async wake;
  atomic_int wake_pending; /* 1 between ops->wakeup and the async callback */
  int wake_refd;           /* inside ops->run: the loop holds a reference */

  /* "dispatch soon": the idle watcher keeps ev_run from blocking, the check
   * watcher calls host->dispatch once per iteration after the poll. Both
   * are active (and referenced: ready callbacks keep the loop alive) only
   * while the core has ready work. */
  ev_idle soon_idle;
  ev_check soon_check;
  int soon;

  /* Never started: fed with ev_feed_event after host->io / timer / wakeup /
   * signal, so host->dispatch runs at the end of the same invoke phase
   * (EV_MINPRI, after every default-priority callback). */
  ev_check kick;

  ev_timer timer; /* the core's one re-armable one-shot timer */

  int stop;         /* ops->stop was called during the current ops->run */
  il__ev_io_t *ios; /* fd watchers started and not stopped */

  /* Signals: a slot in signals.c's process-wide table, and an async the
   * signal handler sends to. The async is referenced while a signal is
   * watched, as libev's own ev_signal would be. */
  int sig_slot; /* -1 until the first signal watcher */
  ev_async sig_async;
  unsigned nsigs;
  il__ev_sig_t *sigs[IL__EV_NSIG];

  il__ev_t *next_attached; /* the process-wide list of live states */
};

extern const il_backend_ops_t il__ev_ops;

/* Linux IL_E* codes are the errno values negated (error.h). */
static inline int il__ev_sys_error(int err) {
  return err > 0 ? -err : IL_EIO;
}

/* ---- signals.c: process-wide signal delivery to every interested loop ---- */

/* Registers the state's async as a receiver; returns the slot or IL_E*. */
int il__ev_sig_slot_claim(struct ev_loop *loop, ev_async *async);
/* Detaches the slot; no handler touches the async once this returns. */
void il__ev_sig_slot_release(int slot);
/* Installs the process-wide handler for signum if needed, marks it wanted. */
int il__ev_sig_watch(int slot, int signum);
/* Unmarks signum; restores the prior disposition when no loop wants it. */
void il__ev_sig_unwatch(int slot, int signum);
/* The signals that arrived for this slot since the last call. */
uint64_t il__ev_sig_take_pending(int slot);
/* In a forked child (pthread_atfork): forget handler activity of threads
 * that do not exist there. */
void il__ev_sig_atfork_child(void);

/* ---- ev.c: the list of live states, for foreign_free's check ------------ */

/* Serialises the process-wide tables of ev.c and signals.c; re-initialised
 * in a forked child (pthread_atfork), where its owner thread is gone. */
void il__ev_registry_lock(void);
void il__ev_registry_unlock(void);

#endif /* IL__EV_INTERNAL_H */
