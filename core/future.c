/* core/future.c — futures: one-shot results with done-callbacks that always
 * run through the loop (SPEC §7). */
#include "future_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct il_future) == 64 &&
                   sizeof(struct il_future) % 16 == 0,
               "a future is 64 bytes, carved from the loop's slabs");

char *il__strdup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

void il__fut_init(il_future_t *f, il_loop_t *loop, uint8_t kind) {
  memset(f, 0, sizeof(*f));
  f->loop = loop;
  f->refs = 1;
  f->kind = kind;
  loop->refs++;
}

int il_future_new(il_loop_t *loop, il_future_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_future_t *f = loop->fut_free;
  if (f)
    loop->fut_free = *(void **)f;
  else if (!(f = il__slab_carve(&loop->fslabs, sizeof(*f))))
    return IL_ENOMEM;
  il__fut_init(f, loop, IL__F_PLAIN);
  *out = f;
  return 0;
}

il_future_t *il_future_ref(il_future_t *f) {
  if (f)
    f->refs++;
  return f;
}

static void report_unretrieved(il_future_t *f) {
  char msg[256];
  il__task_t *t = il__task_of(f);
  const char *name = t && t->name ? t->name : NULL;
  snprintf(msg, sizeof(msg), "%s%s%s%s error was never retrieved%s%s",
           t ? "task" : "future", name ? " (" : "", name ? name : "",
           name ? ")" : "", f->message ? ": " : "",
           f->message ? f->message : "");
  il__report(f->loop, f->code, IL_SOURCE_FUTURE, msg, NULL, f, -1);
}

void il_future_unref(il_future_t *f) {
  if (!f || --f->refs > 0)
    return;
  if (f->state == IL__F_ERROR && !f->retrieved)
    report_unretrieved(f);
  /* Registrations nobody will run (the future never completed). */
  for (il__fut_cb_t *cb = f->cbs, *next; cb; cb = next) {
    next = cb->next;
    if (!cb->embedded)
      free(cb);
  }
  f->cbs = f->cbs_tail = NULL;
  if (f->state == IL__F_RESULT && f->dtor)
    f->dtor(f->value);
  free(f->message);
  il_loop_t *loop = f->loop;
  if (f->kind == IL__F_PLAIN) { /* back to the loop's slabs */
    *(void **)f = loop->fut_free;
    loop->fut_free = f;
  } else
    il__combinator_free(f); /* tasks too: frees the whole struct */
  il__loop_unref(loop);
}

/* ---- done-callbacks ------------------------------------------------------ */

int il__fut_cb_run(il_loop_t *loop, void *arg) {
  il__fut_cb_t *cb = arg;
  il_future_t *f = cb->fut, *hold = cb->hold;
  il_done_fn fn = cb->fn;
  void *cb_arg = cb->arg;
  cb->fut = NULL;
  if (!cb->embedded)
    free(cb);
  int rc = fn(f, cb_arg);
  if (IL__UNLIKELY(rc < 0))
    il__report(loop, rc, IL_SOURCE_CALLBACK, "done-callback returned an error",
               (const void *)fn, cb_arg, -1);
  il_future_unref(hold);
  il_future_unref(f);
  return 0;
}

void il__fut_cb_drop(void *arg) {
  il__fut_cb_t *cb = arg;
  il_future_t *f = cb->fut, *hold = cb->hold;
  cb->fut = NULL;
  if (!cb->embedded)
    free(cb);
  il_future_unref(hold);
  il_future_unref(f);
}

/* Hands one registration to the loop; when the loop cannot take it (closed,
 * out of memory) the callback is dropped: nothing could run it. */
static void schedule_cb(il_future_t *f, il__fut_cb_t *cb) {
  cb->next = NULL;
  cb->fut = il_future_ref(f);
  il_future_ref(cb->hold);
  if (il__schedule(f->loop, il__fut_cb_run, cb, IL__H_FUTCB, NULL) < 0)
    il__fut_cb_drop(cb);
}

void il__fut_add_cb(il_future_t *f, il__fut_cb_t *cb) {
  if (f->state != IL__F_PENDING) {
    schedule_cb(f, cb);
    return;
  }
  cb->next = NULL;
  cb->fut = NULL;
  if (f->cbs_tail)
    f->cbs_tail->next = cb;
  else
    f->cbs = cb;
  f->cbs_tail = cb;
}

int il__fut_remove_cb(il_future_t *f, il__fut_cb_t *cb) {
  il__fut_cb_t *prev = NULL;
  for (il__fut_cb_t *c = f->cbs; c; prev = c, c = c->next) {
    if (c != cb)
      continue;
    if (prev)
      prev->next = c->next;
    else
      f->cbs = c->next;
    if (f->cbs_tail == c)
      f->cbs_tail = prev;
    c->next = NULL;
    return 1;
  }
  return 0;
}

int il_future_add_done_callback(il_future_t *f, il_done_fn fn, void *arg) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (!fn)
    return IL_EINVAL;
  if (f->state != IL__F_PENDING &&
      atomic_load_explicit(&f->loop->closed, memory_order_relaxed))
    return IL_ECLOSED;
  il__fut_cb_t *cb = malloc(sizeof(*cb));
  if (!cb)
    return IL_ENOMEM;
  cb->fn = fn;
  cb->arg = arg;
  cb->hold = NULL;
  cb->embedded = 0;
  il__fut_add_cb(f, cb);
  return 0;
}

int il_future_remove_done_callback(il_future_t *f, il_done_fn fn, void *arg) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (!fn)
    return IL_EINVAL;
  int removed = 0;
  il__fut_cb_t **link = &f->cbs, *prev = NULL;
  while (*link) {
    il__fut_cb_t *c = *link;
    if (!c->embedded && !c->hold && c->fn == fn && c->arg == arg) {
      *link = c->next;
      free(c);
      removed++;
    } else {
      prev = c;
      link = &c->next;
    }
  }
  f->cbs_tail = prev;
  return removed;
}

/* ---- completing ---------------------------------------------------------- */

void il__fut_complete(il_future_t *f, uint8_t state, int code, void *value,
                      il_destructor_fn dtor, char *message) {
  f->state = state;
  f->code = code;
  f->value = value;
  f->dtor = dtor;
  f->message = message;
  il__fut_cb_t *cb = f->cbs;
  f->cbs = f->cbs_tail = NULL;
  while (cb) {
    il__fut_cb_t *next = cb->next;
    schedule_cb(f, cb);
    cb = next;
  }
}

int il_future_set_result(il_future_t *f, void *value, il_destructor_fn dtor) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (f->state != IL__F_PENDING)
    return IL_EINVALSTATE;
  il__fut_complete(f, IL__F_RESULT, 0, value, dtor, NULL);
  return 0;
}

int il_future_set_error(il_future_t *f, int code, const char *message) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (code >= 0 || code == IL_ECANCELED)
    return IL_EINVAL;
  if (f->state != IL__F_PENDING)
    return IL_EINVALSTATE;
  char *msg = NULL;
  if (message && !(msg = strdup(message)))
    return IL_ENOMEM;
  il__fut_complete(f, IL__F_ERROR, code, NULL, NULL, msg);
  return 0;
}

void il__fut_cancel_now(il_future_t *f, const char *reason) {
  il__fut_complete(f, IL__F_CANCELLED, IL_ECANCELED, NULL, NULL,
                   il__strdup_or_null(reason));
}

int il_future_cancel(il_future_t *f, const char *reason) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (f->state != IL__F_PENDING)
    return 0;
  switch (f->kind) {
  case IL__F_TASK:
    return il__task_cancel((il__task_t *)(void *)f, reason);
  case IL__F_PLAIN:
    il__fut_cancel_now(f, reason);
    return 1;
  default:
    return il__combinator_cancel(f, reason);
  }
}

/* ---- state --------------------------------------------------------------- */

int il_future_done(const il_future_t *f) {
  return f && f->state != IL__F_PENDING;
}

int il_future_cancelled(const il_future_t *f) {
  return f && f->state == IL__F_CANCELLED;
}

il_loop_t *il_future_loop(const il_future_t *f) {
  return f ? f->loop : NULL;
}

int il__fut_outcome(il_future_t *f, void **value) {
  if (value)
    *value = f->state == IL__F_RESULT ? f->value : NULL;
  if (f->state == IL__F_RESULT)
    return 0;
  f->retrieved = 1;
  return f->code;
}

int il_future_result(il_future_t *f, void **value) {
  if (value)
    *value = NULL;
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (f->state == IL__F_PENDING)
    return IL_EINVALSTATE;
  return il__fut_outcome(f, value);
}

int il_future_error(il_future_t *f, const char **message) {
  if (message)
    *message = "";
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (f->state == IL__F_PENDING)
    return IL_EINVALSTATE;
  if (message && f->message)
    *message = f->message;
  return il__fut_outcome(f, NULL);
}

/* ---- run until complete -------------------------------------------------- */

static int stop_when_done(il_future_t *f, void *arg) {
  il_loop_t *loop = f->loop;
  /* Only the run that registered this callback is stopped. */
  if (loop->tasks && loop->tasks->ruc_token == (uintptr_t)arg)
    il_loop_stop(loop);
  return 0;
}

int il_loop_run_until_complete(il_loop_t *loop, il_future_t *f, void **value) {
  if (value)
    *value = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (!f)
    return IL_EINVAL;
  if (f->loop != loop)
    return IL_EINVALSTATE;
  if (atomic_load(&loop->running) || loop->in_dispatch)
    return IL_ERUNNING;
  if (!loop->tasks) {
    il__tasks_init(loop);
    if (!loop->tasks)
      return IL_ENOMEM;
  }
  uintptr_t token = ++loop->tasks->ruc_token;
  il__fut_cb_t *cb = malloc(sizeof(*cb));
  if (!cb)
    return IL_ENOMEM;
  cb->fn = stop_when_done;
  cb->arg = (void *)token;
  cb->hold = NULL;
  cb->embedded = 0;
  il_future_ref(f);
  il__fut_add_cb(f, cb);
  rc = il_loop_run(loop, IL_RUN_DEFAULT);
  if (il__fut_remove_cb(f, cb))
    free(cb);
  if (loop->tasks && loop->tasks->ruc_token == token)
    loop->tasks->ruc_token++; /* a still-queued stop callback is now inert */
  if (rc == 0)
    rc = f->state == IL__F_PENDING ? IL_ESTOPPED : il__fut_outcome(f, value);
  il_future_unref(f);
  return rc;
}
