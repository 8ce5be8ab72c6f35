/* adapters/event/signals.c — signals for libevent loops.
 *
 * libevent 2.1 delivers signals to one event_base per process only (the one
 * that most recently added a signal event or started looping), so two loops
 * cannot both hear SIGUSR1 through evsignal. The adapter therefore keeps its
 * own process-wide table: the first watcher of a signal installs one
 * sigaction handler and saves the disposition it replaces; the last watcher
 * to stop puts that disposition back. The handler marks the signal pending
 * in every interested loop's slot and writes that loop's eventfd — both
 * async-signal-safe — and the loop reads the fd with an ordinary libevent
 * read event on its own thread.
 *
 * Slots are static and reused, never freed. A handler running on another
 * thread holds a slot's busy count while it uses the slot's fd, and a loop
 * that lets go of its slot waits for that count to drop before the fd can be
 * closed. */
#include "event_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64

typedef struct slot {
  atomic_int used;
  atomic_int fd;
  atomic_uint_least64_t wanted;  /* signals this slot's loop watches */
  atomic_uint_least64_t pending; /* arrived, not yet taken */
  atomic_int busy;               /* handlers using the slot right now */
} slot_t;

static slot_t slots[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int watchers[IL__EVENT_NSIG]; /* per signal, over every slot */
static struct sigaction saved[IL__EVENT_NSIG];

static uint64_t bit(int signum) {
  return UINT64_C(1) << (unsigned)(signum - 1);
}

static void handler(int signum) {
  int saved_errno = errno;
  uint64_t b = bit(signum);
  for (int i = 0; i < SLOTS; i++) {
    slot_t *s = &slots[i];
    if (!(atomic_load(&s->wanted) & b))
      continue;
    atomic_fetch_add(&s->busy, 1);
    /* Re-check under the busy count: release() clears `wanted` first and
     * then waits for busy to reach zero before the fd goes away. */
    if (atomic_load(&s->wanted) & b) {
      atomic_fetch_or(&s->pending, b);
      int fd = atomic_load(&s->fd);
      if (fd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(fd, &one, sizeof(one));
        (void)r; /* EAGAIN: the counter is full, so already readable */
      }
    }
    atomic_fetch_sub(&s->busy, 1);
  }
  errno = saved_errno;
}

static void wait_quiet(slot_t *s) {
  while (atomic_load(&s->busy) > 0)
    sched_yield();
}

/* Claiming and releasing a slot take no lock, only the slot's atomics: the
 * table's mutex is then only ever taken inside signal_start/signal_stop,
 * which the core calls under its own signal lock, held across fork() — so
 * no thread can hold this mutex at a fork, and it needs no atfork handler
 * of its own (one would also invert the two locks' order). */
int il__event_sig_slot_claim(int fd) {
  for (int i = 0; i < SLOTS; i++) {
    slot_t *s = &slots[i];
    int expected = 0;
    if (!atomic_compare_exchange_strong(&s->used, &expected, 1))
      continue;
    atomic_store(&s->wanted, 0);
    atomic_store(&s->pending, 0);
    atomic_store(&s->fd, fd);
    return i;
  }
  return IL_ENOMEM;
}

void il__event_sig_slot_release(int slot) {
  slot_t *s = &slots[slot];
  /* Watchers were stopped one by one before (the core stops every signal
   * watcher before destroy); this only makes sure no handler still writes
   * to the fd the caller is about to close. */
  atomic_store(&s->wanted, 0);
  wait_quiet(s);
  atomic_store(&s->fd, -1);
  atomic_store(&s->pending, 0);
  atomic_store(&s->used, 0);
}

void il__event_sig_slot_set_fd(int slot, int fd) {
  atomic_store(&slots[slot].fd, fd);
}

int il__event_sig_watch(int slot, int signum) {
  if (signum <= 0 || signum >= IL__EVENT_NSIG)
    return IL_EINVAL;
  pthread_mutex_lock(&mu);
  if (watchers[signum] == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    /* SA_RESTART: the application's blocking calls are not interrupted on
     * our account. The mask keeps the handler from nesting. */
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &saved[signum]) != 0) {
      int err = errno;
      pthread_mutex_unlock(&mu);
      return -err;
    }
  }
  watchers[signum]++;
  atomic_fetch_or(&slots[slot].wanted, bit(signum));
  pthread_mutex_unlock(&mu);
  return 0;
}

void il__event_sig_unwatch(int slot, int signum) {
  slot_t *s = &slots[slot];
  pthread_mutex_lock(&mu);
  atomic_fetch_and(&s->wanted, ~bit(signum));
  atomic_fetch_and(&s->pending, ~bit(signum));
  if (--watchers[signum] == 0)
    sigaction(signum, &saved[signum], NULL);
  pthread_mutex_unlock(&mu);
}

uint64_t il__event_sig_take(int slot) {
  return atomic_exchange(&slots[slot].pending, 0);
}
