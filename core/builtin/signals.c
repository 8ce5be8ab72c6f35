/* core/builtin/signals.c — signals for builtin loops.
 *
 * One process-wide handler per signal, installed with sigaction when the
 * first builtin loop watches it and replaced by the previous disposition
 * when the last stops. The handler only marks the signal pending in each
 * interested loop's slot and writes that loop's eventfd — both
 * async-signal-safe — so every loop watching a signal is told, on its own
 * thread. Slots live in static storage and are never freed; a per-slot busy
 * count lets a loop that releases its slot wait for a handler still using
 * the fd. */
#include "builtin.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64

typedef struct sig_slot {
  atomic_int used;
  atomic_int fd;
  atomic_uint_least64_t wanted;
  atomic_uint_least64_t pending;
  atomic_int busy;
} sig_slot_t;

static sig_slot_t slots[SLOTS];
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sig_mu_once = PTHREAD_ONCE_INIT;

/* A fork() while another thread holds the mutex would leave it locked
 * forever in the child: hold it across fork, release it on both sides. */
static void sig_mu_prepare(void) {
  pthread_mutex_lock(&sig_mu);
}
static void sig_mu_release(void) {
  pthread_mutex_unlock(&sig_mu);
}
static void sig_mu_init(void) {
  pthread_atfork(sig_mu_prepare, sig_mu_release, sig_mu_release);
}
static void sig_mu_lock(void) {
  pthread_once(&sig_mu_once, sig_mu_init);
  pthread_mutex_lock(&sig_mu);
}
static int installed[IL__NSIG];
static struct sigaction previous[IL__NSIG];

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
    if (atomic_load(&s->wanted) & bit) {
      atomic_fetch_or(&s->pending, bit);
      int fd = atomic_load(&s->fd);
      if (fd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(fd, &one, sizeof(one));
        (void)r;
      }
    }
    atomic_fetch_sub(&s->busy, 1);
  }
  errno = saved;
}

static void wait_idle(sig_slot_t *s) {
  while (atomic_load(&s->busy) > 0)
    sched_yield();
}

int il__bi_sig_slot_claim(int wakefd) {
  sig_mu_lock();
  for (int i = 0; i < SLOTS; i++) {
    if (!atomic_load(&slots[i].used)) {
      atomic_store(&slots[i].used, 1);
      atomic_store(&slots[i].wanted, 0);
      atomic_store(&slots[i].pending, 0);
      atomic_store(&slots[i].fd, wakefd);
      pthread_mutex_unlock(&sig_mu);
      return i;
    }
  }
  pthread_mutex_unlock(&sig_mu);
  return IL_ENOMEM;
}

void il__bi_sig_slot_set_fd(int slot, int wakefd) {
  atomic_store(&slots[slot].fd, wakefd);
}

int il__bi_sig_watch(int slot, int signum) {
  sig_mu_lock();
  if (installed[signum] == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &previous[signum]) != 0) {
      int err = errno;
      pthread_mutex_unlock(&sig_mu);
      return il_translate_sys_error(err);
    }
  }
  installed[signum]++;
  atomic_fetch_or(&slots[slot].wanted, bit_of(signum));
  pthread_mutex_unlock(&sig_mu);
  return 0;
}

void il__bi_sig_unwatch(int slot, int signum) {
  sig_mu_lock();
  atomic_fetch_and(&slots[slot].wanted, ~bit_of(signum));
  atomic_fetch_and(&slots[slot].pending, ~bit_of(signum));
  wait_idle(&slots[slot]);
  if (--installed[signum] == 0)
    sigaction(signum, &previous[signum], NULL);
  pthread_mutex_unlock(&sig_mu);
}

void il__bi_sig_slot_release(int slot) {
  sig_mu_lock();
  atomic_store(&slots[slot].wanted, 0);
  wait_idle(&slots[slot]);
  atomic_store(&slots[slot].fd, -1);
  atomic_store(&slots[slot].used, 0);
  pthread_mutex_unlock(&sig_mu);
}

uint64_t il__bi_sig_take_pending(int slot) {
  return atomic_exchange(&slots[slot].pending, 0);
}
