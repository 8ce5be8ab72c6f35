/* adapters/uv/uv_signal.c — signal watchers on uv_signal_t.
 *
 * libuv keeps one process-wide table of uv_signal_t and one sigaction
 * handler per signal; the handler writes to the signal pipe of every loop
 * that watches the signal, so several loops of this backend (and the
 * application's own uv_signal_t on an adopted loop) are each told. Going
 * through libuv rather than a sigaction of our own is what keeps an adopted
 * loop's own signal watchers working.
 *
 * What libuv does not do is put back the disposition it replaced: when the
 * last uv_signal_t of a signal stops it installs SIG_DFL. The adapter counts
 * its own watchers per signal, across every loop of this backend in the
 * process, notes the disposition before its first one and restores it after
 * its last one — unless that disposition was libuv's own handler (the
 * application's uv_signal_t came first; SIG_DFL is then what libuv would
 * have left anyway) or somebody installed another handler meanwhile. */
#include "uv_internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifndef NSIG
#define NSIG 65
#endif

static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sig_once = PTHREAD_ONCE_INIT;
static int watchers[NSIG];               /* ours, all uv loops */
static struct sigaction prior[NSIG];     /* before our first watcher */
static struct sigaction libuv_has[NSIG]; /* right after it started */

/* A fork() while another thread holds the mutex would leave it locked for
 * good in the child: hold it across fork, release it on both sides. */
static void sig_lock_raw(void) {
  pthread_mutex_lock(&sig_mu);
}
static void sig_unlock_raw(void) {
  pthread_mutex_unlock(&sig_mu);
}
static void sig_init(void) {
  pthread_atfork(sig_lock_raw, sig_unlock_raw, sig_unlock_raw);
}
static void sig_lock(void) {
  pthread_once(&sig_once, sig_init);
  pthread_mutex_lock(&sig_mu);
}

static int same_handler(const struct sigaction *a, const struct sigaction *b) {
  if ((a->sa_flags & SA_SIGINFO) != (b->sa_flags & SA_SIGINFO))
    return 0;
  return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction == b->sa_sigaction
                                    : a->sa_handler == b->sa_handler;
}

static int is_default(const struct sigaction *sa) {
  return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_DFL;
}

static void on_signal(uv_signal_t *h, int signum) {
  il__uv_sig_t *w = h->data;
  if (w->ud)
    w->host->signal(w->ud, signum);
}

static void on_sig_closed(uv_handle_t *h) {
  free(h->data);
}

int il__uv_signal_start(void *state, int signum, void *sig_ud, void **sig) {
  il__uv_t *s = state;
  if (signum <= 0 || signum >= NSIG)
    return IL_EINVAL;
  il__uv_sig_t *w = calloc(1, sizeof(*w));
  if (!w)
    return IL_ENOMEM;
  int rc = uv_signal_init(s->loop, &w->sig);
  if (rc < 0) {
    free(w);
    return il__uv_err(rc);
  }
  w->sig.data = w;
  w->host = s->host;
  w->ud = sig_ud;
  w->signum = signum;
  sig_lock();
  if (watchers[signum] == 0)
    sigaction(signum, NULL, &prior[signum]);
  rc = uv_signal_start(&w->sig, on_signal, signum);
  if (rc < 0) {
    pthread_mutex_unlock(&sig_mu);
    w->ud = NULL;
    uv_close((uv_handle_t *)&w->sig, on_sig_closed);
    return il__uv_err(rc);
  }
  if (watchers[signum]++ == 0)
    sigaction(signum, NULL, &libuv_has[signum]);
  pthread_mutex_unlock(&sig_mu);
  /* Referenced, like a native uv_signal_t: a signal handler keeps the
   * application's uv_run going. */
  *sig = w;
  return 0;
}

void il__uv_signal_stop(void *state, void *sig) {
  IL__UV_UNUSED(state);
  il__uv_sig_t *w = sig;
  int signum = w->signum;
  sig_lock();
  uv_signal_stop(&w->sig);
  if (--watchers[signum] == 0) {
    struct sigaction now;
    sigaction(signum, NULL, &now);
    if (is_default(&now) && !same_handler(&prior[signum], &libuv_has[signum]))
      sigaction(signum, &prior[signum], NULL);
  }
  pthread_mutex_unlock(&sig_mu);
  w->ud = NULL;
  uv_close((uv_handle_t *)&w->sig, on_sig_closed);
}
