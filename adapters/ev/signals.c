/* adapters/ev/signals.c — signals for ev loops, without ev_signal.
 *
 * libev lets only one loop watch a given signal (ev_signal_start on a second
 * loop is an assertion failure), but interloop promises that several loops
 * may watch the same signal and each is told. So the adapter does not use
 * ev_signal: it installs one process-wide sigaction handler per signal when
 * the first ev loop watches it, and puts back the disposition it replaced
 * when the last one stops. The handler marks the signal pending in each
 * interested loop's slot and calls ev_async_send on that loop's signal async
 * — both async-signal-safe — so every loop is told on its own thread.
 *
 * Coexistence with an application's own ev_signal (adopted loops): the
 * handler also calls ev_feed_signal(signum), which is exactly what libev's
 * own handler does, so an ev_signal the application started before interloop
 * watched the signal keeps being told; restoring the prior disposition puts
 * libev's handler back. An ev_signal started after interloop's watcher
 * replaces interloop's handler (libev calls sigaction itself): from then on
 * only libev's watcher is told, and interloop does not restore over it.
 *
 * Slots live in static storage and are never freed; a per-slot busy count
 * lets a loop that stops watching wait until no handler still uses its
 * async. */
#include "ev_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#define SLOTS 64

typedef struct sig_slot {
  atomic_int used;
  _Atomic(struct ev_loop *) loop;
  _Atomic(ev_async *) async;
  atomic_uint_least64_t wanted;
  atomic_uint_least64_t pending;
  atomic_int busy; /* handlers currently inside this slot */
} sig_slot_t;

static sig_slot_t slots[SLOTS];
/* Guarded by il__ev_registry_lock(). */
static int installed[IL__EV_NSIG]; /* ev loops watching each signal */
static struct sigaction previous[IL__EV_NSIG];

static inline uint64_t bit_of(int signum) {
  return UINT64_C(1) << (unsigned)(signum - 1);
}

static void on_signal(int signum) {
  int saved = errno;
  uint64_t bit = bit_of(signum);
  for (int i = 0; i < SLOTS; i++) {
    sig_slot_t *s = &slots[i];
    if (!(atomic_load(&s->wanted) & bit))
      continue;
    atomic_fetch_add(&s->busy, 1);
    /* Checked again under busy: a slot released between the two loads is
     * skipped, one still wanted stays valid until busy drops. */
    if (atomic_load(&s->wanted) & bit) {
      atomic_fetch_or(&s->pending, bit);
      struct ev_loop *loop = atomic_load(&s->loop);
      ev_async *async = atomic_load(&s->async);
      if (loop && async)
        ev_async_send(loop, async);
    }
    atomic_fetch_sub(&s->busy, 1);
  }
  /* What libev's own handler would do: tells an application's ev_signal on
   * this signal, if there is one; a no-op otherwise. */
  ev_feed_signal(signum);
  errno = saved;
}

static void wait_idle(sig_slot_t *s) {
  while (atomic_load(&s->busy) > 0)
    sched_yield();
}

int il__ev_sig_slot_claim(struct ev_loop *loop, ev_async *async) {
  il__ev_registry_lock();
  for (int i = 0; i < SLOTS; i++) {
    sig_slot_t *s = &slots[i];
    if (atomic_load(&s->used))
      continue;
    atomic_store(&s->used, 1);
    atomic_store(&s->wanted, 0);
    atomic_store(&s->pending, 0);
    atomic_store(&s->loop, loop);
    atomic_store(&s->async, async);
    il__ev_registry_unlock();
    return i;
  }
  il__ev_registry_unlock();
  return IL_ENOMEM; /* more than SLOTS ev loops watch signals at once */
}

void il__ev_sig_slot_release(int slot) {
  sig_slot_t *s = &slots[slot];
  il__ev_registry_lock();
  atomic_store(&s->wanted, 0);
  wait_idle(s);
  atomic_store(&s->loop, NULL);
  atomic_store(&s->async, NULL);
  atomic_store(&s->pending, 0);
  atomic_store(&s->used, 0);
  il__ev_registry_unlock();
}

int il__ev_sig_watch(int slot, int signum) {
  il__ev_registry_lock();
  if (installed[signum] == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &previous[signum]) != 0) {
      int err = errno;
      il__ev_registry_unlock();
      return il__ev_sys_error(err);
    }
  }
  installed[signum]++;
  atomic_fetch_or(&slots[slot].wanted, bit_of(signum));
  il__ev_registry_unlock();
  return 0;
}

void il__ev_sig_unwatch(int slot, int signum) {
  sig_slot_t *s = &slots[slot];
  il__ev_registry_lock();
  atomic_fetch_and(&s->wanted, ~bit_of(signum));
  atomic_fetch_and(&s->pending, ~bit_of(signum));
  wait_idle(s);
  if (--installed[signum] == 0) {
    /* Put back what was there before — unless someone (e.g. libev's own
     * ev_signal_start) installed a handler after ours: theirs stays. */
    struct sigaction cur;
    if (sigaction(signum, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
        cur.sa_handler == on_signal)
      sigaction(signum, &previous[signum], NULL);
  }
  il__ev_registry_unlock();
}

uint64_t il__ev_sig_take_pending(int slot) {
  return atomic_exchange(&slots[slot].pending, 0);
}

void il__ev_sig_atfork_child(void) {
  /* Only the forking thread exists in the child, and it is not inside the
   * handler: any busy count left is from a thread that is gone, and would
   * make the next unwatch wait forever. */
  for (int i = 0; i < SLOTS; i++)
    atomic_store(&slots[i].busy, 0);
}
