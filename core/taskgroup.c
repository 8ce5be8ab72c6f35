/* core/taskgroup.c — structured concurrency (asyncio.TaskGroup, SPEC §8.8):
 * children spawned into a group; the first failure cancels the others and
 * the parent's current wait; il_taskgroup_wait waits for all and reports
 * every failure. Children tell the group synchronously when they end. */
#include "future_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct il__group_error {
  int code;
  char *message;
} il__group_error_t;

struct il_taskgroup {
  il_loop_t *loop;
  il__task_t *parent;    /* a reference */
  il__task_t **children; /* references */
  size_t n, cap, pending;
  il__group_error_t *errors;
  int nerrors, cap_errors;
  uint32_t parent_cancels; /* the parent's count when the group began */
  il_future_t *waiter;     /* completed when the last child ends */
  uint8_t aborting, waited, in_wait, parent_cancel_requested;
};

int il_taskgroup_new(il_loop_t *loop, il_taskgroup_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il__task_t *parent = il__task_running(loop);
  if (!parent)
    return IL_ENOTASK;
  il_taskgroup_t *g = calloc(1, sizeof(*g));
  if (!g)
    return IL_ENOMEM;
  g->loop = loop;
  g->parent = parent;
  g->parent_cancels = parent->num_cancels;
  il_future_ref(&parent->fut);
  *out = g;
  return 0;
}

static void abort_children(il_taskgroup_t *g) {
  g->aborting = 1;
  for (size_t i = 0; i < g->n; i++)
    if (g->children[i]->fut.state == IL__F_PENDING)
      il__task_cancel(g->children[i], NULL);
}

static void record_error(il_taskgroup_t *g, il__task_t *child) {
  if (g->nerrors == g->cap_errors) {
    int cap = g->cap_errors ? g->cap_errors * 2 : 4;
    il__group_error_t *e = realloc(g->errors, (size_t)cap * sizeof(*e));
    if (!e)
      return; /* out of memory: the count stays right, this one unlisted */
    g->errors = e;
    g->cap_errors = cap;
  }
  child->fut.retrieved = 1;
  g->errors[g->nerrors].code = child->fut.code;
  g->errors[g->nerrors].message = il__strdup_or_null(child->fut.message);
  g->nerrors++;
}

void il__taskgroup_child_done(il__task_t *child) {
  il_taskgroup_t *g = child->group;
  g->pending--;
  if (child->fut.state == IL__F_ERROR) {
    record_error(g, child);
    if (!g->aborting) {
      abort_children(g);
      if (!g->in_wait && g->parent->fut.state == IL__F_PENDING &&
          !g->parent_cancel_requested) {
        g->parent_cancel_requested = 1;
        il__task_cancel(g->parent, "task group child failed");
      }
    }
  }
  if (g->pending == 0 && g->waiter && g->waiter->state == IL__F_PENDING)
    il_future_set_result(g->waiter, NULL, NULL);
}

int il_taskgroup_spawn(il_taskgroup_t *g, il_task_fn fn, void *arg,
                       const il_task_options_t *opts, il_task_t **out) {
  if (out)
    *out = NULL;
  if (!g)
    return IL_EINVAL;
  int rc = il__loop_check(g->loop);
  if (rc < 0)
    return rc;
  if (g->aborting || g->waited)
    return IL_EINVALSTATE;
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 8;
    il__task_t **c = realloc(g->children, cap * sizeof(*c));
    if (!c)
      return IL_ENOMEM;
    g->children = c;
    g->cap = cap;
  }
  il_task_t *t;
  rc = il_task_spawn(g->loop, fn, arg, opts, &t);
  if (rc < 0)
    return rc;
  il__task_t *child = il__task_of(t);
  child->group = g;
  g->children[g->n++] = child;
  g->pending++;
  if (out)
    *out = il_future_ref(t);
  return 0;
}

int il_taskgroup_wait(il_taskgroup_t *g) {
  if (!g)
    return IL_EINVAL;
  int rc = il__loop_check(g->loop);
  if (rc < 0)
    return rc;
  il__task_t *parent = g->parent;
  if (il__task_running(g->loop) != parent)
    return IL_ENOTASK;
  if (g->waited)
    return IL_EINVALSTATE;
  g->in_wait = 1;
  if (g->parent_cancel_requested) { /* our own request: withdraw it */
    g->parent_cancel_requested = 0;
    il_task_uncancel(&parent->fut);
  }
  /* A cancellation from outside that reached the body before the wait. */
  int outer_cancelled = parent->num_cancels > g->parent_cancels;
  if (outer_cancelled)
    abort_children(g);
  while (g->pending > 0) {
    if (g->loop->tasks->closing) { /* the children end with the loop */
      abort_children(g);
      outer_cancelled = 1;
      break;
    }
    rc = il_future_new(g->loop, &g->waiter);
    if (rc < 0)
      break;
    rc = il__task_await(parent, g->waiter, NULL);
    il_future_unref(g->waiter);
    g->waiter = NULL;
    if (rc == IL_ECANCELED) {
      outer_cancelled = 1;
      abort_children(g);
    } else if (rc < 0) {
      break;
    }
  }
  g->in_wait = 0;
  g->waited = 1;
  if (g->nerrors)
    return g->errors[0].code;
  if (outer_cancelled)
    return IL_ECANCELED;
  return rc < 0 ? rc : 0;
}

int il_taskgroup_error_count(const il_taskgroup_t *g) {
  return g ? g->nerrors : IL_EINVAL;
}

int il_taskgroup_error(const il_taskgroup_t *g, int i, const char **message) {
  if (message)
    *message = "";
  if (!g || i < 0 || i >= g->nerrors)
    return IL_EINVAL;
  if (message && g->errors[i].message)
    *message = g->errors[i].message;
  return g->errors[i].code;
}

void il_taskgroup_free(il_taskgroup_t *g) {
  if (!g)
    return;
  for (size_t i = 0; i < g->n; i++) {
    il__task_t *c = g->children[i];
    if (c->fut.state == IL__F_PENDING)
      il__task_cancel(c, NULL);
    c->group = NULL;
    il_future_unref(&c->fut);
  }
  for (int i = 0; i < g->nerrors; i++)
    free(g->errors[i].message);
  if (g->waiter)
    il_future_unref(g->waiter);
  il_future_unref(&g->parent->fut);
  free(g->errors);
  free(g->children);
  free(g);
}
