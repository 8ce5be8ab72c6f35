/* core/signal.c — signal handlers, through the backend's signal watchers so
 * an adopted engine loop keeps its own signal handling intact; signal_chain.c
 * makes several engines share one signal. */
#include "internal.h"

#include <stdlib.h>

static int signum_ok(int signum) {
  return signum > 0 && signum < IL__NSIG && signum != SIGKILL &&
         signum != SIGSTOP;
}

/* The loop's record of signum, created on first use, with the backend
 * watching the signal. */
static int watch(il_loop_t *loop, int signum, il__sigw_t **out) {
  il__sigw_t *s = loop->sigs[signum];
  if (!s) {
    s = calloc(1, sizeof(*s));
    if (!s)
      return IL_ENOMEM;
    s->signum = signum;
    s->qh.kind = IL__H_SIGNAL;
    s->qh.loop = loop;
    loop->sigs[signum] = s;
  }
  if (!s->bsig) {
    int rc = il__sigchain_start(loop, s);
    if (rc < 0)
      return rc;
  }
  *out = s;
  return 0;
}

int il_loop_add_signal_handler(il_loop_t *loop, int signum, il_signal_fn cb,
                               void *arg) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (!signum_ok(signum) || !cb)
    return IL_EINVAL;
  if (!loop->ops->signal_start || !loop->ops->signal_stop)
    return IL_ENOTSUP;
  il__sigw_t *s;
  rc = watch(loop, signum, &s);
  if (rc < 0)
    return rc;
  s->cb = cb;
  s->arg = arg;
  return 0;
}

int il__signal_core_set(il_loop_t *loop, int signum, il_signal_fn cb,
                        void *arg) {
  il__sigw_t *s = loop->sigs[signum];
  if (!cb) {
    if (s && s->core_cb) {
      s->core_cb = NULL;
      s->core_arg = NULL;
      if (!s->cb && s->bsig)
        il__sigchain_stop(loop, s);
    }
    return 0;
  }
  if (!loop->ops->signal_start || !loop->ops->signal_stop)
    return IL_ENOTSUP;
  int rc = watch(loop, signum, &s);
  if (rc < 0)
    return rc;
  s->core_cb = cb;
  s->core_arg = arg;
  return 0;
}

int il_loop_remove_signal_handler(il_loop_t *loop, int signum) {
  if (!loop || !signum_ok(signum))
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc == IL_ECLOSED)
    return 0;
  if (rc < 0)
    return rc;
  il__sigw_t *s = loop->sigs[signum];
  if (!s || !s->cb)
    return 0;
  if (!s->core_cb)
    il__sigchain_stop(loop, s);
  s->cb = NULL;
  s->arg = NULL;
  return 1;
}

void il__host_signal(void *sig_ud, int signum) {
  il__sigw_t *s = sig_ud;
  IL__UNUSED(signum);
  if ((!s->cb && !s->core_cb) || s->qh.loop_ref)
    return;
  s->qh.loop_ref = 1;
  il__ready_push(s->qh.loop, &s->qh);
}

void il__signal_run(il_loop_t *loop, il__sigw_t *s) {
  if (s->core_cb)
    s->core_cb(loop, s->signum, s->core_arg);
  if (!s->cb)
    return;
  il_signal_fn cb = s->cb;
  void *arg = s->arg;
  int rc = cb(loop, s->signum, arg);
  if (rc < 0)
    il__report(loop, rc, IL_SOURCE_SIGNAL, "signal handler returned an error",
               (const void *)cb, arg, s->signum);
}

void il__signal_close_all(il_loop_t *loop) {
  for (int i = 1; i < IL__NSIG; i++) {
    il__sigw_t *s = loop->sigs[i];
    if (!s)
      continue;
    if (s->bsig)
      il__sigchain_stop(loop, s);
    free(s);
    loop->sigs[i] = NULL;
  }
}
