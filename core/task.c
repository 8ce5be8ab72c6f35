/* core/task.c — tasks: a C function on its own stack, a future for its
 * outcome, suspended by il_await / il_sleep / il_yield and resumed by the
 * loop (SPEC §8).
 *
 * A task is always in one of three places: scheduled to start (a held
 * call_soon handle), running (the loop's `current`), or suspended on one
 * thing — a future (`awaiting` with the embedded `wake` registration) or a
 * handle (sleep, yield, a wake-up carrying a code). Whatever resumes it
 * switches from the loop's stack into the task's; the task switches back
 * when it suspends or ends. The loop holds a reference to every unfinished
 * task. */
#include "future_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- the loop's task state ------------------------------------------------
 */

void il__tasks_init(il_loop_t *loop) {
  il__tasks_t *ts = calloc(1, sizeof(*ts));
  if (!ts)
    return;
  il__stack_pool_init(&ts->stacks, IL__STACK_DEFAULT);
  loop->tasks = ts;
}

void il__tasks_destroy(il_loop_t *loop) {
  il__tasks_t *ts = loop->tasks;
  if (!ts)
    return;
  il__stack_pool_destroy(&ts->stacks);
  free(ts);
  loop->tasks = NULL;
}

static void list_remove(il__tasks_t *ts, il__task_t *t) {
  if (t->prev)
    t->prev->next = t->next;
  else if (ts->head == t)
    ts->head = t->next;
  if (t->next)
    t->next->prev = t->prev;
  t->prev = t->next = NULL;
  ts->count--;
}

/* ---- switching ------------------------------------------------------------
 */

/* After the task's last switch out: its stack goes back to the pool and the
 * loop lets go of it. */
static void task_release(il__task_t *t) {
  il__tasks_t *ts = t->fut.loop->tasks;
  il__coro_destroy(&t->ctx);
  if (t->stack) {
    il__stack_put(&ts->stacks, t->stack);
    t->stack = NULL;
  }
  il_future_unref(&t->fut); /* the loop's reference */
}

/* Runs the task until it suspends or ends. Called on the loop's stack (or,
 * with nested loops, whatever stack resumes it). */
static void task_step(il__task_t *t) {
  il__tasks_t *ts = t->fut.loop->tasks;
  il__task_t *prev = ts->current;
  ts->current = t;
  il__coro_switch(&t->caller, &t->ctx);
  ts->current = prev;
  if (t->finished)
    task_release(t);
}

/* Inside the task: back to whoever resumed it; returns the wake-up code. */
static int task_suspend(il__task_t *t) {
  il__coro_switch(&t->ctx, &t->caller);
  int rc = t->wake_rc;
  t->wake_rc = 0;
  if (rc == 0 && t->must_cancel) {
    t->must_cancel = 0;
    rc = IL_ECANCELED;
  }
  return rc;
}

static void task_entry(void *arg) {
  il__task_t *t = arg;
  int rc = t->fn(&t->fut, t->arg);
  il__task_finish(t, rc);
  il__coro_exit(&t->ctx, &t->caller);
}

void il__task_finish(il__task_t *t, int rc) {
  il__tasks_t *ts = t->fut.loop->tasks;
  t->finished = 1;
  list_remove(ts, t);
  if (rc == IL_ECANCELED) {
    il__fut_complete(&t->fut, IL__F_CANCELLED, IL_ECANCELED, NULL, NULL,
                     t->cancel_msg);
    t->cancel_msg = NULL;
  } else if (rc < 0) {
    il__fut_complete(&t->fut, IL__F_ERROR, rc, NULL, NULL, t->fail_msg);
    t->fail_msg = NULL;
  } else {
    il__fut_complete(&t->fut, IL__F_RESULT, 0, t->ret_value, t->ret_dtor, NULL);
    t->ret_value = NULL;
    t->ret_dtor = NULL;
  }
  if (t->group)
    il__taskgroup_child_done(t);
}

/* A handle wake-up: the task's start, the end of a sleep or yield, or a
 * wake-up carrying a code (wake_rc). */
static int task_handle_cb(il_loop_t *loop, void *arg) {
  il__task_t *t = arg;
  IL__UNUSED(loop);
  il_handle_release(t->handle);
  t->handle = NULL;
  t->wait = IL__TW_NONE;
  if (!t->started) {
    t->started = 1;
    if (t->must_cancel) { /* cancelled before it began: fn never runs */
      il__task_finish(t, IL_ECANCELED);
      task_release(t);
      return 0;
    }
  }
  task_step(t);
  return 0;
}

/* The awaited future is done. */
static int task_wake_cb(il_future_t *f, void *arg) {
  il__task_t *t = arg;
  if (t->wait != IL__TW_FUTURE || t->awaiting != f)
    return 0; /* woken some other way meanwhile */
  t->wait = IL__TW_NONE;
  t->wake_rc = 0;
  task_step(t);
  return 0;
}

int il__task_wake_with(il__task_t *t, int rc) {
  if (t->wait != IL__TW_HANDLE)
    return IL_EINVALSTATE;
  il_handle_t *h = NULL;
  int err = il__schedule(t->fut.loop, task_handle_cb, t, IL__H_SOON, &h);
  if (err < 0)
    return err;
  il_handle_cancel(t->handle);
  il_handle_release(t->handle);
  t->handle = h;
  t->wake_rc = rc;
  return 0;
}

/* ---- spawning -------------------------------------------------------------
 */

int il_task_spawn(il_loop_t *loop, il_task_fn fn, void *arg,
                  const il_task_options_t *opts, il_task_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (!fn || (opts && opts->size < sizeof(size_t)))
    return IL_EINVAL;
  size_t stack_size = 0;
  int guard = 1;
  const char *name = NULL;
  if (opts) {
    if (opts->size >=
        offsetof(il_task_options_t, stack_size) + sizeof(opts->stack_size))
      stack_size = opts->stack_size;
    if (opts->size >= offsetof(il_task_options_t, guard) + sizeof(opts->guard))
      guard = opts->guard != 0;
    if (opts->size >= offsetof(il_task_options_t, name) + sizeof(opts->name))
      name = opts->name;
  }
  if (!loop->tasks) {
    il__tasks_init(loop);
    if (!loop->tasks)
      return IL_ENOMEM;
  }
  il__tasks_t *ts = loop->tasks;
  if (ts->closing)
    return IL_ECLOSED;
  il__task_t *t = calloc(1, sizeof(*t));
  if (!t)
    return IL_ENOMEM;
  rc = IL_ENOMEM;
  if (name && !(t->name = strdup(name)))
    goto fail;
  t->stack = il__stack_get(&ts->stacks, stack_size, guard, &rc);
  if (!t->stack)
    goto fail;
  t->fn = fn;
  t->arg = arg;
  t->wake.fn = task_wake_cb;
  t->wake.arg = t;
  t->wake.embedded = 1;
  rc = il__schedule(loop, task_handle_cb, t, IL__H_SOON, &t->handle);
  if (rc < 0)
    goto fail;
  il__fut_init(&t->fut, loop, IL__F_TASK); /* the loop's reference */
  t->wake.hold = &t->fut; /* a scheduled wake-up keeps the task alive */
  il__coro_make(&t->ctx, t->stack, task_entry, t);
  t->wait = IL__TW_HANDLE;
  t->next = ts->head;
  if (ts->head)
    ts->head->prev = t;
  ts->head = t;
  ts->count++;
  if (out)
    *out = il_future_ref(&t->fut);
  return 0;
fail:
  if (t->stack)
    il__stack_put(&ts->stacks, t->stack);
  free(t->name);
  free(t);
  return rc;
}

/* Frees a finished task's memory (il_future_unref of the last reference). */
void il__task_free(il__task_t *t) {
  if (t->ret_dtor)
    t->ret_dtor(t->ret_value);
  free(t->name);
  free(t->cancel_msg);
  free(t->fail_msg);
  free(t);
}

/* ---- inside a task --------------------------------------------------------
 */

static il__task_t *running_self(il_task_t *self) {
  il__task_t *t = il__task_of(self);
  if (!t || il__task_running(self->loop) != t)
    return NULL;
  return t;
}

int il_task_return(il_task_t *self, void *value, il_destructor_fn dtor) {
  if (!self)
    return IL_EINVAL;
  il__task_t *t = running_self(self);
  if (!t)
    return IL_ENOTASK;
  if (t->ret_dtor && t->ret_value != value)
    t->ret_dtor(t->ret_value);
  t->ret_value = value;
  t->ret_dtor = dtor;
  return 0;
}

int il_task_fail(il_task_t *self, int code, const char *message) {
  if (!self || code >= 0)
    return IL_EINVAL;
  il__task_t *t = running_self(self);
  if (!t)
    return IL_ENOTASK;
  free(t->fail_msg);
  t->fail_msg = il__strdup_or_null(message);
  return code;
}

/* A wait may not begin: the task has a cancellation to deliver, or the loop
 * is closing and every wait returns IL_ECANCELED at once. */
static int wait_refused(il__task_t *t) {
  if (t->must_cancel) {
    t->must_cancel = 0;
    return IL_ECANCELED;
  }
  if (t->fut.loop->tasks->closing)
    return IL_ECANCELED;
  return 0;
}

int il__task_park(il__task_t *t) {
  int rc = wait_refused(t);
  if (rc < 0)
    return rc;
  t->handle = NULL;
  t->wait = IL__TW_HANDLE;
  t->wake_rc = 0;
  return task_suspend(t);
}

int il__task_unpark(il__task_t *t) {
  if (t->wait != IL__TW_HANDLE || t->handle)
    return 0; /* not parked, or its wake-up is already on its way */
  return il__task_wake_with(t, 0);
}

int il__task_await(il__task_t *t, il_future_t *f, void **value) {
  int rc = wait_refused(t);
  if (rc < 0)
    return rc;
  if (f->state != IL__F_PENDING)
    return il__fut_outcome(f, value);
  t->awaiting = il_future_ref(f);
  il__fut_add_cb(f, &t->wake);
  t->wait = IL__TW_FUTURE;
  rc = task_suspend(t);
  t->wait = IL__TW_NONE;
  t->awaiting = NULL;
  if (rc == 0)
    rc = il__fut_outcome(f, value);
  else if (f->state != IL__F_PENDING)
    f->retrieved = 1; /* a cancellation took the outcome's place */
  il_future_unref(f);
  return rc;
}

int il__await_check(il_future_t *f, void **value, il__task_t **task) {
  if (value)
    *value = NULL;
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  il__task_t *t = il__task_running(f->loop);
  if (!t)
    return IL_ENOTASK;
  if (&t->fut == f)
    return IL_EINVALSTATE;
  *task = t;
  return 0;
}

int il_await(il_future_t *f, void **value) {
  il__task_t *t;
  int rc = il__await_check(f, value, &t);
  return rc < 0 ? rc : il__task_await(t, f, value);
}

/* Suspends the running task until a handle wakes it: `delay` < 0 schedules
 * it for the next pass, else after `delay` seconds. */
static int suspend_on_handle(il_loop_t *loop, double delay) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il__task_t *t = il__task_running(loop);
  if (!t)
    return IL_ENOTASK;
  if ((rc = wait_refused(t)) < 0)
    return rc;
  if (delay < 0)
    rc = il__schedule(loop, task_handle_cb, t, IL__H_SOON, &t->handle);
  else
    rc = il_loop_call_later(loop, delay, task_handle_cb, t, &t->handle);
  if (rc < 0)
    return rc;
  il__handle_mark_internal(t->handle);
  t->wait = IL__TW_HANDLE;
  t->wake_rc = 0;
  return task_suspend(t);
}

int il_sleep(il_loop_t *loop, double seconds) {
  return suspend_on_handle(loop, seconds > 0 ? seconds : -1.0);
}

int il_yield(il_loop_t *loop) {
  return suspend_on_handle(loop, -1.0);
}

il_task_t *il_task_current(il_loop_t *loop) {
  if (!loop)
    return NULL;
  il__task_t *t = il__task_running(loop);
  return t ? &t->fut : NULL;
}

int il_future_is_task(const il_future_t *f) {
  return f && f->kind == IL__F_TASK;
}

const char *il_task_name(const il_task_t *t) {
  if (!t || t->kind != IL__F_TASK)
    return NULL;
  const il__task_t *tk = (const il__task_t *)(const void *)t;
  return tk->name ? tk->name : "";
}

/* ---- loop close ---------------------------------------------------------- */

void il__tasks_close(il_loop_t *loop) {
  il__tasks_t *ts = loop->tasks;
  if (!ts)
    return;
  ts->closing = 1;
  il__task_t *t;
  while ((t = ts->head) != NULL) {
    if (t->wait == IL__TW_HANDLE) {
      il_handle_cancel(t->handle);
      il_handle_release(t->handle);
      t->handle = NULL;
    } else if (t->wait == IL__TW_FUTURE) {
      /* Still registered: take it back. Already scheduled: the queued
       * wake-up is dropped with the ready queue. */
      il__fut_remove_cb(t->awaiting, &t->wake);
    }
    t->wait = IL__TW_NONE;
    t->wake_rc = IL_ECANCELED;
    if (!t->started) {
      t->started = 1;
      il__task_finish(t, IL_ECANCELED);
      task_release(t);
      continue;
    }
    /* Every wait now returns IL_ECANCELED at once, so the task runs to its
     * end in this one step. */
    il_future_ref(&t->fut);
    task_step(t);
    if (!t->finished) /* cannot happen through the API; never loop forever */
      list_remove(ts, t);
    il_future_unref(&t->fut);
  }
}
