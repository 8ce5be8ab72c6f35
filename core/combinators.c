/* core/combinators.c — futures made of futures: gather, wait, shield
 * (SPEC §7.5). Each listens to its children through embedded done-callback
 * registrations that keep it alive while scheduled, and takes them back
 * when it is freed first. */
#include "future_internal.h"

#include <stdlib.h>
#include <string.h>

/* Children and their registrations, shared by gather and wait. */
typedef struct il__children {
  size_t n;
  il_future_t **f;
  il__fut_cb_t *cb;
} il__children_t;

typedef struct il__gather {
  struct il_future fut;
  il__children_t c;
  size_t ndone;
  int collect;
  int cancel_requested;
} il__gather_t;

typedef struct il__waiter {
  struct il_future fut;
  il__children_t c;
  size_t ndone;
  int mode;
  il_handle_t *timer;
} il__waiter_t;

typedef struct il__shield {
  struct il_future fut;
  il_future_t *inner;
  il__fut_cb_t cb;
} il__shield_t;

/* Checks the arguments of gather and wait. */
static int check_children(il_loop_t *loop, il_future_t *const *futures,
                          size_t n, il_future_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (n && !futures)
    return IL_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (!futures[i])
      return IL_EINVAL;
    if (futures[i]->loop != loop)
      return IL_EINVALSTATE;
  }
  return 0;
}

static size_t children_offset(size_t size) {
  return (size + _Alignof(max_align_t) - 1) &
         ~(size_t)(_Alignof(max_align_t) - 1);
}

/* Allocates a combinator of `size` bytes followed by room for n children
 * and their registrations. */
static void *combinator_new(il_loop_t *loop, size_t size, uint8_t kind,
                            size_t n) {
  char *mem = calloc(1, children_offset(size) +
                            n * (sizeof(il_future_t *) + sizeof(il__fut_cb_t)));
  if (mem)
    il__fut_init((il_future_t *)(void *)mem, loop, kind);
  return mem;
}

static void children_setup(il__children_t *c, char *mem, size_t size,
                           il_future_t *const *futures, size_t n) {
  size_t off = children_offset(size);
  c->n = n;
  c->cb = (il__fut_cb_t *)(void *)(mem + off);
  c->f = (il_future_t **)(void *)(mem + off + n * sizeof(il__fut_cb_t));
  for (size_t i = 0; i < n; i++)
    c->f[i] = il_future_ref(futures[i]);
}

/* Registers `fn` on every child still pending (all of them if `all`). */
static void children_listen(il__children_t *c, il_future_t *owner,
                            il_done_fn fn, int all) {
  for (size_t i = 0; i < c->n; i++) {
    if (!all && c->f[i]->state != IL__F_PENDING)
      continue;
    c->cb[i].fn = fn;
    c->cb[i].arg = owner;
    c->cb[i].hold = owner;
    c->cb[i].embedded = 1;
    il__fut_add_cb(c->f[i], &c->cb[i]);
  }
}

/* Takes back the registrations not yet scheduled. */
static void children_unlisten(il__children_t *c) {
  for (size_t i = 0; i < c->n; i++)
    if (c->cb[i].fn)
      il__fut_remove_cb(c->f[i], &c->cb[i]);
}

/* `retrieve`: the combinator took charge of its children's errors (gather
 * does, as asyncio's; wait only counts). */
static void children_free(il__children_t *c, int retrieve) {
  children_unlisten(c);
  for (size_t i = 0; i < c->n; i++) {
    if (retrieve && c->f[i]->state == IL__F_ERROR)
      c->f[i]->retrieved = 1;
    il_future_unref(c->f[i]);
  }
}

/* ---- gather ----------------------------------------------------------------
 */

static void gather_finish(il__gather_t *g) {
  size_t n = g->c.n;
  void **values = n ? calloc(n, sizeof(void *)) : NULL;
  if (n && !values) {
    il__fut_complete(&g->fut, IL__F_ERROR, IL_ENOMEM, NULL, NULL, NULL);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    il_future_t *ch = g->c.f[i];
    if (ch->state == IL__F_RESULT)
      values[i] = ch->value;
    else if (ch->state == IL__F_ERROR)
      ch->retrieved = 1;
  }
  if (g->cancel_requested) {
    free(values);
    il__fut_cancel_now(&g->fut, NULL);
  } else {
    il__fut_complete(&g->fut, IL__F_RESULT, 0, values, free, NULL);
  }
}

static int gather_child_done(il_future_t *child, void *arg) {
  il__gather_t *g = arg;
  g->ndone++;
  if (g->fut.state != IL__F_PENDING) {
    if (child->state == IL__F_ERROR)
      child->retrieved = 1;
    return 0;
  }
  if (!g->collect && child->state == IL__F_CANCELLED) {
    il__fut_cancel_now(&g->fut, child->message);
    return 0;
  }
  if (!g->collect && child->state == IL__F_ERROR) {
    child->retrieved = 1;
    il__fut_complete(&g->fut, IL__F_ERROR, child->code, NULL, NULL,
                     il__strdup_or_null(child->message));
    return 0;
  }
  if (g->ndone == g->c.n)
    gather_finish(g);
  return 0;
}

int il_gather(il_loop_t *loop, il_future_t *const *futures, size_t n, int flags,
              il_future_t **out) {
  int rc = check_children(loop, futures, n, out);
  if (rc < 0)
    return rc;
  if (flags & ~IL_GATHER_COLLECT_ERRORS)
    return IL_EINVAL;
  il__gather_t *g = combinator_new(loop, sizeof(*g), IL__F_GATHER, n);
  if (!g)
    return IL_ENOMEM;
  children_setup(&g->c, (char *)g, sizeof(*g), futures, n);
  g->collect = (flags & IL_GATHER_COLLECT_ERRORS) != 0;
  if (n == 0)
    il__fut_complete(&g->fut, IL__F_RESULT, 0, NULL, NULL, NULL);
  else
    children_listen(&g->c, &g->fut, gather_child_done, 1);
  *out = &g->fut;
  return 0;
}

static int gather_cancel(il__gather_t *g, const char *reason) {
  int any = 0;
  for (size_t i = 0; i < g->c.n; i++)
    if (il_future_cancel(g->c.f[i], reason) == 1)
      any = 1;
  if (any)
    g->cancel_requested = 1;
  return any;
}

/* ---- wait ---------------------------------------------------------------- */

static size_t count_done(const il__children_t *c, int *failed) {
  size_t done = 0;
  *failed = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (c->f[i]->state == IL__F_PENDING)
      continue;
    done++;
    if (c->f[i]->state != IL__F_RESULT)
      *failed = 1;
  }
  return done;
}

static void waiter_detach(il__waiter_t *w) {
  children_unlisten(&w->c);
  if (w->timer) {
    il_handle_cancel(w->timer);
    il_handle_release(w->timer);
    w->timer = NULL;
  }
}

/* Finishes the wait if its condition holds (or `force`, the time-out). */
static void waiter_check(il__waiter_t *w, int force) {
  int failed;
  size_t done = count_done(&w->c, &failed);
  int met = force || (w->mode == IL_WAIT_FIRST_COMPLETED && done > 0) ||
            (w->mode == IL_WAIT_FIRST_ERROR && failed) || done == w->c.n;
  if (!met)
    return;
  waiter_detach(w);
  il__fut_complete(&w->fut, IL__F_RESULT, 0, (void *)(uintptr_t)done, NULL,
                   NULL);
}

static int waiter_child_done(il_future_t *child, void *arg) {
  il__waiter_t *w = arg;
  IL__UNUSED(child);
  if (w->fut.state == IL__F_PENDING)
    waiter_check(w, 0);
  return 0;
}

static int waiter_timeout(il_loop_t *loop, void *arg) {
  il__waiter_t *w = arg;
  IL__UNUSED(loop);
  il_handle_release(w->timer);
  w->timer = NULL;
  if (w->fut.state == IL__F_PENDING)
    waiter_check(w, 1);
  return 0;
}

int il_wait(il_loop_t *loop, il_future_t *const *futures, size_t n,
            il_wait_mode_t mode, double timeout, il_future_t **out) {
  int rc = check_children(loop, futures, n, out);
  if (rc < 0)
    return rc;
  if (n == 0 || mode < IL_WAIT_FIRST_COMPLETED || mode > IL_WAIT_ALL_COMPLETED)
    return IL_EINVAL;
  il__waiter_t *w = combinator_new(loop, sizeof(*w), IL__F_WAIT, n);
  if (!w)
    return IL_ENOMEM;
  children_setup(&w->c, (char *)w, sizeof(*w), futures, n);
  w->mode = (int)mode;
  if (timeout >= 0) {
    rc = il_loop_call_later(loop, timeout, waiter_timeout, w, &w->timer);
    if (rc < 0) {
      il_future_unref(&w->fut);
      return rc;
    }
    il__handle_mark_internal(w->timer);
  }
  children_listen(&w->c, &w->fut, waiter_child_done, 0);
  waiter_check(w, 0);
  *out = &w->fut;
  return 0;
}

/* ---- shield ----------------------------------------------------------------
 */

static int shield_inner_done(il_future_t *inner, void *arg) {
  il__shield_t *s = arg;
  s->cb.fn = NULL;
  if (s->fut.state != IL__F_PENDING) {
    if (inner->state == IL__F_ERROR)
      inner->retrieved = 1;
    return 0;
  }
  if (inner->state == IL__F_CANCELLED) {
    il__fut_cancel_now(&s->fut, inner->message);
  } else if (inner->state == IL__F_ERROR) {
    inner->retrieved = 1;
    il__fut_complete(&s->fut, IL__F_ERROR, inner->code, NULL, NULL,
                     il__strdup_or_null(inner->message));
  } else {
    /* The value stays the inner future's; the shield keeps it alive. */
    il__fut_complete(&s->fut, IL__F_RESULT, 0, inner->value, NULL, NULL);
  }
  return 0;
}

int il_shield(il_future_t *inner, il_future_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__fut_check(inner);
  if (rc < 0)
    return rc;
  if (inner->state != IL__F_PENDING) { /* asyncio: the inner itself */
    *out = il_future_ref(inner);
    return 0;
  }
  if (atomic_load_explicit(&inner->loop->closed, memory_order_relaxed))
    return IL_ECLOSED;
  il__shield_t *s = calloc(1, sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  il__fut_init(&s->fut, inner->loop, IL__F_SHIELD);
  s->inner = il_future_ref(inner);
  s->cb.fn = shield_inner_done;
  s->cb.arg = s;
  s->cb.hold = &s->fut;
  s->cb.embedded = 1;
  il__fut_add_cb(inner, &s->cb);
  *out = &s->fut;
  return 0;
}

/* ---- kind-specific cancel and free -----------------------------------------
 */

int il__combinator_cancel(il_future_t *f, const char *reason) {
  switch (f->kind) {
  case IL__F_GATHER:
    return gather_cancel((il__gather_t *)(void *)f, reason);
  case IL__F_WAIT:
    waiter_detach((il__waiter_t *)(void *)f);
    il__fut_cancel_now(f, reason);
    return 1;
  default: /* a shield's cancellation stays with the shield */
    il__fut_cancel_now(f, reason);
    return 1;
  }
}

void il__combinator_free(il_future_t *f) {
  switch (f->kind) {
  case IL__F_TASK:
    il__task_free((il__task_t *)(void *)f);
    return;
  case IL__F_GATHER:
    children_free(&((il__gather_t *)(void *)f)->c, 1);
    break;
  case IL__F_WAIT: {
    il__waiter_t *w = (il__waiter_t *)(void *)f;
    waiter_detach(w);
    children_free(&w->c, 0);
    break;
  }
  case IL__F_SHIELD: {
    il__shield_t *s = (il__shield_t *)(void *)f;
    if (s->cb.fn)
      il__fut_remove_cb(s->inner, &s->cb);
    il_future_unref(s->inner);
    break;
  }
  default:
    break;
  }
  free(f);
}
