/* conformance/task_checks.c — see task_checks.h. */
#include "task_checks.h"

#include <stdio.h>

static char check_msg[256];
static int check_failures;

void il_test_check_failed(int line, const char *what, long long got,
                          long long want) {
  if (check_failures++ == 0)
    snprintf(check_msg, sizeof(check_msg), "line %d: %s is %lld, expected %lld",
             line, what, got, want);
}

void assert_checks(void) {
  int n = check_failures;
  check_failures = 0;
  if (n)
    fail_msg("%d check(s) failed inside tasks; first at %s", n, check_msg);
}

il_future_t *new_future(il_loop_t *loop) {
  il_future_t *f = NULL;
  assert_int_equal(il_future_new(loop, &f), 0);
  assert_non_null(f);
  return f;
}

il_task_t *spawn(il_loop_t *loop, il_task_fn fn, void *arg) {
  il_task_t *t = NULL;
  assert_int_equal(il_task_spawn(loop, fn, arg, NULL, &t), 0);
  assert_non_null(t);
  return t;
}

int run_until_done(il_loop_t *loop, il_future_t *f, double seconds,
                   void **value) {
  il_handle_t *guard = NULL;
  assert_int_equal(
      il_loop_call_later(loop, seconds, il_test_stop_cb, NULL, &guard), 0);
  int rc = il_loop_run_until_complete(loop, f, value);
  il_handle_cancel(guard);
  il_handle_release(guard);
  if (rc == IL_ESTOPPED)
    fail_msg("not done after %.1f s", seconds);
  return rc;
}
