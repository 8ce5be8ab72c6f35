/* core/signal_chain.c — several engines handling one signal in one process.
 *
 * Each engine installs its own process-wide sigaction for a signal it
 * watches (libuv, libevent, the builtin backend ...) and none of them calls
 * the handler it replaced, so two loops on different backends watching the
 * same signal would silently starve one another. The core therefore wraps
 * every backend's signal_start/signal_stop: it notes the handler the engine
 * installed, per backend, and afterwards re-asserts the process disposition
 * itself — the one engine handler directly when only one backend watches the
 * signal, a trampoline that calls each engine handler in turn when several
 * do, and the disposition found before the first watcher once the last one
 * is gone. Engines still do their own signal handling, so an adopted loop's
 * own signal watchers keep working. */
#include "internal.h"

#include <errno.h>
#include <string.h>

#define MAX_BACKENDS 8

typedef struct chain_entry {
  const il_backend_ops_t *ops; /* NULL: free slot */
  int watchers;                /* loops of this backend watching */
  struct sigaction handler;    /* what its engine installed */
  int has_handler;
} chain_entry_t;

/* What the trampoline reads, lock-free, from signal context. */
typedef struct chain_call {
  _Atomic(void (*)(int)) plain;
  _Atomic(void (*)(int, siginfo_t *, void *)) info;
} chain_call_t;

static pthread_mutex_t chain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t chain_mu_once = PTHREAD_ONCE_INIT;

/* A fork() while another thread holds the mutex would leave it locked
 * forever in the child: the child re-initialises it. It is not held across
 * fork by a prepare handler, because the backends' own signal mutexes are
 * taken under it (sigchain_start calls the backend) and their prepare
 * handlers, registered later, run first: holding ours there would take
 * the two in the opposite order (a fork racing a signal_start on another
 * thread could deadlock). A thread in the middle of a chain update at the
 * moment of fork is the one case this does not cover; the critical
 * sections are a few stores long. */
static void chain_mu_child(void) {
  pthread_mutex_init(&chain_mu, NULL);
}
static void chain_mu_init(void) {
  pthread_atfork(NULL, NULL, chain_mu_child);
}
static void chain_mu_lock(void) {
  pthread_once(&chain_mu_once, chain_mu_init);
  pthread_mutex_lock(&chain_mu);
}
static chain_entry_t entries[IL__NSIG][MAX_BACKENDS];
static chain_call_t calls[IL__NSIG][MAX_BACKENDS];
static struct sigaction original[IL__NSIG];
static int active[IL__NSIG]; /* watchers of any backend */

static void trampoline(int signum, siginfo_t *info, void *ctx) {
  int saved = errno;
  for (int i = 0; i < MAX_BACKENDS; i++) {
    void (*f)(int, siginfo_t *, void *) = atomic_load(&calls[signum][i].info);
    void (*g)(int) = atomic_load(&calls[signum][i].plain);
    if (f)
      f(signum, info, ctx);
    else if (g)
      g(signum);
  }
  errno = saved;
}

static int is_function(const struct sigaction *sa) {
  if (sa->sa_flags & SA_SIGINFO)
    return sa->sa_sigaction != NULL;
  return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN &&
         sa->sa_handler != NULL;
}

static int is_trampoline(const struct sigaction *sa) {
  return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == trampoline;
}

static int same_handler(const struct sigaction *a, const struct sigaction *b) {
  if ((a->sa_flags & SA_SIGINFO) != (b->sa_flags & SA_SIGINFO))
    return 0;
  return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction == b->sa_sigaction
                                    : a->sa_handler == b->sa_handler;
}

static chain_entry_t *entry_for(int signum, const il_backend_ops_t *ops,
                                int create) {
  chain_entry_t *free_slot = NULL;
  for (int i = 0; i < MAX_BACKENDS; i++) {
    if (entries[signum][i].ops == ops)
      return &entries[signum][i];
    if (!entries[signum][i].ops && !free_slot)
      free_slot = &entries[signum][i];
  }
  if (!create || !free_slot)
    return NULL;
  memset(free_slot, 0, sizeof(*free_slot));
  free_slot->ops = ops;
  return free_slot;
}

/* Installs what the entries call for. Called with chain_mu held. */
static void reassert(int signum) {
  const chain_entry_t *only = NULL;
  int n = 0;
  for (int i = 0; i < MAX_BACKENDS; i++) {
    const chain_entry_t *e = &entries[signum][i];
    chain_call_t *c = &calls[signum][i];
    if (e->ops && e->has_handler) {
      n++;
      only = e;
      if (e->handler.sa_flags & SA_SIGINFO) {
        atomic_store(&c->info, e->handler.sa_sigaction);
        atomic_store(&c->plain, NULL);
      } else {
        atomic_store(&c->plain, e->handler.sa_handler);
        atomic_store(&c->info, NULL);
      }
    } else {
      atomic_store(&c->info, NULL);
      atomic_store(&c->plain, NULL);
    }
  }
  if (active[signum] == 0) {
    sigaction(signum, &original[signum], NULL);
  } else if (n == 1) {
    sigaction(signum, &only->handler, NULL);
  } else if (n > 1) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = trampoline;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    sigaction(signum, &sa, NULL);
  }
  /* n == 0 with watchers: the engines use no handler (e.g. signalfd);
   * leave the disposition to them. */
}

int il__sigchain_start(il_loop_t *loop, il__sigw_t *s) {
  int signum = s->signum;
  chain_mu_lock();
  struct sigaction before;
  sigaction(signum, NULL, &before);
  if (active[signum] == 0)
    original[signum] = before;
  chain_entry_t *e = entry_for(signum, loop->ops, 1);
  if (!e) {
    pthread_mutex_unlock(&chain_mu);
    return IL_ENOMEM;
  }
  int rc = loop->ops->signal_start(loop->bstate, signum, s, &s->bsig);
  if (rc < 0) {
    if (e->watchers == 0)
      e->ops = NULL;
    pthread_mutex_unlock(&chain_mu);
    return rc;
  }
  struct sigaction after;
  sigaction(signum, NULL, &after);
  if (is_function(&after) && !is_trampoline(&after) &&
      !same_handler(&after, &before)) {
    e->handler = after; /* the engine installed (or re-installed) one */
    e->has_handler = 1;
  } else if (!e->has_handler && e->watchers == 0 && active[signum] == 0 &&
             is_function(&after) && !is_trampoline(&after)) {
    /* First watcher of all, and the engine kept a handler that was already
     * there (an application's own engine loop installed it): it is the
     * engine's. */
    e->handler = after;
    e->has_handler = 1;
  }
  e->watchers++;
  active[signum]++;
  reassert(signum);
  pthread_mutex_unlock(&chain_mu);
  return 0;
}

void il__sigchain_stop(il_loop_t *loop, il__sigw_t *s) {
  int signum = s->signum;
  chain_mu_lock();
  loop->ops->signal_stop(loop->bstate, s->bsig);
  s->bsig = NULL;
  chain_entry_t *e = entry_for(signum, loop->ops, 0);
  if (e && --e->watchers == 0)
    e->ops = NULL;
  if (active[signum] > 0)
    active[signum]--;
  reassert(signum);
  pthread_mutex_unlock(&chain_mu);
}
