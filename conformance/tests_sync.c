/* conformance/tests_sync.c — SPEC.md §9: locks, events, conditions,
 * semaphores and queues for tasks. The rules are asyncio's (the behaviour
 * CPython's test_locks.py and test_queues.py check), ported to tasks.
 *
 * Each test runs a "main" task with il_loop_run_until_complete; the main
 * task spawns workers and steps the loop with il_yield. Checks made inside
 * tasks are recorded (T_CHECK / T_EQ) and asserted after the run: a cmocka
 * assert must not longjmp off a task's stack. */
#include "harness.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- checks inside tasks ------------------------------------------------- */

static char t_failure[256];

static void t_fail(int line, const char *what, long long a, long long b) {
  if (t_failure[0])
    return; /* the first failure tells the story */
  snprintf(t_failure, sizeof(t_failure), "line %d: %s (%lld vs %lld)", line,
           what, a, b);
}

#define T_CHECK(c)                                                             \
  do {                                                                         \
    if (!(c))                                                                  \
      t_fail(__LINE__, #c, 0, 0);                                              \
  } while (0)

#define T_EQ(a, b)                                                             \
  do {                                                                         \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b);                    \
    if (t_a_ != t_b_)                                                          \
      t_fail(__LINE__, #a " == " #b, t_a_, t_b_);                              \
  } while (0)

static void assert_no_task_failure(void) {
  if (t_failure[0])
    fail_msg("inside a task: %s", t_failure);
}

/* ---- the world a test's tasks share -------------------------------------- */

enum { MAXW = 16 };

typedef struct world {
  il_loop_t *loop;
  il_lock_t *lock;
  il_event_t *ev;
  il_condition_t *cond;
  il_semaphore_t *sem;
  il_queue_t *q;
  il_test_seq_t seq;  /* order things happened in */
  int rc[MAXW];       /* what worker i's waiting call returned */
  int done[MAXW];     /* worker i came back from its waiting call */
  int held[MAXW];     /* worker i saw the lock locked after its wait */
  void *got[MAXW];    /* worker i's item */
  il_task_t *t[MAXW]; /* worker i */
  struct worker {
    struct world *w;
    int id;
  } arg[MAXW];
  int counter;
  void *scratch;
} world_t;

static void seq_add(world_t *w, int id) {
  if (w->seq.n < (int)(sizeof(w->seq.ids) / sizeof(w->seq.ids[0])))
    w->seq.ids[w->seq.n++] = id;
}

static void world_init(world_t *w, il_test_ctx_t *ctx) {
  memset(w, 0, sizeof(*w));
  w->loop = ctx->loop;
  t_failure[0] = '\0';
  for (int i = 0; i < MAXW; i++)
    w->rc[i] = 1; /* "not returned yet" */
}

/* From inside a task: starts worker `id` running fn. */
static void spawn(world_t *w, int id, il_task_fn fn) {
  w->arg[id].w = w;
  w->arg[id].id = id;
  T_EQ(il_task_spawn(w->loop, fn, &w->arg[id], NULL, &w->t[id]), 0);
}

/* From inside a task: lets every task that is ready run, a few passes. */
static void settle(world_t *w) {
  for (int i = 0; i < 8; i++)
    T_EQ(il_yield(w->loop), 0);
}

/* From inside a task: waits for every spawned worker and lets go of it. */
static void join_all(world_t *w) {
  for (int i = 0; i < MAXW; i++) {
    if (w->t[i]) {
      T_EQ(il_await(w->t[i], NULL), 0);
      il_future_unref(w->t[i]);
      w->t[i] = NULL;
    }
  }
}

static void cancel(world_t *w, int id) {
  T_EQ(il_task_cancel(w->t[id], NULL), 1);
}

/* Runs main(w) as a task until it is done, then checks what the tasks saw. */
static void run_main(world_t *w, il_task_fn main_fn) {
  il_task_t *t = NULL;
  assert_int_equal(il_task_spawn(w->loop, main_fn, w, NULL, &t), 0);
  int rc = il_loop_run_until_complete(w->loop, t, NULL);
  il_future_unref(t);
  assert_no_task_failure();
  assert_int_equal(rc, 0);
}

#define WORKER(self, arg, w, id)                                               \
  struct worker *wk_ = (arg);                                                  \
  world_t *w = wk_->w;                                                         \
  int id = wk_->id;                                                            \
  (void)(self)

#define SEQ_IS(w, ...)                                                         \
  do {                                                                         \
    int want_[] = {__VA_ARGS__};                                               \
    int nwant_ = (int)(sizeof(want_) / sizeof(want_[0]));                      \
    T_EQ((w)->seq.n, nwant_);                                                  \
    for (int i_ = 0; i_ < nwant_ && i_ < (w)->seq.n; i_++)                     \
      T_EQ((w)->seq.ids[i_], want_[i_]);                                       \
  } while (0)

/* ---- §9.2 lock ---------------------------------------------------------- */

/* Acquires, records its turn, holds the lock over a pass, releases. */
static int lock_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_lock_acquire(w->lock);
  w->done[id] = 1;
  if (w->rc[id] == 0) {
    w->held[id] = il_lock_locked(w->lock);
    seq_add(w, id);
    il_yield(w->loop);
    T_EQ(il_lock_release(w->lock), 0);
  }
  return 0;
}

static int lock_fifo_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  for (int i = 1; i <= 4; i++)
    spawn(w, i, lock_worker);
  settle(w);
  T_EQ(w->seq.n, 0); /* all four wait */
  T_EQ(il_lock_locked(w->lock), 1);
  /* The release hands the lock to worker 1: it stays locked, and taking it
   * again at once queues this task behind the four. */
  T_EQ(il_lock_release(w->lock), 0);
  T_EQ(il_lock_locked(w->lock), 1);
  T_EQ(il_lock_acquire(w->lock), 0);
  seq_add(w, 99);
  SEQ_IS(w, 1, 2, 3, 4, 99);
  for (int i = 1; i <= 4; i++)
    T_EQ(w->held[i], 1);
  T_EQ(il_lock_release(w->lock), 0);
  T_EQ(il_lock_locked(w->lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_lock_fifo_fairness) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_lock_locked(w.lock), 0);
  run_main(&w, lock_fifo_main);
  assert_int_equal(il_lock_free(w.lock), 0);
}

static int lock_cancel_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 1, lock_worker);
  spawn(w, 2, lock_worker);
  settle(w);
  cancel(w, 1);
  settle(w);
  T_EQ(w->rc[1], IL_ECANCELED); /* out of the queue, lock not taken */
  T_EQ(w->done[2], 0);
  T_EQ(il_lock_locked(w->lock), 1); /* still this task's */
  T_EQ(il_lock_release(w->lock), 0);
  settle(w);
  T_EQ(w->rc[2], 0);
  SEQ_IS(w, 2);
  T_EQ(il_lock_locked(w->lock), 0);
  /* Cancelled, and the lock released before the cancelled waiter ran: the
   * release skips it and hands the lock to the next one. */
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 4, lock_worker);
  spawn(w, 5, lock_worker);
  settle(w);
  cancel(w, 4);
  T_EQ(il_lock_release(w->lock), 0);
  settle(w);
  T_EQ(w->rc[4], IL_ECANCELED);
  T_EQ(w->rc[5], 0);
  SEQ_IS(w, 2, 5);
  T_EQ(il_lock_locked(w->lock), 0);
  /* The only waiter cancelled: a release then unlocks. */
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 3, lock_worker);
  settle(w);
  cancel(w, 3);
  settle(w);
  T_EQ(w->rc[3], IL_ECANCELED);
  T_EQ(il_lock_release(w->lock), 0);
  T_EQ(il_lock_locked(w->lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_lock_cancel_while_waiting) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  run_main(&w, lock_cancel_main);
  assert_int_equal(il_lock_free(w.lock), 0);
}

static int lock_cancel_woken_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 1, lock_worker);
  spawn(w, 2, lock_worker);
  settle(w);
  /* Worker 1 is handed the lock, and cancelled before it runs: it must
   * pass the lock on to worker 2 rather than keep or drop it. */
  T_EQ(il_lock_release(w->lock), 0);
  cancel(w, 1);
  settle(w);
  T_EQ(w->rc[1], IL_ECANCELED);
  T_EQ(w->rc[2], 0);
  SEQ_IS(w, 2);
  T_EQ(il_lock_locked(w->lock), 0);
  /* The same with nobody behind it: the lock ends unlocked. */
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 3, lock_worker);
  settle(w);
  T_EQ(il_lock_release(w->lock), 0);
  cancel(w, 3);
  settle(w);
  T_EQ(w->rc[3], IL_ECANCELED);
  T_EQ(il_lock_locked(w->lock), 0);
  T_EQ(il_lock_acquire(w->lock), 0); /* without waiting */
  T_EQ(il_lock_release(w->lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_lock_cancel_after_wakeup_passes_on) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  run_main(&w, lock_cancel_woken_main);
  assert_int_equal(il_lock_free(w.lock), 0);
}

static int release_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  world_t *w = arg;
  w->rc[0] = il_lock_release(w->lock);
  return 0;
}

static int lock_release_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  /* A plain callback may release it. */
  T_EQ(il_loop_call_soon(w->loop, release_cb, w, NULL), 0);
  settle(w);
  T_EQ(w->rc[0], 0);
  T_EQ(il_lock_locked(w->lock), 0);
  T_EQ(il_lock_release(w->lock), IL_EINVALSTATE);
  T_EQ(il_lock_locked(w->lock), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_lock_release_unlocked_refused) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_lock_release(w.lock), IL_EINVALSTATE);
  assert_int_equal(il_lock_locked(w.lock), 0);
  run_main(&w, lock_release_main);
  assert_int_equal(il_lock_free(w.lock), 0);
}

/* ---- §9.3 event --------------------------------------------------------- */

static int event_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_event_wait(w->ev);
  seq_add(w, id);
  return 0;
}

static int event_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  for (int i = 1; i <= 3; i++)
    spawn(w, i, event_worker);
  settle(w);
  T_EQ(w->seq.n, 0);
  T_EQ(il_event_is_set(w->ev), 0);
  /* One set wakes every waiter, even if cleared before they run. */
  T_EQ(il_event_set(w->ev), 0);
  T_EQ(il_event_is_set(w->ev), 1);
  T_EQ(il_event_clear(w->ev), 0);
  T_EQ(il_event_is_set(w->ev), 0);
  settle(w);
  SEQ_IS(w, 1, 2, 3);
  for (int i = 1; i <= 3; i++)
    T_EQ(w->rc[i], 0);
  /* Cleared: a new waiter waits again. */
  spawn(w, 4, event_worker);
  settle(w);
  T_EQ(w->seq.n, 3);
  T_EQ(il_event_set(w->ev), 0);
  T_EQ(il_event_set(w->ev), 0); /* setting a set event: nothing more */
  settle(w);
  SEQ_IS(w, 1, 2, 3, 4);
  T_EQ(w->rc[4], 0);
  /* Set: il_event_wait returns at once. */
  T_EQ(il_event_wait(w->ev), 0);
  /* A waiter cancelled while waiting leaves the event as it was. */
  T_EQ(il_event_clear(w->ev), 0);
  spawn(w, 5, event_worker);
  settle(w);
  cancel(w, 5);
  settle(w);
  T_EQ(w->rc[5], IL_ECANCELED);
  T_EQ(il_event_is_set(w->ev), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_event_wait_set_clear_wakes_all) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_event_new(w.loop, &w.ev), 0);
  run_main(&w, event_main);
  assert_int_equal(il_event_free(w.ev), 0);
}

/* ---- §9.4 condition ----------------------------------------------------- */

/* Takes the lock, waits to be notified, records its turn and whether it
 * holds the lock, releases. */
static int cond_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  il_lock_t *lock = il_condition_lock(w->cond);
  T_EQ(il_lock_acquire(lock), 0);
  w->rc[id] = il_condition_wait(w->cond);
  w->done[id] = 1;
  seq_add(w, id);
  if (w->rc[id] == IL_ECLOSED)
    return 0; /* the condition and its own lock are gone */
  w->held[id] = il_lock_locked(lock);
  T_EQ(il_lock_release(lock), 0);
  return 0;
}

static int cond_order_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  il_lock_t *lock = il_condition_lock(w->cond);
  for (int i = 1; i <= 4; i++)
    spawn(w, i, cond_worker);
  settle(w);
  T_EQ(il_lock_locked(lock), 0); /* every waiter let go of the lock */
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_condition_notify(w->cond, 1), 1);
  settle(w);
  T_EQ(w->seq.n, 0); /* notified, but the lock is still this task's */
  T_EQ(il_lock_release(lock), 0);
  settle(w);
  SEQ_IS(w, 1);
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_condition_notify(w->cond, 2), 2);
  T_EQ(il_lock_release(lock), 0);
  settle(w);
  SEQ_IS(w, 1, 2, 3);
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_condition_notify_all(w->cond), 1);
  T_EQ(il_condition_notify(w->cond, 5), 0); /* nobody left */
  T_EQ(il_lock_release(lock), 0);
  settle(w);
  SEQ_IS(w, 1, 2, 3, 4);
  for (int i = 1; i <= 4; i++) {
    T_EQ(w->rc[i], 0);
    T_EQ(w->held[i], 1);
  }
  T_EQ(il_lock_locked(lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_condition_notify_order) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  run_main(&w, cond_order_main);
  assert_int_equal(il_condition_free(w.cond), 0);
}

static int counter_reached_3(void *arg) {
  return ((world_t *)arg)->counter >= 3;
}

static int always_true(void *arg) {
  (void)arg;
  return 1;
}

static int wait_for_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  il_lock_t *lock = il_condition_lock(w->cond);
  T_EQ(il_lock_acquire(lock), 0);
  w->rc[id] = il_condition_wait_for(w->cond, counter_reached_3, w);
  seq_add(w, w->counter);
  T_EQ(il_lock_locked(lock), 1);
  T_EQ(il_lock_release(lock), 0);
  return 0;
}

static int wait_for_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  il_lock_t *lock = il_condition_lock(w->cond);
  spawn(w, 1, wait_for_worker);
  settle(w);
  for (int i = 1; i <= 3; i++) {
    T_EQ(w->seq.n, 0); /* the predicate is still false */
    T_EQ(il_lock_acquire(lock), 0);
    w->counter++;
    T_EQ(il_condition_notify_all(w->cond), 1);
    T_EQ(il_lock_release(lock), 0);
    settle(w);
  }
  SEQ_IS(w, 3);
  T_EQ(w->rc[1], 0);
  /* A predicate already true: no wait, the lock stays held. */
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_condition_wait_for(w->cond, always_true, NULL), 0);
  T_EQ(il_lock_locked(lock), 1);
  T_EQ(il_lock_release(lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_condition_wait_for_predicate) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  /* This time with a lock of the caller's. */
  assert_int_equal(il_condition_new(w.loop, w.lock, &w.cond), 0);
  assert_ptr_equal(il_condition_lock(w.cond), w.lock);
  run_main(&w, wait_for_main);
  assert_int_equal(il_condition_free(w.cond), 0);
  assert_int_equal(il_lock_free(w.lock), 0);
}

static int cond_no_lock_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_condition_wait(w->cond), IL_EINVALSTATE);
  T_EQ(il_condition_wait_for(w->cond, always_true, NULL), IL_EINVALSTATE);
  T_EQ(il_lock_locked(il_condition_lock(w->cond)), 0);
  T_EQ(il_lock_acquire(il_condition_lock(w->cond)), 0);
  T_EQ(il_condition_notify(w->cond, -1), IL_EINVAL);
  T_EQ(il_condition_notify(w->cond, 1), 0);
  T_EQ(il_lock_release(il_condition_lock(w->cond)), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_condition_notify_without_lock_refused) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  assert_int_equal(il_condition_notify(w.cond, 1), IL_EINVALSTATE);
  assert_int_equal(il_condition_notify_all(w.cond), IL_EINVALSTATE);
  run_main(&w, cond_no_lock_main);
  assert_int_equal(il_condition_free(w.cond), 0);
}

static int cond_cancel_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  il_lock_t *lock = il_condition_lock(w->cond);
  /* Cancelled while waiting, with the lock taken meanwhile by this task:
   * the waiter returns only once it has the lock back. */
  spawn(w, 1, cond_worker);
  settle(w);
  T_EQ(il_lock_acquire(lock), 0);
  cancel(w, 1);
  settle(w);
  T_EQ(w->done[1], 0);
  T_EQ(il_lock_release(lock), 0);
  settle(w);
  T_EQ(w->rc[1], IL_ECANCELED);
  T_EQ(w->held[1], 1);
  T_EQ(il_lock_locked(lock), 0);
  /* Notified, then cancelled before it ran: the notification goes to the
   * next waiter instead of being lost. */
  spawn(w, 2, cond_worker);
  spawn(w, 3, cond_worker);
  settle(w);
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_condition_notify(w->cond, 1), 1);
  cancel(w, 2);
  T_EQ(il_lock_release(lock), 0);
  settle(w);
  T_EQ(w->rc[2], IL_ECANCELED);
  T_EQ(w->held[2], 1);
  T_EQ(w->rc[3], 0);
  T_EQ(w->held[3], 1);
  T_EQ(il_lock_locked(lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_condition_cancel_reacquires_lock) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  run_main(&w, cond_cancel_main);
  assert_int_equal(il_condition_free(w.cond), 0);
}

/* ---- §9.5 semaphores ---------------------------------------------------- */

static int sem_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_semaphore_acquire(w->sem);
  if (w->rc[id] == 0)
    seq_add(w, id);
  return 0; /* keeps the unit: the test gives units back itself */
}

static int sem_fifo_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_semaphore_locked(w->sem), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 1);
  for (int i = 1; i <= 3; i++)
    spawn(w, i, sem_worker);
  settle(w);
  T_EQ(w->seq.n, 0);
  T_EQ(il_semaphore_release(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 1); /* handed to worker 1 */
  settle(w);
  SEQ_IS(w, 1);
  T_EQ(il_semaphore_release(w->sem), 0);
  T_EQ(il_semaphore_release(w->sem), 0);
  settle(w);
  SEQ_IS(w, 1, 2, 3);
  T_EQ(il_semaphore_locked(w->sem), 1);
  /* Waiter 4 is handed a unit and cancelled before it runs: the unit goes
   * to waiter 5. Waiter 6 is cancelled while waiting: nothing changes. */
  spawn(w, 4, sem_worker);
  spawn(w, 5, sem_worker);
  spawn(w, 6, sem_worker);
  settle(w);
  T_EQ(il_semaphore_release(w->sem), 0);
  cancel(w, 4);
  settle(w);
  T_EQ(w->rc[4], IL_ECANCELED);
  T_EQ(w->rc[5], 0);
  SEQ_IS(w, 1, 2, 3, 5);
  cancel(w, 6);
  settle(w);
  T_EQ(w->rc[6], IL_ECANCELED);
  T_EQ(il_semaphore_locked(w->sem), 1);
  T_EQ(il_semaphore_release(w->sem), 0); /* nobody waits: to the count */
  T_EQ(il_semaphore_locked(w->sem), 0);
  T_EQ(il_semaphore_release(w->sem), 0); /* unbounded: above the start */
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 1);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_semaphore_counts_fifo) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_semaphore_new(w.loop, 2, &w.sem), 0);
  run_main(&w, sem_fifo_main);
  assert_int_equal(il_semaphore_free(w.sem), 0);
}

static int bounded_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_semaphore_release(w->sem), IL_EINVALSTATE);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 1);
  T_EQ(il_semaphore_release(w->sem), 0);
  T_EQ(il_semaphore_release(w->sem), 0);
  T_EQ(il_semaphore_release(w->sem), IL_EINVALSTATE);
  T_EQ(il_semaphore_locked(w->sem), 0);
  /* The refused release changed nothing: exactly two units. */
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  T_EQ(il_semaphore_locked(w->sem), 1);
  T_EQ(il_semaphore_release(w->sem), 0);
  T_EQ(il_semaphore_release(w->sem), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_bounded_semaphore_over_release_refused) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_semaphore_new_bounded(w.loop, 2, &w.sem), 0);
  assert_int_equal(il_semaphore_release(w.sem), IL_EINVALSTATE);
  run_main(&w, bounded_main);
  assert_int_equal(il_semaphore_free(w.sem), 0);
}

/* ---- §9.6 queues -------------------------------------------------------- */

#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((int)(uintptr_t)(p))

typedef struct prio_item {
  int key;
  int id;
} prio_item_t;

static int by_key(const void *a, const void *b, void *ud) {
  const prio_item_t *x = a, *y = b;
  (*(int *)ud)++;
  return (x->key > y->key) - (x->key < y->key);
}

static int get_num(il_queue_t *q) {
  void *item = ITEM(12345);
  int rc = il_queue_get_nowait(q, &item);
  assert_int_equal(rc, 0);
  return NUM(item);
}

IL_CONFORMANCE_TEST(test_queue_fifo_lifo_priority_order) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_queue_t *q;
  /* FIFO, through the ring's wrap-around and growth. */
  assert_int_equal(il_queue_new(ctx->loop, 0, &q), 0);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 40; round++) {
    for (int i = 0; i < round % 7 + 1; i++)
      assert_int_equal(il_queue_put_nowait(q, ITEM(next_in++)), 0);
    for (int i = 0; i < round % 5; i++)
      if (next_out < next_in)
        assert_int_equal(get_num(q), next_out++);
  }
  assert_int_equal(il_queue_size(q), next_in - next_out);
  while (next_out < next_in)
    assert_int_equal(get_num(q), next_out++);
  assert_int_equal(il_queue_free(q, NULL), 0);

  /* LIFO */
  assert_int_equal(il_queue_new_lifo(ctx->loop, 0, &q), 0);
  for (int i = 1; i <= 20; i++)
    assert_int_equal(il_queue_put_nowait(q, ITEM(i)), 0);
  for (int i = 20; i >= 1; i--)
    assert_int_equal(get_num(q), i);
  assert_int_equal(il_queue_free(q, NULL), 0);

  /* Priority: smallest first, equal keys in put order. */
  enum { N = 300 };
  static prio_item_t items[N];
  int calls = 0;
  assert_int_equal(il_queue_new_priority(ctx->loop, 0, by_key, &calls, &q), 0);
  for (int i = 0; i < N; i++) {
    items[i].key = (i * 7919) % 13;
    items[i].id = i;
    assert_int_equal(il_queue_put_nowait(q, &items[i]), 0);
  }
  assert_true(calls > 0); /* the compare function got its user data */
  prio_item_t *prev = NULL;
  for (int i = 0; i < N; i++) {
    void *p = NULL;
    assert_int_equal(il_queue_get_nowait(q, &p), 0);
    prio_item_t *it = p;
    if (prev) {
      assert_true(prev->key <= it->key);
      if (prev->key == it->key)
        assert_true(prev->id < it->id);
    }
    prev = it;
  }
  assert_int_equal(il_queue_empty(q), 1);
  assert_int_equal(il_queue_free(q, NULL), 0);
}

static int getter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_queue_get(w->q, &w->got[id]);
  if (w->rc[id] == 0)
    seq_add(w, id);
  return 0;
}

static int putter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_queue_put(w->q, ITEM(100 + id));
  if (w->rc[id] == 0)
    seq_add(w, id);
  return 0;
}

static int queue_block_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  /* Full: a put waits for a get. */
  T_EQ(il_queue_put(w->q, ITEM(1)), 0);
  T_EQ(il_queue_put(w->q, ITEM(2)), 0);
  T_EQ(il_queue_full(w->q), 1);
  spawn(w, 1, putter);
  spawn(w, 2, putter);
  settle(w);
  T_EQ(w->seq.n, 0);
  T_EQ(il_queue_size(w->q), 2);
  void *item = NULL;
  T_EQ(il_queue_get(w->q, &item), 0); /* not empty: at once */
  T_EQ(NUM(item), 1);
  settle(w);
  SEQ_IS(w, 1); /* one slot: the first putter only */
  T_EQ(il_queue_size(w->q), 2);
  T_EQ(il_queue_get(w->q, &item), 0);
  T_EQ(NUM(item), 2);
  T_EQ(il_queue_get(w->q, &item), 0);
  T_EQ(NUM(item), 101);
  settle(w);
  SEQ_IS(w, 1, 2);
  T_EQ(il_queue_get(w->q, &item), 0);
  T_EQ(NUM(item), 102);
  T_EQ(il_queue_empty(w->q), 1);
  /* Empty: gets wait for puts, in the order they came. */
  w->seq.n = 0;
  spawn(w, 3, getter);
  spawn(w, 4, getter);
  settle(w);
  T_EQ(w->seq.n, 0);
  T_EQ(il_queue_put_nowait(w->q, ITEM(7)), 0);
  T_EQ(il_queue_put_nowait(w->q, ITEM(8)), 0);
  settle(w);
  SEQ_IS(w, 3, 4);
  T_EQ(NUM(w->got[3]), 7);
  T_EQ(NUM(w->got[4]), 8);
  T_EQ(il_queue_empty(w->q), 1);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_queue_put_blocks_full_get_blocks_empty) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_queue_new(w.loop, 2, &w.q), 0);
  run_main(&w, queue_block_main);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
}

IL_CONFORMANCE_TEST(test_queue_nowait_errors) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_queue_t *q;
  assert_int_equal(il_queue_new(ctx->loop, 1, &q), 0);
  assert_int_equal(il_queue_maxsize(q), 1);
  assert_int_equal(il_queue_empty(q), 1);
  assert_int_equal(il_queue_full(q), 0);
  void *item = ITEM(5);
  assert_int_equal(il_queue_get_nowait(q, &item), IL_EAGAIN);
  assert_null(item);
  assert_int_equal(il_queue_put_nowait(q, ITEM(1)), 0);
  assert_int_equal(il_queue_put_nowait(q, ITEM(2)), IL_EAGAIN);
  assert_int_equal(il_queue_size(q), 1);
  assert_int_equal(il_queue_full(q), 1);
  assert_int_equal(il_queue_empty(q), 0);
  assert_int_equal(get_num(q), 1); /* the refused item never went in */
  assert_int_equal(il_queue_get_nowait(q, &item), IL_EAGAIN);
  assert_int_equal(il_queue_free(q, NULL), 0);
  /* maxsize 0: never full. */
  assert_int_equal(il_queue_new(ctx->loop, 0, &q), 0);
  assert_int_equal(il_queue_maxsize(q), 0);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(il_queue_put_nowait(q, ITEM(i)), 0);
  assert_int_equal(il_queue_full(q), 0);
  assert_int_equal(il_queue_size(q), 1000);
  assert_int_equal(il_queue_free(q, NULL), 0);
}

static int queue_cancel_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  /* Getter 1 is woken by a put and cancelled before it runs: the item
   * stays in the queue and getter 2 gets it. */
  spawn(w, 1, getter);
  spawn(w, 2, getter);
  settle(w);
  T_EQ(il_queue_put_nowait(w->q, ITEM(42)), 0);
  cancel(w, 1);
  settle(w);
  T_EQ(w->rc[1], IL_ECANCELED);
  T_EQ(w->got[1], NULL);
  T_EQ(w->rc[2], 0);
  T_EQ(NUM(w->got[2]), 42);
  T_EQ(il_queue_empty(w->q), 1);
  /* Cancelled while waiting: later items wait for the next get. */
  spawn(w, 3, getter);
  settle(w);
  cancel(w, 3);
  settle(w);
  T_EQ(w->rc[3], IL_ECANCELED);
  T_EQ(il_queue_put_nowait(w->q, ITEM(43)), 0);
  settle(w);
  T_EQ(il_queue_size(w->q), 1);
  void *item = NULL;
  T_EQ(il_queue_get(w->q, &item), 0);
  T_EQ(NUM(item), 43);
  /* Putters likewise: one woken by a get and cancelled passes the free
   * slot on to the next putter. */
  T_EQ(il_queue_put_nowait(w->q, ITEM(1)), 0);
  spawn(w, 4, putter);
  spawn(w, 5, putter);
  settle(w);
  T_EQ(il_queue_get_nowait(w->q, &item), 0);
  T_EQ(NUM(item), 1);
  cancel(w, 4);
  settle(w);
  T_EQ(w->rc[4], IL_ECANCELED);
  T_EQ(w->rc[5], 0);
  T_EQ(il_queue_size(w->q), 1);
  T_EQ(il_queue_get_nowait(w->q, &item), 0);
  T_EQ(NUM(item), 105);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_queue_cancelled_getter_loses_no_item) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_queue_new(w.loop, 1, &w.q), 0);
  run_main(&w, queue_cancel_main);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
}

static int joiner(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_queue_join(w->q);
  seq_add(w, 100 + id);
  return 0;
}

static int consumer(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  for (int i = 0; i < 3; i++) {
    void *item = NULL;
    T_EQ(il_queue_get(w->q, &item), 0);
    il_yield(w->loop); /* "processing" */
    seq_add(w, NUM(item));
    T_EQ(il_queue_task_done(w->q), 0);
  }
  (void)id;
  return 0;
}

static int join_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_queue_join(w->q), 0); /* nothing unfinished: at once */
  for (int i = 1; i <= 3; i++)
    T_EQ(il_queue_put(w->q, ITEM(i)), 0);
  spawn(w, 1, joiner);
  spawn(w, 2, joiner);
  settle(w);
  T_EQ(w->seq.n, 0);
  spawn(w, 3, consumer);
  join_all(w);
  SEQ_IS(w, 1, 2, 3, 101, 102);
  T_EQ(w->rc[1], 0);
  T_EQ(w->rc[2], 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_queue_join_waits_for_task_done) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_queue_new(w.loop, 0, &w.q), 0);
  run_main(&w, join_main);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
}

IL_CONFORMANCE_TEST(test_queue_task_done_too_many_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_queue_t *q;
  assert_int_equal(il_queue_new(ctx->loop, 0, &q), 0);
  assert_int_equal(il_queue_task_done(q), IL_EINVALSTATE);
  assert_int_equal(il_queue_put_nowait(q, ITEM(1)), 0);
  assert_int_equal(il_queue_put_nowait(q, ITEM(2)), 0);
  assert_int_equal(get_num(q), 1);
  assert_int_equal(il_queue_task_done(q), 0);
  assert_int_equal(il_queue_task_done(q), 0); /* before its get: allowed */
  assert_int_equal(il_queue_task_done(q), IL_EINVALSTATE);
  assert_int_equal(il_queue_size(q), 1);
  assert_int_equal(il_queue_free(q, NULL), 0);
}

/* ---- §9.1 rules for every primitive ------------------------------------- */

static void all_waits_enotask(world_t *w, int *bad) {
  void *item = ITEM(9);
#define EXPECT_ENOTASK(call)                                                   \
  if ((call) != IL_ENOTASK)                                                    \
    (*bad)++;
  EXPECT_ENOTASK(il_lock_acquire(w->lock));
  EXPECT_ENOTASK(il_event_wait(w->ev));
  EXPECT_ENOTASK(il_condition_wait(w->cond));
  EXPECT_ENOTASK(il_condition_wait_for(w->cond, always_true, NULL));
  EXPECT_ENOTASK(il_semaphore_acquire(w->sem));
  EXPECT_ENOTASK(il_queue_put(w->q, ITEM(1)));
  EXPECT_ENOTASK(il_queue_get(w->q, &item));
  EXPECT_ENOTASK(il_queue_join(w->q));
#undef EXPECT_ENOTASK
  if (item != NULL)
    (*bad)++;
}

static int enotask_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  world_t *w = arg;
  all_waits_enotask(w, &w->rc[1]);
  w->done[1] = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_sync_wait_outside_task_enotask) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_event_new(w.loop, &w.ev), 0);
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  assert_int_equal(il_semaphore_new(w.loop, 0, &w.sem), 0);
  assert_int_equal(il_queue_new(w.loop, 0, &w.q), 0);
  assert_int_equal(il_queue_put_nowait(w.q, ITEM(5)), 0);
  /* From plain code ... */
  w.rc[0] = 0;
  all_waits_enotask(&w, &w.rc[0]);
  assert_int_equal(w.rc[0], 0);
  /* ... and from a callback of the running loop. */
  w.rc[1] = 0;
  assert_int_equal(il_loop_call_soon(w.loop, enotask_cb, &w, NULL), 0);
  assert_true(il_test_run_until(w.loop, &w.done[1], 5.0));
  assert_int_equal(w.rc[1], 0);
  /* Nothing changed. */
  assert_int_equal(il_lock_locked(w.lock), 0);
  assert_int_equal(il_lock_locked(il_condition_lock(w.cond)), 0);
  assert_int_equal(il_semaphore_locked(w.sem), 1);
  assert_int_equal(il_queue_size(w.q), 1);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
  assert_int_equal(il_semaphore_free(w.sem), 0);
  assert_int_equal(il_condition_free(w.cond), 0);
  assert_int_equal(il_event_free(w.ev), 0);
  assert_int_equal(il_lock_free(w.lock), 0);
}

static int lock_waiter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_lock_acquire(w->lock);
  return 0;
}

static int event_waiter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_event_wait(w->ev);
  return 0;
}

static int sem_waiter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_semaphore_acquire(w->sem);
  return 0;
}

static int join_waiter(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  w->rc[id] = il_queue_join(w->q);
  return 0;
}

/* Waits on a condition using w->lock, an outside lock. */
static int outside_cond_worker(il_task_t *self, void *arg) {
  WORKER(self, arg, w, id);
  T_EQ(il_lock_acquire(w->lock), 0);
  w->rc[id] = il_condition_wait(w->scratch);
  w->held[id] = il_lock_locked(w->lock);
  return 0;
}

static void count_item(void *item) {
  (*(int *)item)++;
}

static int free_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  il_condition_t *outside = w->scratch;
  T_EQ(il_lock_acquire(w->lock), 0);
  T_EQ(il_semaphore_acquire(w->sem), 0);
  spawn(w, 1, lock_waiter);
  spawn(w, 2, event_waiter);
  spawn(w, 3, cond_worker); /* the condition's own lock */
  spawn(w, 4, sem_waiter);
  spawn(w, 5, getter);
  spawn(w, 6, join_waiter);
  settle(w);
  /* A waiter woken but not yet run when its primitive goes. */
  T_EQ(il_event_set(w->ev), 0);
  /* Every wait ends with IL_ECLOSED. */
  T_EQ(il_lock_free(w->lock), 0);
  T_EQ(il_event_free(w->ev), 0);
  T_EQ(il_condition_free(w->cond), 0);
  T_EQ(il_semaphore_free(w->sem), 0);
  T_EQ(il_queue_free(w->q, NULL), 0);
  settle(w);
  for (int i = 1; i <= 6; i++)
    T_EQ(w->rc[i], IL_ECLOSED);
  /* A putter waiting on a full queue; the items left inside go to the
   * destructor, the putter's item stays the putter's. */
  int freed = 0;
  T_EQ(il_queue_new(w->loop, 2, &w->q), 0);
  T_EQ(il_queue_put(w->q, &freed), 0);
  T_EQ(il_queue_put(w->q, &freed), 0);
  spawn(w, 7, putter);
  settle(w);
  T_EQ(il_queue_free(w->q, count_item), 0);
  T_EQ(freed, 2);
  settle(w);
  T_EQ(w->rc[7], IL_ECLOSED);
  /* A condition on an outside lock, freed while its waiter, notified,
   * waits for that lock: the waiter ends without the lock. */
  T_EQ(il_lock_new(w->loop, &w->lock), 0);
  T_EQ(il_condition_new(w->loop, w->lock, &outside), 0);
  w->scratch = outside;
  T_EQ(il_lock_free(w->lock), IL_EBUSY); /* a condition uses it */
  spawn(w, 8, outside_cond_worker);
  settle(w);
  T_EQ(il_lock_acquire(w->lock), 0);
  T_EQ(il_condition_notify(outside, 1), 1);
  settle(w);
  T_EQ(il_condition_free(outside), 0);
  T_EQ(il_lock_release(w->lock), 0);
  settle(w);
  T_EQ(w->rc[8], IL_ECLOSED);
  T_EQ(w->held[8], 0);
  T_EQ(il_lock_locked(w->lock), 0);
  T_EQ(il_lock_free(w->lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_sync_free_with_waiters) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_event_new(w.loop, &w.ev), 0);
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  assert_int_equal(il_semaphore_new(w.loop, 1, &w.sem), 0);
  assert_int_equal(il_queue_new(w.loop, 0, &w.q), 0);
  /* A condition's own lock goes with the condition. */
  assert_int_equal(il_lock_free(il_condition_lock(w.cond)), IL_EINVALSTATE);
  /* an unfinished item, so that il_queue_join waits */
  int dummy = 0;
  assert_int_equal(il_queue_put_nowait(w.q, &dummy), 0);
  void *item = NULL;
  assert_int_equal(il_queue_get_nowait(w.q, &item), 0);
  run_main(&w, free_main);
}

/* Tasks still waiting when the loop closes are finished by il_loop_close
 * (their waits return IL_ECANCELED); the primitives stay consistent and
 * can be freed afterwards. */
static int close_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 1, lock_waiter);
  spawn(w, 2, cond_worker);
  spawn(w, 3, getter);
  settle(w);
  /* Worker 2 waits to re-acquire a lock this task keeps. */
  T_EQ(il_lock_acquire(il_condition_lock(w->cond)), 0);
  T_EQ(il_condition_notify(w->cond, 1), 1);
  settle(w);
  w->counter = 1;
  for (int i = 1; i <= 3; i++) {
    il_future_unref(w->t[i]);
    w->t[i] = NULL;
  }
  return 0; /* leaves everything as it is */
}

IL_CONFORMANCE_TEST(test_sync_loop_close_finishes_waiters) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  world_t w;
  world_init(&w, ctx);
  w.loop = il_test_loop_new(ctx);
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  assert_int_equal(il_queue_new(w.loop, 0, &w.q), 0);
  run_main(&w, close_main);
  assert_int_equal(w.counter, 1);
  assert_int_equal(il_loop_close(w.loop), 0);
  assert_int_equal(w.rc[1], IL_ECANCELED);
  assert_int_equal(w.rc[2], IL_ECANCELED);
  assert_int_equal(w.rc[3], IL_ECANCELED);
  assert_int_equal(il_queue_size(w.q), 0);
  assert_int_equal(il_lock_locked(w.lock), 1); /* close_main kept it */
  assert_int_equal(il_queue_free(w.q, NULL), 0);
  assert_int_equal(il_condition_free(w.cond), 0);
  assert_int_equal(il_lock_free(w.lock), 0);
}

/* A time limit (il_timeout_enter) on a waiting call is a cancellation like
 * any other: the call gives up with IL_ETIMEDOUT and the primitive is left
 * as it was. */
static int timeout_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  il_timeout_t *to = NULL;
  T_EQ(il_lock_acquire(w->lock), 0);
  spawn(w, 1, lock_worker); /* waits, and must get the lock afterwards */
  settle(w);
  /* This task waits for a lock it holds itself: only the limit ends it. */
  T_EQ(il_timeout_enter(w->loop, 0.02, &to), 0);
  int rc = il_lock_acquire(w->lock);
  T_EQ(il_timeout_exit(to, rc), IL_ETIMEDOUT);
  T_EQ(il_task_cancelling(self), 0);
  T_EQ(il_lock_release(w->lock), 0);
  settle(w);
  T_EQ(w->rc[1], 0);
  SEQ_IS(w, 1);
  T_EQ(il_lock_locked(w->lock), 0);
  /* A get that times out takes nothing; a later put stays for the next. */
  T_EQ(il_timeout_enter(w->loop, 0.02, &to), 0);
  void *item = ITEM(1);
  rc = il_queue_get(w->q, &item);
  T_EQ(il_timeout_exit(to, rc), IL_ETIMEDOUT);
  T_EQ(item, NULL);
  T_EQ(il_queue_put_nowait(w->q, ITEM(5)), 0);
  settle(w);
  T_EQ(il_queue_size(w->q), 1);
  T_EQ(il_queue_get(w->q, &item), 0);
  T_EQ(NUM(item), 5);
  /* A condition wait that times out returns holding the lock. */
  il_lock_t *lock = il_condition_lock(w->cond);
  T_EQ(il_lock_acquire(lock), 0);
  T_EQ(il_timeout_enter(w->loop, 0.02, &to), 0);
  rc = il_condition_wait(w->cond);
  T_EQ(il_timeout_exit(to, rc), IL_ETIMEDOUT);
  T_EQ(il_lock_locked(lock), 1);
  T_EQ(il_lock_release(lock), 0);
  join_all(w);
  return 0;
}

IL_CONFORMANCE_TEST(test_sync_wait_timeout_leaves_primitive_consistent) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_queue_new(w.loop, 0, &w.q), 0);
  assert_int_equal(il_condition_new(w.loop, NULL, &w.cond), 0);
  run_main(&w, timeout_main);
  assert_int_equal(il_condition_free(w.cond), 0);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
  assert_int_equal(il_lock_free(w.lock), 0);
}

/* Another thread calls while the loop runs a task. */
typedef struct thread_calls {
  world_t *w;
  int rc[16];
  int n;
} thread_calls_t;

static void *other_thread(void *arg) {
  thread_calls_t *tc = arg;
  world_t *w = tc->w;
  void *item = NULL;
  tc->rc[tc->n++] = il_lock_release(w->lock);
  tc->rc[tc->n++] = il_lock_locked(w->lock);
  tc->rc[tc->n++] = il_lock_free(w->lock);
  tc->rc[tc->n++] = il_event_set(w->ev);
  tc->rc[tc->n++] = il_event_is_set(w->ev);
  tc->rc[tc->n++] = il_condition_notify_all(w->cond);
  tc->rc[tc->n++] = il_semaphore_release(w->sem);
  tc->rc[tc->n++] = il_queue_put_nowait(w->q, ITEM(3));
  tc->rc[tc->n++] = il_queue_get_nowait(w->q, &item);
  tc->rc[tc->n++] = (int)il_queue_size(w->q);
  tc->rc[tc->n++] = il_queue_task_done(w->q);
  tc->rc[tc->n++] = il_queue_free(w->q, NULL);
  tc->rc[tc->n++] = il_lock_new(w->loop, &w->lock);
  return NULL;
}

static int wrong_thread_main(il_task_t *self, void *arg) {
  world_t *w = arg;
  (void)self;
  T_EQ(il_lock_acquire(w->lock), 0);
  thread_calls_t tc = {.w = w};
  il_lock_t *lock = w->lock;
  pthread_t th;
  T_EQ(pthread_create(&th, NULL, other_thread, &tc), 0);
  T_EQ(pthread_join(th, NULL), 0);
  T_EQ(tc.n, 13);
  for (int i = 0; i < tc.n; i++)
    T_EQ(tc.rc[i], IL_EWRONGTHREAD);
  w->lock = lock; /* the refused il_lock_new may have cleared it */
  T_EQ(il_lock_locked(w->lock), 1);
  T_EQ(il_event_is_set(w->ev), 0);
  T_EQ(il_semaphore_locked(w->sem), 1);
  T_EQ(il_queue_size(w->q), 1);
  T_EQ(il_lock_release(w->lock), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_sync_wrong_thread_refused) {
  world_t w;
  world_init(&w, il_test_ctx(state));
  assert_int_equal(il_lock_new(w.loop, &w.lock), 0);
  assert_int_equal(il_event_new(w.loop, &w.ev), 0);
  assert_int_equal(il_condition_new(w.loop, w.lock, &w.cond), 0);
  assert_int_equal(il_semaphore_new(w.loop, 0, &w.sem), 0);
  assert_int_equal(il_queue_new(w.loop, 1, &w.q), 0);
  assert_int_equal(il_queue_put_nowait(w.q, ITEM(1)), 0);
  run_main(&w, wrong_thread_main);
  assert_int_equal(il_queue_free(w.q, NULL), 0);
  assert_int_equal(il_semaphore_free(w.sem), 0);
  assert_int_equal(il_condition_free(w.cond), 0);
  assert_int_equal(il_event_free(w.ev), 0);
  assert_int_equal(il_lock_free(w.lock), 0);
}

IL_CONFORMANCE_TEST(test_sync_null_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  il_lock_t *lock = NULL;
  il_event_t *ev = NULL;
  il_condition_t *cond = NULL;
  il_semaphore_t *sem = NULL;
  il_queue_t *q = NULL;
  void *item = NULL;
  assert_int_equal(il_lock_new(NULL, &lock), IL_EINVAL);
  assert_int_equal(il_lock_new(loop, NULL), IL_EINVAL);
  assert_int_equal(il_event_new(NULL, &ev), IL_EINVAL);
  assert_int_equal(il_event_new(loop, NULL), IL_EINVAL);
  assert_int_equal(il_condition_new(NULL, NULL, &cond), IL_EINVAL);
  assert_int_equal(il_condition_new(loop, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_semaphore_new(NULL, 1, &sem), IL_EINVAL);
  assert_int_equal(il_semaphore_new(loop, -1, &sem), IL_EINVAL);
  assert_null(sem);
  assert_int_equal(il_semaphore_new_bounded(loop, -1, &sem), IL_EINVAL);
  assert_int_equal(il_semaphore_new_bounded(loop, 1, NULL), IL_EINVAL);
  assert_int_equal(il_queue_new(NULL, 0, &q), IL_EINVAL);
  assert_int_equal(il_queue_new(loop, 0, NULL), IL_EINVAL);
  assert_int_equal(il_queue_new_lifo(loop, 0, NULL), IL_EINVAL);
  assert_int_equal(il_queue_new_priority(loop, 0, NULL, NULL, &q), IL_EINVAL);
  assert_null(q);

  assert_int_equal(il_lock_free(NULL), 0);
  assert_int_equal(il_event_free(NULL), 0);
  assert_int_equal(il_condition_free(NULL), 0);
  assert_int_equal(il_semaphore_free(NULL), 0);
  assert_int_equal(il_queue_free(NULL, NULL), 0);
  assert_int_equal(il_lock_acquire(NULL), IL_EINVAL);
  assert_int_equal(il_lock_release(NULL), IL_EINVAL);
  assert_int_equal(il_lock_locked(NULL), IL_EINVAL);
  assert_int_equal(il_event_wait(NULL), IL_EINVAL);
  assert_int_equal(il_event_set(NULL), IL_EINVAL);
  assert_int_equal(il_event_clear(NULL), IL_EINVAL);
  assert_int_equal(il_event_is_set(NULL), IL_EINVAL);
  assert_null(il_condition_lock(NULL));
  assert_int_equal(il_condition_wait(NULL), IL_EINVAL);
  assert_int_equal(il_condition_wait_for(NULL, always_true, NULL), IL_EINVAL);
  assert_int_equal(il_condition_notify(NULL, 1), IL_EINVAL);
  assert_int_equal(il_condition_notify_all(NULL), IL_EINVAL);
  assert_int_equal(il_semaphore_acquire(NULL), IL_EINVAL);
  assert_int_equal(il_semaphore_release(NULL), IL_EINVAL);
  assert_int_equal(il_semaphore_locked(NULL), IL_EINVAL);
  assert_int_equal(il_queue_put(NULL, NULL), IL_EINVAL);
  assert_int_equal(il_queue_get(NULL, &item), IL_EINVAL);
  assert_int_equal(il_queue_put_nowait(NULL, NULL), IL_EINVAL);
  assert_int_equal(il_queue_get_nowait(NULL, &item), IL_EINVAL);
  assert_int_equal(il_queue_join(NULL), IL_EINVAL);
  assert_int_equal(il_queue_task_done(NULL), IL_EINVAL);
  assert_int_equal(il_queue_size(NULL), IL_EINVAL);
  assert_int_equal(il_queue_maxsize(NULL), IL_EINVAL);
  assert_int_equal(il_queue_empty(NULL), IL_EINVAL);
  assert_int_equal(il_queue_full(NULL), IL_EINVAL);

  assert_int_equal(il_queue_new(loop, 0, &q), 0);
  assert_int_equal(il_queue_get(q, NULL), IL_EINVAL);
  assert_int_equal(il_queue_get_nowait(q, NULL), IL_EINVAL);
  assert_int_equal(il_queue_free(q, NULL), 0);
  assert_int_equal(il_condition_new(loop, NULL, &cond), 0);
  assert_int_equal(il_condition_wait_for(cond, NULL, NULL), IL_EINVAL);
  /* A condition's own lock cannot serve another condition, nor can a lock
   * of another loop. */
  il_condition_t *other = NULL;
  assert_int_equal(il_condition_new(loop, il_condition_lock(cond), &other),
                   IL_EINVALSTATE);
  il_loop_t *loop2 = il_test_loop_new(ctx);
  assert_int_equal(il_lock_new(loop2, &lock), 0);
  assert_int_equal(il_condition_new(loop, lock, &other), IL_EINVALSTATE);
  assert_null(other);
  assert_int_equal(il_lock_free(lock), 0);
  assert_int_equal(il_condition_free(cond), 0);
}
