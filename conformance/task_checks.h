/* conformance/task_checks.h — what the future, task and combinator tests
 * share: checks that work inside task bodies, and small helpers.
 *
 * A cmocka assert inside a task would longjmp off the task's stack, so task
 * bodies record failed checks with CHECK / CHECK_EQ and the test calls
 * assert_checks() after the run. */
#ifndef IL_CONFORMANCE_TASK_CHECKS_H
#define IL_CONFORMANCE_TASK_CHECKS_H

#include "harness.h"

void il_test_check_failed(int line, const char *what, long long got,
                          long long want);

#define CHECK_EQ(got, want)                                                    \
  do {                                                                         \
    long long got_ = (long long)(got), want_ = (long long)(want);              \
    if (got_ != want_)                                                         \
      il_test_check_failed(__LINE__, #got, got_, want_);                       \
  } while (0)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      il_test_check_failed(__LINE__, #cond, 0, 1);                             \
  } while (0)

/* Fails the test if a check failed inside a task since the last call. */
void assert_checks(void);

/* A new pending future of `loop` (the test fails if it cannot). */
il_future_t *new_future(il_loop_t *loop);

/* Spawns fn(task, arg) with default options; the caller unrefs the task. */
il_task_t *spawn(il_loop_t *loop, il_task_fn fn, void *arg);

/* Runs the loop until f is done, failing the test after `seconds`; returns
 * il_loop_run_until_complete()'s result. */
int run_until_done(il_loop_t *loop, il_future_t *f, double seconds,
                   void **value);

#endif
