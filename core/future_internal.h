/* core/future_internal.h — futures, tasks and combinators (internal).
 *
 * Every kind of future begins with struct il_future; `kind` says which
 * bigger struct it sits in, and the few operations that differ by kind
 * (cancel, free) switch on it. */
#ifndef IL__FUTURE_INTERNAL_H
#define IL__FUTURE_INTERNAL_H

#include "coro.h"
#include "internal.h"

#include <interloop/future.h>
#include <interloop/task.h>

enum il__fut_state {
  IL__F_PENDING = 0,
  IL__F_RESULT,
  IL__F_ERROR,
  IL__F_CANCELLED
};

enum il__fut_kind {
  IL__F_PLAIN = 0,
  IL__F_TASK,
  IL__F_GATHER,
  IL__F_WAIT,
  IL__F_SHIELD
};

/* A done-callback registration. Scheduled through the loop as one handle of
 * kind IL__H_FUTCB when its future is done; while scheduled it holds a
 * reference to the future (`fut`) and to `hold` if set (an internal
 * callback's owner, kept alive until the callback ran or was dropped). */
typedef struct il__fut_cb {
  struct il__fut_cb *next;
  il_done_fn fn;
  void *arg;
  il_future_t *fut;  /* while scheduled */
  il_future_t *hold; /* internal callbacks: the owner, or NULL */
  uint8_t embedded;  /* part of a bigger struct: never freed on its own */
} il__fut_cb_t;

struct il_future {
  il_loop_t *loop;
  uint32_t refs;
  uint8_t state;     /* enum il__fut_state */
  uint8_t kind;      /* enum il__fut_kind */
  uint8_t retrieved; /* the error was read */
  uint8_t flags;     /* kind-specific */
  int32_t code;      /* IL__F_ERROR / IL__F_CANCELLED: the code */
  void *value;
  il_destructor_fn dtor;
  char *message; /* error message or cancellation reason, or NULL */
  il__fut_cb_t *cbs, *cbs_tail; /* not yet scheduled, in order */
};

/* ---- future.c ------------------------------------------------------------ */

/* The checks every future entry point starts with. */
static inline int il__fut_check(const il_future_t *f) {
  if (IL__UNLIKELY(!f))
    return IL_EINVAL;
  uintptr_t owner = atomic_load_explicit(&f->loop->owner, memory_order_relaxed);
  if (IL__UNLIKELY(owner != 0 && owner != (uintptr_t)pthread_self()))
    return IL_EWRONGTHREAD;
  return 0;
}

/* Initialises the future part of a bigger struct: one reference (the
 * caller's), a reference on the loop. */
void il__fut_init(il_future_t *f, il_loop_t *loop, uint8_t kind);

/* Completes a pending future (state RESULT, ERROR or CANCELLED) and
 * schedules its callbacks. The caller checked it is pending. `message` is
 * taken over (already allocated) for ERROR and CANCELLED. */
void il__fut_complete(il_future_t *f, uint8_t state, int code, void *value,
                      il_destructor_fn dtor, char *message);

/* Cancels a pending future of any kind as a plain future would be. */
void il__fut_cancel_now(il_future_t *f, const char *reason);

/* Adds a registration (embedded or allocated by the caller). */
void il__fut_add_cb(il_future_t *f, il__fut_cb_t *cb);

/* Removes one registration if still listed; returns 1 if it was. */
int il__fut_remove_cb(il_future_t *f, il__fut_cb_t *cb);

/* The outcome of a done future as il_future_result() reports it, marking
 * an error retrieved. */
int il__fut_outcome(il_future_t *f, void **value);

/* strdup that tolerates NULL (returns NULL). */
char *il__strdup_or_null(const char *s);

/* Runs / drops a scheduled callback (loop.c calls the drop for queued
 * IL__H_FUTCB handles at close). */
int il__fut_cb_run(il_loop_t *loop, void *arg);
void il__fut_cb_drop(void *arg);

/* ---- task.c ----------------------------------------------------------------
 */

typedef struct il__task il__task_t;

enum il__task_wait {
  IL__TW_NONE = 0, /* running or not suspended */
  IL__TW_FUTURE,   /* in il_await: `awaiting` + `wake` registered */
  IL__TW_HANDLE    /* il_sleep / il_yield / a wake-up: `handle` */
};

struct il__task {
  struct il_future fut; /* first: a task is a future */
  il_task_fn fn;
  void *arg;
  il__coro_t ctx;    /* the task's own flow */
  il__coro_t caller; /* the flow that resumed it (the loop's) */
  il__stack_t *stack;
  il__fut_cb_t wake;       /* embedded done-callback for il_await */
  il_future_t *awaiting;   /* what il_await waits on (a reference) */
  il_handle_t *handle;     /* start / sleep / yield / wake-up handle (held) */
  il__task_t *prev, *next; /* the loop's unfinished tasks */
  struct il_taskgroup *group;
  char *name;
  char *cancel_msg; /* reason of the last cancellation request */
  char *fail_msg;
  void *ret_value;
  il_destructor_fn ret_dtor;
  uint32_t num_cancels; /* cancellation requests not withdrawn */
  int wake_rc;          /* what a handle wake-up makes the wait return */
  uint8_t wait;         /* enum il__task_wait */
  uint8_t started;
  uint8_t finished;    /* fn returned; stack about to be released */
  uint8_t must_cancel; /* deliver IL_ECANCELED at the next wait */
  uint8_t in_group_wait;
};

/* The tasks part of the loop (one per loop, allocated with it). */
typedef struct il__tasks {
  il__task_t *head; /* unfinished tasks */
  size_t count;
  il__task_t *current; /* running now, or NULL */
  il__stack_pool_t stacks;
  int closing;         /* il_loop_close is finishing tasks */
  uintptr_t ruc_token; /* run_until_complete generation */
} il__tasks_t;

static inline il__task_t *il__task_of(il_future_t *f) {
  return (f && f->kind == IL__F_TASK) ? (il__task_t *)(void *)f : NULL;
}

/* The running task of `loop`, or NULL. */
static inline il__task_t *il__task_running(const il_loop_t *loop) {
  return loop->tasks ? loop->tasks->current : NULL;
}

/* Suspends the running task `t` until the future is done; like il_await
 * without the argument checks. */
int il__task_await(il__task_t *t, il_future_t *f, void **value);

/* Parks the running task `t` with no future and no handle until
 * il__task_unpark(t): returns 0 then, or IL_ECANCELED (a cancellation, also
 * one pending before the call, or the loop closing). Cheaper than awaiting
 * a fresh future; for waits whose owner keeps its own list of tasks
 * (stream.c). */
int il__task_park(il__task_t *t);

/* Wakes a parked task with 0 through the loop (its next pass), unless a
 * wake-up (or a cancellation) is already scheduled for it; a task that is
 * not parked is left alone. 0 or IL_ENOMEM. */
int il__task_unpark(il__task_t *t);

/* Frees a task's memory once its last reference is gone. */
void il__task_free(il__task_t *t);

/* The argument checks of il_await and il_wait_for: clears *value, and gives
 * the running task of f's loop in *task. IL_EINVAL, IL_EWRONGTHREAD,
 * IL_ENOTASK, IL_EINVALSTATE (f is that task). */
int il__await_check(il_future_t *f, void **value, il__task_t **task);

/* Task cancellation (task_cancel.c). */
int il__task_cancel(il__task_t *t, const char *reason);

/* Called by the task's coroutine and by close: finishes the future part of
 * a task from its function's return code. */
void il__task_finish(il__task_t *t, int rc);

/* Wakes a task suspended on a handle or a future with `rc` (e.g.
 * IL_ECANCELED): detaches it from what it waited on and schedules the
 * wake-up. Returns 0 or IL_ENOMEM. */
int il__task_wake_with(il__task_t *t, int rc);

/* Loop close: finishes every unfinished task (loop.c calls it first). */
void il__tasks_close(il_loop_t *loop);
void il__tasks_init(il_loop_t *loop);
void il__tasks_destroy(il_loop_t *loop);

/* Combinators: kind-specific cancel and free (combinators.c). */
int il__combinator_cancel(il_future_t *f, const char *reason);
void il__combinator_free(il_future_t *f);

/* taskgroup.c: a child of a group finished (synchronously, from
 * il__task_finish). */
void il__taskgroup_child_done(il__task_t *child);

#endif /* IL__FUTURE_INTERNAL_H */
