/* conformance/tests_tasks.c — SPEC.md §8: tasks (stackful coroutines),
 * suspension, cancellation, stacks and loop close. */
#include "task_checks.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

typedef struct counted {
  int freed;
} counted_t;

static void counted_free(void *p) {
  ((counted_t *)p)->freed++;
}

static int count_done(il_future_t *f, void *arg) {
  (void)f;
  (*(int *)arg)++;
  return 0;
}

static int cancel_task_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  il_task_cancel((il_task_t *)arg, "test");
  return 0;
}

static int noop_body(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return 0;
}

/* Sleeps 10 s; stores what the sleep returned in *(int *)arg. */
static int sleeper_body(il_task_t *self, void *arg) {
  int rc = il_sleep(il_future_loop(self), 10.0);
  *(int *)arg = rc;
  return rc;
}

/* ---- starting and finishing ---------------------------------------------- */

typedef struct start_probe {
  il_test_seq_t seq;
  il_task_t *self;
  int ran;
} start_probe_t;

static int start_body(il_task_t *self, void *arg) {
  start_probe_t *p = arg;
  p->ran++;
  p->self = self;
  p->seq.ids[p->seq.n++] = 2;
  return 0;
}

IL_CONFORMANCE_TEST(test_task_starts_next_pass) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  start_probe_t *p = calloc(1, sizeof(*p));
  il_test_item_t a = {&p->seq, 1}, b = {&p->seq, 3};
  assert_int_equal(il_loop_call_soon(ctx->loop, il_test_record_cb, &a, NULL),
                   0);
  il_task_t *t = spawn(ctx->loop, start_body, p);
  assert_int_equal(il_loop_call_soon(ctx->loop, il_test_record_cb, &b, NULL),
                   0);
  assert_int_equal(p->ran, 0); /* never synchronous */
  assert_int_equal(il_future_is_task(t), 1);
  assert_int_equal(il_future_done(t), 0);
  assert_ptr_equal(il_future_loop(t), ctx->loop);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(p->ran, 1);
  assert_int_equal(p->seq.n, 3);
  for (int i = 0; i < 3; i++)
    assert_int_equal(p->seq.ids[i], i + 1);
  assert_ptr_equal(p->self, t);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p->ran, 1);
  il_future_unref(t);
  free(p);
}

static int sleep_then_flag_body(il_task_t *self, void *arg) {
  int rc = il_sleep(il_future_loop(self), 0.01);
  if (rc == 0)
    (*(volatile int *)arg)++;
  return rc;
}

IL_CONFORMANCE_TEST(test_task_spawn_without_out_still_runs) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int flag = 0;
  assert_int_equal(
      il_task_spawn(ctx->loop, sleep_then_flag_body, (void *)&flag, NULL, NULL),
      0);
  assert_true(il_test_run_until(ctx->loop, &flag, 5.0));
  assert_int_equal(flag, 1);
}

typedef struct ret_probe {
  counted_t first, second;
  int rc1, rc2, first_freed_at_replace;
} ret_probe_t;

static int return_body(il_task_t *self, void *arg) {
  ret_probe_t *p = arg;
  p->rc1 = il_task_return(self, &p->first, counted_free);
  p->rc2 = il_task_return(self, &p->second, counted_free);
  p->first_freed_at_replace = p->first.freed;
  CHECK_EQ(il_yield(il_future_loop(self)), 0);
  return 0;
}

static int return_then_fail_body(il_task_t *self, void *arg) {
  il_task_return(self, arg, counted_free);
  return IL_EIO;
}

static int return_then_cancel_body(il_task_t *self, void *arg) {
  il_task_return(self, arg, counted_free);
  return IL_ECANCELED;
}

IL_CONFORMANCE_TEST(test_task_return_sets_result) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ret_probe_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, return_body, &p);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, &v), 0);
  assert_checks();
  assert_int_equal(p.rc1, 0);
  assert_int_equal(p.rc2, 0);
  assert_int_equal(p.first_freed_at_replace, 1); /* replaced: freed at once */
  assert_ptr_equal(v, &p.second);
  assert_int_equal(il_future_cancelled(t), 0);
  assert_int_equal(il_future_result(t, &v), 0);
  assert_ptr_equal(v, &p.second);
  assert_int_equal(p.second.freed, 0);
  il_future_unref(t);
  assert_int_equal(p.first.freed, 1);
  assert_int_equal(p.second.freed, 1);
  /* A task that set a value and then failed or ended cancelled still owns
   * it: destroyed once, when the task is freed. */
  counted_t failed = {0}, cancelled = {0};
  il_task_t *tf = spawn(ctx->loop, return_then_fail_body, &failed);
  il_task_t *tc = spawn(ctx->loop, return_then_cancel_body, &cancelled);
  assert_int_equal(run_until_done(ctx->loop, tf, 5.0, &v), IL_EIO);
  assert_int_equal(run_until_done(ctx->loop, tc, 5.0, &v), IL_ECANCELED);
  assert_int_equal(failed.freed, 0);
  assert_int_equal(cancelled.freed, 0);
  il_future_unref(tf);
  il_future_unref(tc);
  assert_int_equal(failed.freed, 1);
  assert_int_equal(cancelled.freed, 1);
}

static int return_seven_body(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return 7;
}

IL_CONFORMANCE_TEST(test_task_nonnegative_return_is_success) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_t *t = spawn(ctx->loop, return_seven_body, NULL);
  void *v = &v;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, &v), 0);
  assert_null(v);
  assert_int_equal(il_future_cancelled(t), 0);
  assert_int_equal(il_future_error(t, NULL), 0);
  il_future_unref(t);
}

typedef struct fail_probe {
  int bad_zero, bad_positive, fail_rc;
} fail_probe_t;

static int fail_body(il_task_t *self, void *arg) {
  fail_probe_t *p = arg;
  char msg[32];
  p->bad_zero = il_task_fail(self, 0, "zero");
  p->bad_positive = il_task_fail(self, 3, "positive");
  strcpy(msg, "header too long");
  p->fail_rc = il_task_fail(self, IL_EIO, msg);
  strcpy(msg, "overwritten");
  return p->fail_rc;
}

static int plain_error_body(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return IL_EPIPE;
}

IL_CONFORMANCE_TEST(test_task_fail_sets_error) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  fail_probe_t p = {1, 1, 1};
  il_task_t *t = spawn(ctx->loop, fail_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_EIO);
  assert_int_equal(p.bad_zero, IL_EINVAL);
  assert_int_equal(p.bad_positive, IL_EINVAL);
  assert_int_equal(p.fail_rc, IL_EIO);
  assert_int_equal(il_future_cancelled(t), 0);
  const char *m = NULL;
  assert_int_equal(il_future_error(t, &m), IL_EIO);
  assert_string_equal(m, "header too long");
  /* A bare negative return: that code, no message. */
  il_task_t *u = spawn(ctx->loop, plain_error_body, NULL);
  assert_int_equal(run_until_done(ctx->loop, u, 5.0, NULL), IL_EPIPE);
  assert_int_equal(il_future_error(u, &m), IL_EPIPE);
  assert_string_equal(m, "");
  il_future_unref(u);
  il_future_unref(t);
  assert_int_equal(ctx->nerrors, 0);
}

static int fail_quietly_body(il_task_t *self, void *arg) {
  (void)arg;
  return il_task_fail(self, IL_EPIPE, "nobody listens");
}

IL_CONFORMANCE_TEST(test_task_unretrieved_failure_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_task_t *t = spawn(ctx->loop, fail_quietly_body, NULL);
  volatile int done = 0;
  assert_int_equal(il_future_add_done_callback(t, count_done, (void *)&done),
                   0);
  assert_true(il_test_run_until(ctx->loop, &done, 5.0));
  assert_int_equal(il_future_done(t), 1);
  assert_int_equal(ctx->nerrors, 0); /* the caller still holds it */
  il_future_unref(t);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].code, IL_EPIPE);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_FUTURE);
}

/* ---- suspending ---------------------------------------------------------- */

typedef struct nosusp {
  il_future_t *ok, *bad;
  int x, flag, flag_after, rc_ok, rc_bad;
  void *v;
} nosusp_t;

static int nosusp_body(il_task_t *self, void *arg) {
  nosusp_t *p = arg;
  il_loop_call_soon(il_future_loop(self), il_test_count_cb, &p->flag, NULL);
  p->rc_ok = il_await(p->ok, &p->v);
  p->rc_bad = il_await(p->bad, NULL);
  p->flag_after = p->flag; /* 0: the task never left the loop's pass */
  return 0;
}

IL_CONFORMANCE_TEST(test_await_done_future_no_suspend) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  nosusp_t p;
  memset(&p, 0, sizeof(p));
  p.ok = new_future(ctx->loop);
  p.bad = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(p.ok, &p.x, NULL), 0);
  assert_int_equal(il_future_set_error(p.bad, IL_EIO, "bad"), 0);
  il_task_t *t = spawn(ctx->loop, nosusp_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.rc_ok, 0);
  assert_ptr_equal(p.v, &p.x);
  assert_int_equal(p.rc_bad, IL_EIO);
  assert_int_equal(p.flag_after, 0);
  il_future_unref(t);
  il_future_unref(p.ok);
  il_future_unref(p.bad); /* il_await retrieved its error */
  assert_int_equal(ctx->nerrors, 0);
}

typedef struct susp {
  il_future_t *f;
  int x, resumed, resumed_when_set, rc;
  void *v;
  double t0, t1;
} susp_t;

static int set_later_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  susp_t *p = arg;
  il_future_set_result(p->f, &p->x, NULL);
  p->resumed_when_set = p->resumed;
  return 0;
}

static int susp_body(il_task_t *self, void *arg) {
  susp_t *p = arg;
  p->t0 = il_loop_time(il_future_loop(self));
  p->rc = il_await(p->f, &p->v);
  p->resumed = 1;
  p->t1 = il_loop_time(il_future_loop(self));
  return 0;
}

IL_CONFORMANCE_TEST(test_await_pending_future_suspends_resumes) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  susp_t p;
  memset(&p, 0, sizeof(p));
  p.f = new_future(ctx->loop);
  il_task_t *t = spawn(ctx->loop, susp_body, &p);
  double scheduled = il_loop_time(ctx->loop);
  assert_int_equal(il_loop_call_later(ctx->loop, 0.02, set_later_cb, &p, NULL),
                   0);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.rc, 0);
  assert_ptr_equal(p.v, &p.x);
  assert_int_equal(p.resumed_when_set, 0); /* resumed through the loop */
  /* Not resumed before the completion (due 0.02 s after `scheduled`). */
  assert_true(p.t0 >= scheduled);
  assert_true(p.t1 - scheduled >= 0.02);
  il_future_unref(t);
  il_future_unref(p.f);
}

typedef struct waiter {
  il_future_t *f;
  il_test_seq_t *seq;
  int id, rc;
  void *v;
} waiter_t;

static int waiter_body(il_task_t *self, void *arg) {
  (void)self;
  waiter_t *w = arg;
  w->rc = il_await(w->f, &w->v);
  w->seq->ids[w->seq->n++] = w->id;
  return 0;
}

IL_CONFORMANCE_TEST(test_await_same_future_from_many_tasks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 5 };
  il_test_seq_t seq = {.n = 0};
  il_future_t *f = new_future(ctx->loop);
  waiter_t w[N];
  il_task_t *t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (waiter_t){f, &seq, i, 1, NULL};
    t[i] = spawn(ctx->loop, waiter_body, &w[i]);
  }
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0); /* all wait */
  int x;
  assert_int_equal(il_future_set_result(f, &x, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, t[N - 1], 5.0, NULL), 0);
  /* Every waiter got the value, resumed in the order they began waiting. */
  assert_int_equal(seq.n, N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(w[i].rc, 0);
    assert_ptr_equal(w[i].v, &x);
    assert_int_equal(seq.ids[i], i);
    il_future_unref(t[i]);
  }
  il_future_unref(f);
}

typedef struct yielder {
  il_test_seq_t *seq;
  int id;
} yielder_t;

static int yield_body(il_task_t *self, void *arg) {
  yielder_t *y = arg;
  for (int r = 0; r < 3; r++) {
    y->seq->ids[y->seq->n++] = y->id * 10 + r;
    CHECK_EQ(il_yield(il_future_loop(self)), 0);
  }
  return 0;
}

IL_CONFORMANCE_TEST(test_yield_interleaves_tasks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_seq_t seq = {.n = 0};
  yielder_t y[3] = {{&seq, 0}, {&seq, 1}, {&seq, 2}};
  il_task_t *t[3];
  for (int i = 0; i < 3; i++)
    t[i] = spawn(ctx->loop, yield_body, &y[i]);
  assert_int_equal(run_until_done(ctx->loop, t[2], 5.0, NULL), 0);
  assert_checks();
  static const int want[9] = {0, 10, 20, 1, 11, 21, 2, 12, 22};
  assert_int_equal(seq.n, 9);
  for (int i = 0; i < 9; i++)
    assert_int_equal(seq.ids[i], want[i]);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(il_future_done(t[i]), 1);
    il_future_unref(t[i]);
  }
}

typedef struct ready_probe {
  int n, after_yield, after_sleep0, after_sleep_neg;
} ready_probe_t;

static int ready_body(il_task_t *self, void *arg) {
  ready_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  for (int i = 0; i < 3; i++)
    il_loop_call_soon(loop, il_test_count_cb, &p->n, NULL);
  CHECK_EQ(il_yield(loop), 0);
  p->after_yield = p->n;
  il_loop_call_soon(loop, il_test_count_cb, &p->n, NULL);
  CHECK_EQ(il_sleep(loop, 0.0), 0);
  p->after_sleep0 = p->n;
  il_loop_call_soon(loop, il_test_count_cb, &p->n, NULL);
  CHECK_EQ(il_sleep(loop, -1.0), 0);
  p->after_sleep_neg = p->n;
  return 0;
}

IL_CONFORMANCE_TEST(test_yield_runs_ready_callbacks_first) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ready_probe_t p = {0, 0, 0, 0};
  il_task_t *t = spawn(ctx->loop, ready_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p.after_yield, 3);
  assert_int_equal(p.after_sleep0, 4);
  assert_int_equal(p.after_sleep_neg, 5);
  il_future_unref(t);
}

typedef struct sleeper {
  double delay;
  int rc, order;
  double slept;
  int *counter;
} sleeper_t;

static int timed_sleep_body(il_task_t *self, void *arg) {
  sleeper_t *s = arg;
  il_loop_t *loop = il_future_loop(self);
  double t0 = il_loop_time(loop);
  s->rc = il_sleep(loop, s->delay);
  s->slept = il_loop_time(loop) - t0;
  s->order = (*s->counter)++;
  return s->rc;
}

static int sequential_sleep_body(il_task_t *self, void *arg) {
  (void)arg;
  static const double delays[] = {0.02, 0.001, 0.01, 0.0005, 0.03};
  il_loop_t *loop = il_future_loop(self);
  for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
    double t0 = il_loop_time(loop);
    CHECK_EQ(il_sleep(loop, delays[i]), 0);
    double slept = il_loop_time(loop) - t0;
    CHECK(slept >= delays[i]);
  }
  return 0;
}

IL_CONFORMANCE_TEST(test_sleep_never_early) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_t *t = spawn(ctx->loop, sequential_sleep_body, NULL);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  il_future_unref(t);
  /* Concurrent sleepers wake in deadline order, none early. */
  int counter = 0;
  /* 25 ms apart: far more than the time between their starts, even
   * slowed down by sanitizers. */
  sleeper_t s[4] = {{0.1, 1, -1, 0, &counter},
                    {0.025, 1, -1, 0, &counter},
                    {0.075, 1, -1, 0, &counter},
                    {0.05, 1, -1, 0, &counter}};
  static const int order[4] = {3, 0, 2, 1};
  il_task_t *ts[4];
  for (int i = 0; i < 4; i++)
    ts[i] = spawn(ctx->loop, timed_sleep_body, &s[i]);
  assert_int_equal(run_until_done(ctx->loop, ts[0], 5.0, NULL), 0);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(s[i].rc, 0);
    assert_true(s[i].slept >= s[i].delay);
    assert_int_equal(s[i].order, order[i]);
    il_future_unref(ts[i]);
  }
}

typedef struct cur_probe {
  il_task_t *self, *in_task, *after_yield, *in_cb, *in_done_cb;
  int cb_ran, done_cb_ran;
} cur_probe_t;

static int current_cb(il_loop_t *loop, void *arg) {
  cur_probe_t *p = arg;
  p->in_cb = il_task_current(loop);
  p->cb_ran = 1;
  return 0;
}

static int current_done_cb(il_future_t *f, void *arg) {
  cur_probe_t *p = arg;
  p->in_done_cb = il_task_current(il_future_loop(f));
  p->done_cb_ran = 1;
  return 0;
}

static int current_body(il_task_t *self, void *arg) {
  cur_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  p->self = self;
  p->in_task = il_task_current(loop);
  il_loop_call_soon(loop, current_cb, p, NULL);
  CHECK_EQ(il_yield(loop), 0);
  p->after_yield = il_task_current(loop);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_current_inside_outside) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  cur_probe_t p;
  memset(&p, 0, sizeof(p));
  assert_null(il_task_current(ctx->loop));
  assert_null(il_task_current(NULL));
  il_task_t *t = spawn(ctx->loop, current_body, &p);
  assert_int_equal(il_future_add_done_callback(t, current_done_cb, &p), 0);
  assert_null(il_task_current(ctx->loop));
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_checks();
  assert_ptr_equal(p.self, t);
  assert_ptr_equal(p.in_task, t);
  assert_ptr_equal(p.after_yield, t);
  assert_int_equal(p.cb_ran, 1);
  assert_null(p.in_cb);
  assert_int_equal(p.done_cb_ran, 1);
  assert_null(p.in_done_cb);
  assert_null(il_task_current(ctx->loop));
  il_future_unref(t);
}

typedef struct outside {
  il_future_t *f;
  il_task_t *other;
  int await_rc, sleep_rc, yield_rc, wait_for_rc, ran;
  int ret_other, fail_other;
} outside_t;

static int outside_cb(il_loop_t *loop, void *arg) {
  outside_t *o = arg;
  o->await_rc = il_await(o->f, NULL);
  o->sleep_rc = il_sleep(loop, 0.01);
  o->yield_rc = il_yield(loop);
  o->wait_for_rc = il_wait_for(o->f, 1.0, NULL);
  o->ran = 1;
  return 0;
}

static int other_task_body(il_task_t *self, void *arg) {
  (void)self;
  outside_t *o = arg;
  int x = 0;
  o->ret_other = il_task_return(o->other, &x, NULL);
  o->fail_other = il_task_fail(o->other, IL_EIO, "not mine");
  return 0;
}

IL_CONFORMANCE_TEST(test_suspend_outside_task_enotask) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  outside_t o;
  memset(&o, 0, sizeof(o));
  o.f = new_future(loop);
  il_task_t *t = spawn(loop, noop_body, NULL);
  int x = 0;
  /* From the main program, the loop not running. */
  assert_int_equal(il_await(o.f, NULL), IL_ENOTASK);
  assert_int_equal(il_sleep(loop, 0.01), IL_ENOTASK);
  assert_int_equal(il_yield(loop), IL_ENOTASK);
  assert_int_equal(il_wait_for(o.f, 1.0, NULL), IL_ENOTASK);
  il_timeout_t *to = NULL;
  assert_int_equal(il_timeout_enter(loop, 1.0, &to), IL_ENOTASK);
  il_taskgroup_t *g = NULL;
  assert_int_equal(il_taskgroup_new(loop, &g), IL_ENOTASK);
  assert_int_equal(il_task_return(t, &x, NULL), IL_ENOTASK);
  assert_int_equal(il_task_fail(t, IL_EIO, "x"), IL_ENOTASK);
  /* From a plain callback of the running loop. */
  assert_int_equal(il_loop_call_soon(loop, outside_cb, &o, NULL), 0);
  /* From another task, on a task that is not running. */
  o.other = t;
  il_task_t *u = spawn(loop, other_task_body, &o);
  assert_int_equal(run_until_done(loop, u, 5.0, NULL), 0);
  assert_int_equal(run_until_done(loop, t, 5.0, NULL), 0);
  assert_int_equal(o.ran, 1);
  assert_int_equal(o.await_rc, IL_ENOTASK);
  assert_int_equal(o.sleep_rc, IL_ENOTASK);
  assert_int_equal(o.yield_rc, IL_ENOTASK);
  assert_int_equal(o.wait_for_rc, IL_ENOTASK);
  assert_int_equal(o.ret_other, IL_ENOTASK);
  assert_int_equal(o.fail_other, IL_ENOTASK);
  /* None of it touched f. */
  assert_int_equal(il_future_done(o.f), 0);
  il_future_unref(o.f);
  il_future_unref(u);
  il_future_unref(t);
}

typedef struct foreign_await {
  il_future_t *f;
  int await_rc, wait_for_rc;
} foreign_await_t;

static int foreign_await_body(il_task_t *self, void *arg) {
  (void)self;
  foreign_await_t *p = arg;
  p->await_rc = il_await(p->f, NULL);
  p->wait_for_rc = il_wait_for(p->f, 1.0, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_await_other_loop_future_enotask) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *other = il_test_loop_new(ctx);
  foreign_await_t p = {new_future(other), 1, 1};
  il_task_t *t = spawn(ctx->loop, foreign_await_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.await_rc, IL_ENOTASK);
  assert_int_equal(p.wait_for_rc, IL_ENOTASK);
  assert_int_equal(il_future_done(p.f), 0);
  il_future_unref(p.f);
  il_future_unref(t);
}

typedef struct self_await {
  int await_rc, wait_for_rc, x;
} self_await_t;

static int self_await_body(il_task_t *self, void *arg) {
  self_await_t *p = arg;
  p->await_rc = il_await(self, NULL);
  p->wait_for_rc = il_wait_for(self, 1.0, NULL);
  il_task_return(self, &p->x, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_await_self_einvalstate) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  self_await_t p = {1, 1, 0};
  il_task_t *t = spawn(ctx->loop, self_await_body, &p);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, &v), 0);
  assert_int_equal(p.await_rc, IL_EINVALSTATE);
  assert_int_equal(p.wait_for_rc, IL_EINVALSTATE);
  assert_ptr_equal(v, &p.x);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
}

typedef struct nested_run {
  il_future_t *f;
  int ruc_rc, run_rc;
} nested_run_t;

static int nested_run_body(il_task_t *self, void *arg) {
  nested_run_t *p = arg;
  p->ruc_rc = il_loop_run_until_complete(il_future_loop(self), p->f, NULL);
  p->run_rc = il_loop_run(il_future_loop(self), IL_RUN_NOWAIT);
  return 0;
}

IL_CONFORMANCE_TEST(test_run_until_complete_inside_task_erunning) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  nested_run_t p = {new_future(ctx->loop), 1, 1};
  il_task_t *t = spawn(ctx->loop, nested_run_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.ruc_rc, IL_ERUNNING);
  assert_int_equal(p.run_rc, IL_ERUNNING);
  assert_int_equal(il_future_done(p.f), 0);
  il_future_unref(p.f);
  il_future_unref(t);
}

/* ---- cancellation -------------------------------------------------------- */

static int count_body(il_task_t *self, void *arg) {
  (void)self;
  (*(int *)arg)++;
  return 0;
}

IL_CONFORMANCE_TEST(test_task_cancel_before_start) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int ran = 0;
  il_task_t *t = spawn(ctx->loop, count_body, &ran);
  il_task_t *u = spawn(ctx->loop, count_body, &ran);
  char why[32];
  strcpy(why, "never mind");
  assert_int_equal(il_task_cancel(t, why), 1);
  strcpy(why, "overwritten");
  assert_int_equal(il_task_cancelling(t), 1);
  assert_int_equal(il_future_cancel(u, NULL), 1); /* the same, as a future */
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(run_until_done(ctx->loop, u, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(ran, 0); /* fn never ran */
  assert_int_equal(il_future_cancelled(t), 1);
  assert_int_equal(il_future_cancelled(u), 1);
  const char *m = NULL;
  assert_int_equal(il_future_error(t, &m), IL_ECANCELED);
  assert_string_equal(m, "never mind");
  assert_int_equal(il_task_cancel(t, NULL), 0); /* done now */
  il_future_unref(t);
  il_future_unref(u);
}

typedef struct cw_probe {
  il_future_t *f;
  il_task_t *t;
  int rc, cancel_rc, cancelling, f_cancelled;
} cw_probe_t;

static int cancel_probe_task_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  cw_probe_t *p = arg;
  p->cancel_rc = il_task_cancel(p->t, "stop");
  return 0;
}

static int await_f_body(il_task_t *self, void *arg) {
  cw_probe_t *p = arg;
  p->rc = il_await(p->f, NULL);
  p->cancelling = il_task_cancelling(self);
  p->f_cancelled = il_future_cancelled(p->f);
  return p->rc;
}

IL_CONFORMANCE_TEST(test_task_cancel_while_awaiting) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  cw_probe_t p;
  memset(&p, 0, sizeof(p));
  p.f = new_future(ctx->loop);
  p.t = spawn(ctx->loop, await_f_body, &p);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, cancel_probe_task_cb, &p, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, p.t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(p.cancel_rc, 1);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.cancelling, 1);
  assert_int_equal(p.f_cancelled, 1); /* the awaited future was cancelled */
  assert_int_equal(il_future_cancelled(p.t), 1);
  const char *m = NULL;
  assert_int_equal(il_future_error(p.t, &m), IL_ECANCELED);
  il_future_unref(p.t);
  il_future_unref(p.f);
}

static int return_ecanceled_body(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return IL_ECANCELED;
}

IL_CONFORMANCE_TEST(test_task_returning_ecanceled_is_cancelled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_t *t = spawn(ctx->loop, return_ecanceled_body, NULL);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(il_future_cancelled(t), 1);
  assert_int_equal(il_task_cancelling(t), 0);
  il_future_unref(t);
}

typedef struct handler_probe {
  il_task_t *t;
  int rc, rc2, x;
} handler_probe_t;

static int handles_cancel_body(il_task_t *self, void *arg) {
  handler_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  p->rc = il_sleep(loop, 10.0);
  /* Clean-up may wait again: the cancellation was delivered. */
  p->rc2 = il_sleep(loop, 0.001);
  il_task_return(self, &p->x, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_handles_cancellation_not_cancelled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  handler_probe_t p = {NULL, 1, 1, 0};
  p.t = spawn(ctx->loop, handles_cancel_body, &p);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, cancel_task_cb, p.t, NULL), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, p.t, 5.0, &v), 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.rc2, 0);
  assert_ptr_equal(v, &p.x);
  assert_int_equal(il_future_cancelled(p.t), 0);
  assert_int_equal(il_task_cancelling(p.t), 1); /* never withdrawn */
  il_future_unref(p.t);
}

typedef struct awaited_cancel {
  il_future_t *f;
  int rc, cancelling, rc2;
} awaited_cancel_t;

static int cancel_future_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  il_future_cancel((il_future_t *)arg, "gone");
  return 0;
}

static int awaited_cancel_body(il_task_t *self, void *arg) {
  awaited_cancel_t *p = arg;
  p->rc = il_await(p->f, NULL);
  p->cancelling = il_task_cancelling(self);
  p->rc2 = il_yield(il_future_loop(self));
  return 0;
}

IL_CONFORMANCE_TEST(test_cancel_awaited_future_gives_ecanceled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  awaited_cancel_t p = {new_future(ctx->loop), 1, -1, 1};
  il_task_t *t = spawn(ctx->loop, awaited_cancel_body, &p);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, cancel_future_cb, p.f, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.cancelling, 0); /* the task itself was not cancelled */
  assert_int_equal(p.rc2, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
  il_future_unref(p.f);
}

typedef struct self_cancel {
  il_future_t *done;
  int cancel_rc, cancelling, still_running, rc1, rc2, rc3;
} self_cancel_t;

static int self_cancel_body(il_task_t *self, void *arg) {
  self_cancel_t *p = arg;
  p->cancel_rc = il_task_cancel(self, "from inside");
  p->still_running = 1;
  p->cancelling = il_task_cancelling(self);
  p->rc1 = il_await(p->done, NULL); /* delivered here, at once */
  p->rc2 = il_await(p->done, NULL); /* and only once */
  p->rc3 = il_yield(il_future_loop(self));
  return 0;
}

IL_CONFORMANCE_TEST(test_task_cancel_self_delivered_at_next_await) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  self_cancel_t p;
  memset(&p, 0, sizeof(p));
  p.rc1 = p.rc2 = p.rc3 = 1;
  p.done = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(p.done, NULL, NULL), 0);
  il_task_t *t = spawn(ctx->loop, self_cancel_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.cancel_rc, 1);
  assert_int_equal(p.still_running, 1);
  assert_int_equal(p.cancelling, 1);
  assert_int_equal(p.rc1, IL_ECANCELED);
  assert_int_equal(p.rc2, 0);
  assert_int_equal(p.rc3, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
  il_future_unref(p.done);
}

typedef struct handled_child {
  int child_sleep_rc, value, await_rc, cancelling;
  void *v;
  il_task_t *parent;
} handled_child_t;

static int handling_child_body(il_task_t *self, void *arg) {
  handled_child_t *p = arg;
  /* The parent is cancelled once this child sleeps (the callback runs in
   * the pass after it suspends), never before it started, however slow
   * the machine (a 10 ms timer once fired first under valgrind). */
  if (il_loop_call_soon(il_future_loop(self), cancel_task_cb, p->parent,
                        NULL) != 0)
    return IL_ENOMEM;
  p->child_sleep_rc = il_sleep(il_future_loop(self), 10.0);
  il_task_return(self, &p->value, NULL);
  return 0;
}

static int await_handling_child_body(il_task_t *self, void *arg) {
  handled_child_t *p = arg;
  il_task_t *c = NULL;
  if (il_task_spawn(il_future_loop(self), handling_child_body, p, NULL, &c))
    return IL_ENOMEM;
  p->await_rc = il_await(c, &p->v);
  p->cancelling = il_task_cancelling(self);
  il_future_unref(c);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_cancel_awaited_task_handles_outcome_kept) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  handled_child_t p = {1, 0, 1, -1, NULL, NULL};
  il_task_t *t = spawn(ctx->loop, await_handling_child_body, &p);
  p.parent = t;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  /* The cancellation went to the awaited task, which handled it: the
   * await returns its outcome. */
  assert_int_equal(p.child_sleep_rc, IL_ECANCELED);
  assert_int_equal(p.await_rc, 0);
  assert_ptr_equal(p.v, &p.value);
  assert_int_equal(p.cancelling, 1);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
}

typedef struct race {
  il_future_t *f;
  il_task_t *t;
  int x, cancel_rc, rc, rc2;
  void *v;
} race_t;

static int complete_then_cancel_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  race_t *r = arg;
  il_future_set_result(r->f, &r->x, NULL);
  r->cancel_rc = il_task_cancel(r->t, NULL);
  return 0;
}

static int race_body(il_task_t *self, void *arg) {
  race_t *r = arg;
  r->rc = il_await(r->f, &r->v);
  r->rc2 = il_yield(il_future_loop(self));
  return r->rc;
}

IL_CONFORMANCE_TEST(test_task_cancel_after_awaited_future_done_delivered) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  race_t r;
  memset(&r, 0, sizeof(r));
  r.rc = r.rc2 = 1;
  r.f = new_future(ctx->loop);
  r.t = spawn(ctx->loop, race_body, &r);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, complete_then_cancel_cb, &r, NULL),
      0);
  assert_int_equal(run_until_done(ctx->loop, r.t, 5.0, NULL), IL_ECANCELED);
  /* The future was done and refused the cancellation; the request was
   * taken all the same and delivered where the task waited (asyncio). */
  assert_int_equal(r.cancel_rc, 1);
  assert_int_equal(r.rc, IL_ECANCELED);
  assert_int_equal(r.rc2, 0);
  void *v = NULL;
  assert_int_equal(il_future_result(r.f, &v), 0);
  assert_ptr_equal(v, &r.x);
  assert_int_equal(il_future_cancelled(r.t), 1);
  il_future_unref(r.t);
  il_future_unref(r.f);
}

static int cancel_self_then_return_body(il_task_t *self, void *arg) {
  il_task_cancel(self, NULL);
  il_task_return(self, arg, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_outcome_is_what_fn_returns) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x = 0;
  il_task_t *t = spawn(ctx->loop, cancel_self_then_return_body, &x);
  void *v = NULL;
  /* A cancellation never delivered does not override the return value. */
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, &v), 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(il_future_cancelled(t), 0);
  assert_int_equal(il_task_cancelling(t), 1);
  il_future_unref(t);
}

static int return_arg_body(il_task_t *self, void *arg) {
  il_task_return(self, arg, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_cancel_done_returns_zero) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x = 0;
  il_task_t *t = spawn(ctx->loop, return_arg_body, &x);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(il_task_cancel(t, "late"), 0);
  assert_int_equal(il_future_cancel(t, "late"), 0);
  assert_int_equal(il_future_cancelled(t), 0);
  assert_int_equal(il_task_cancelling(t), 0);
  void *v = NULL;
  assert_int_equal(il_future_result(t, &v), 0);
  assert_ptr_equal(v, &x);
  il_future_unref(t);
}

typedef struct cu_probe {
  il_task_t *t;
  il_future_t *done;
  int r1, r2, outside;
  int rc, c_in, u1, u2, u3, rc2;
  int d_cancel, d_uncancel, d_yield, d_await;
} cu_probe_t;

static int cancel_twice_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  cu_probe_t *p = arg;
  p->r1 = il_task_cancel(p->t, "a");
  p->r2 = il_task_cancel(p->t, "b");
  p->outside = il_task_cancelling(p->t);
  return 0;
}

static int uncancel_body(il_task_t *self, void *arg) {
  cu_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  p->rc = il_sleep(loop, 10.0);
  p->c_in = il_task_cancelling(self);
  p->u1 = il_task_uncancel(self);
  p->u2 = il_task_uncancel(self);
  p->u3 = il_task_uncancel(self);
  p->rc2 = il_sleep(loop, 0.001);
  return p->rc2;
}

static int dropped_cancel_body(il_task_t *self, void *arg) {
  cu_probe_t *p = arg;
  p->d_cancel = il_task_cancel(self, NULL);
  p->d_uncancel = il_task_uncancel(self);
  p->d_yield = il_yield(il_future_loop(self));
  p->d_await = il_await(p->done, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_task_cancelling_uncancel_counts) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  cu_probe_t p;
  memset(&p, 0, sizeof(p));
  p.t = spawn(ctx->loop, uncancel_body, &p);
  assert_int_equal(il_task_cancelling(p.t), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, cancel_twice_cb, &p, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, p.t, 5.0, NULL), 0);
  assert_int_equal(p.r1, 1);
  assert_int_equal(p.r2, 1);
  assert_int_equal(p.outside, 2);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.c_in, 2);
  assert_int_equal(p.u1, 1);
  assert_int_equal(p.u2, 0);
  assert_int_equal(p.u3, 0); /* never below zero */
  assert_int_equal(p.rc2, 0);
  assert_int_equal(il_future_cancelled(p.t), 0);
  assert_int_equal(il_task_cancelling(p.t), 0);
  il_future_unref(p.t);
  /* Withdrawn before delivery: dropped. */
  p.done = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(p.done, NULL, NULL), 0);
  p.d_yield = p.d_await = 1;
  il_task_t *t = spawn(ctx->loop, dropped_cancel_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.d_cancel, 1);
  assert_int_equal(p.d_uncancel, 0);
  assert_int_equal(p.d_yield, 0);
  assert_int_equal(p.d_await, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  /* Plain futures have no cancellation count. */
  assert_int_equal(il_task_cancelling(p.done), IL_ENOTASK);
  assert_int_equal(il_task_uncancel(p.done), IL_ENOTASK);
  il_future_unref(t);
  il_future_unref(p.done);
}

enum await_kind {
  K_FUTURE,
  K_SLEEP,
  K_YIELD,
  K_TASK,
  K_WAIT_FOR,
  K_GATHER,
  K_GROUP,
  K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "await future", "sleep",  "yield",     "await task",
    "wait_for",     "gather", "group wait"};

typedef struct kind_probe {
  int kind, rc, setup_rc, child_rc;
  il_future_t *f1, *f2, *g;
  il_task_t *child;
} kind_probe_t;

static int kind_body(il_task_t *self, void *arg) {
  kind_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *grp = NULL;
  int rc = 0;
  switch (p->kind) {
  case K_FUTURE:
  case K_WAIT_FOR:
    rc = il_future_new(loop, &p->f1);
    break;
  case K_TASK:
    rc = il_task_spawn(loop, sleeper_body, &p->child_rc, NULL, &p->child);
    break;
  case K_GATHER:
    rc = il_future_new(loop, &p->f1);
    if (rc == 0)
      rc = il_future_new(loop, &p->f2);
    if (rc == 0) {
      il_future_t *kids[2] = {p->f1, p->f2};
      rc = il_gather(loop, kids, 2, IL_GATHER_DEFAULT, &p->g);
    }
    break;
  case K_GROUP:
    rc = il_taskgroup_new(loop, &grp);
    if (rc == 0)
      rc = il_taskgroup_spawn(grp, sleeper_body, &p->child_rc, NULL, &p->child);
    break;
  default:
    break;
  }
  p->setup_rc = rc;
  if (rc < 0)
    return rc;
  /* Runs in the next pass, while this task is suspended below. */
  il_loop_call_soon(loop, cancel_task_cb, self, NULL);
  switch (p->kind) {
  case K_FUTURE:
    rc = il_await(p->f1, NULL);
    break;
  case K_SLEEP:
    rc = il_sleep(loop, 10.0);
    break;
  case K_YIELD:
    rc = il_yield(loop);
    break;
  case K_TASK:
    rc = il_await(p->child, NULL);
    break;
  case K_WAIT_FOR:
    rc = il_wait_for(p->f1, 10.0, NULL);
    break;
  case K_GATHER:
    rc = il_await(p->g, NULL);
    break;
  case K_GROUP:
    rc = il_taskgroup_wait(grp);
    il_taskgroup_free(grp);
    break;
  default:
    break;
  }
  p->rc = rc;
  return rc;
}

IL_CONFORMANCE_TEST(test_task_cancel_at_each_await_kind) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  for (int k = 0; k < K_COUNT; k++) {
    const char *name = kind_names[k];
    kind_probe_t p;
    memset(&p, 0, sizeof(p));
    p.kind = k;
    p.rc = p.child_rc = 1;
    il_task_t *t = spawn(ctx->loop, kind_body, &p);
    int rc = run_until_done(ctx->loop, t, 5.0, NULL);
    if (p.setup_rc != 0)
      fail_msg("%s: setup failed: %s", name, il_err_name(p.setup_rc));
    if (p.rc != IL_ECANCELED)
      fail_msg("%s: the wait returned %s, expected IL_ECANCELED", name,
               il_err_name(p.rc));
    if (rc != IL_ECANCELED || !il_future_cancelled(t))
      fail_msg("%s: the task is not cancelled (%s)", name, il_err_name(rc));
    if (p.f1 && !il_future_cancelled(p.f1))
      fail_msg("%s: the awaited future was not cancelled", name);
    if (p.f2 && !il_future_cancelled(p.f2))
      fail_msg("%s: the second gathered future was not cancelled", name);
    if (p.child) {
      if (!il_future_cancelled(p.child) || p.child_rc != IL_ECANCELED)
        fail_msg("%s: the child was not cancelled (its sleep returned %s)",
                 name, il_err_name(p.child_rc));
    }
    if (p.g) {
      if (il_future_error(p.g, NULL) != IL_ECANCELED)
        fail_msg("%s: the gather did not end with IL_ECANCELED", name);
    }
    il_future_unref(p.g);
    il_future_unref(p.f1);
    il_future_unref(p.f2);
    il_future_unref(p.child);
    il_future_unref(t);
  }
}

static int fail_after_sleep_body(il_task_t *self, void *arg) {
  (void)arg;
  il_sleep(il_future_loop(self), 0.005);
  return il_task_fail(self, IL_ECONNRESET, "peer reset");
}

typedef struct failing_child {
  int spawn_rc, rc, err, again;
  char msg[64];
} failing_child_t;

static int await_failing_body(il_task_t *self, void *arg) {
  failing_child_t *p = arg;
  il_task_t *c = NULL;
  p->spawn_rc = il_task_spawn(il_future_loop(self), fail_after_sleep_body, NULL,
                              NULL, &c);
  if (p->spawn_rc < 0)
    return p->spawn_rc;
  p->rc = il_await(c, NULL);
  const char *m = NULL;
  p->err = il_future_error(c, &m);
  snprintf(p->msg, sizeof(p->msg), "%s", m ? m : "(null)");
  p->again = il_await(c, NULL); /* done: at once, the same */
  il_future_unref(c);
  return 0;
}

IL_CONFORMANCE_TEST(test_await_failing_task_gives_code) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  failing_child_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, await_failing_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.spawn_rc, 0);
  assert_int_equal(p.rc, IL_ECONNRESET);
  assert_int_equal(p.err, IL_ECONNRESET);
  assert_string_equal(p.msg, "peer reset");
  assert_int_equal(p.again, IL_ECONNRESET);
  il_future_unref(t);
  assert_int_equal(ctx->nerrors, 0);
}

typedef struct family {
  int child_ran, ran_at_spawn, spawn_rc, await_rc, value;
  il_task_t *parent, *child_current;
} family_t;

static int child_body(il_task_t *self, void *arg) {
  family_t *p = arg;
  p->child_ran = 1;
  p->child_current = il_task_current(il_future_loop(self));
  il_task_return(self, &p->value, NULL);
  return 0;
}

static int parent_body(il_task_t *self, void *arg) {
  family_t *p = arg;
  il_task_t *c = NULL;
  p->parent = self;
  p->spawn_rc = il_task_spawn(il_future_loop(self), child_body, p, NULL, &c);
  if (p->spawn_rc < 0)
    return p->spawn_rc;
  p->ran_at_spawn = p->child_ran;
  void *v = NULL;
  p->await_rc = il_await(c, &v);
  CHECK(c != self);
  CHECK(p->child_current == c);
  il_future_unref(c);
  il_task_return(self, v, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_spawn_from_inside_task) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  family_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, parent_body, &p);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, &v), 0);
  assert_checks();
  assert_int_equal(p.spawn_rc, 0);
  assert_int_equal(p.ran_at_spawn, 0);
  assert_int_equal(p.child_ran, 1);
  assert_int_equal(p.await_rc, 0);
  assert_ptr_equal(v, &p.value);
  il_future_unref(t);
}

/* ---- scale and stacks ---------------------------------------------------- */

typedef struct many {
  int i;
} many_t;

static int many_body(il_task_t *self, void *arg) {
  many_t *m = arg;
  int rc = il_sleep(il_future_loop(self), 0.001 * (double)(m->i % 20));
  if (rc < 0)
    return rc;
  il_task_return(self, (void *)(uintptr_t)(m->i * 3 + 1), NULL);
  return 0;
}

/* ThreadSanitizer gives every task stack a fiber of its own costing about
 * seven more kernel mappings, so 10 000 of them at once exceed the default
 * vm.max_map_count (65530) inside TSan itself; that build runs 5 000. */
#if defined(__SANITIZE_THREAD__)
#define MANY_TASKS 5000
#else
#define MANY_TASKS 10000
#endif

IL_CONFORMANCE_TEST(test_ten_thousand_tasks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = MANY_TASKS };
  many_t *m = calloc(N, sizeof(*m));
  il_future_t **ts = calloc(N, sizeof(*ts));
  assert_non_null(m);
  assert_non_null(ts);
  for (int i = 0; i < N; i++) {
    m[i].i = i;
    int rc = il_task_spawn(ctx->loop, many_body, &m[i], NULL, &ts[i]);
    if (rc != 0)
      fail_msg("spawning task %d: %s", i, il_err_name(rc));
  }
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, ts, N, IL_GATHER_DEFAULT, &g), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, g, 100.0, &v), 0);
  void **values = v;
  assert_non_null(values);
  for (int i = 0; i < N; i++) {
    if (values[i] != (void *)(uintptr_t)(i * 3 + 1))
      fail_msg("task %d: wrong result", i);
    void *r = NULL;
    assert_int_equal(il_future_result(ts[i], &r), 0);
    assert_ptr_equal(r, values[i]);
  }
  il_future_unref(g);
  for (int i = 0; i < N; i++)
    il_future_unref(ts[i]);
  free(ts);
  free(m);
}

/* About 1 KiB of stack per level; the volatile buffer and the addition after
 * the call keep the compiler from folding the recursion into a loop. */
__attribute__((noinline)) static int deep(int n) {
  volatile char buf[1024];
  buf[0] = (char)n;
  buf[sizeof(buf) - 1] = (char)(n >> 3);
  if (n <= 0)
    return buf[0];
  return deep(n - 1) + buf[sizeof(buf) - 1] + buf[0];
}

typedef struct deep_probe {
  int depth, result, finished;
} deep_probe_t;

static int deep_body(il_task_t *self, void *arg) {
  (void)self;
  deep_probe_t *p = arg;
  p->result = deep(p->depth);
  p->finished = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_task_deep_recursion_stack_size) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  deep_probe_t p = {1500, 0, 0}; /* ~1.5 MiB of stack */
  il_task_options_t o = IL_TASK_OPTIONS_INIT;
  o.stack_size = 4u * 1024u * 1024u;
  il_task_t *t = NULL;
  assert_int_equal(il_task_spawn(ctx->loop, deep_body, &p, &o, &t), 0);
  assert_int_equal(run_until_done(ctx->loop, t, 10.0, NULL), 0);
  assert_int_equal(p.finished, 1);
  assert_int_equal(p.result, deep(p.depth)); /* same as on the main stack */
  il_future_unref(t);
}

typedef struct small_stack {
  int finished, result;
} small_stack_t;

static int small_stack_body(il_task_t *self, void *arg) {
  (void)self;
  small_stack_t *p = arg;
  p->result = deep(4); /* ~5 KiB: fits the 16 KiB minimum */
  p->finished = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_task_options_and_name) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_options_t o = IL_TASK_OPTIONS_INIT;
  il_task_t *t = NULL;
  int ran = 0;
  o.size = 1; /* older than any version */
  assert_int_equal(il_task_spawn(ctx->loop, count_body, &ran, &o, &t),
                   IL_EINVAL);
  assert_null(t);
  /* The name is copied. */
  char name[16];
  strcpy(name, "worker-7");
  o = (il_task_options_t)IL_TASK_OPTIONS_INIT;
  o.name = name;
  il_task_t *named = NULL;
  assert_int_equal(il_task_spawn(ctx->loop, count_body, &ran, &o, &named), 0);
  strcpy(name, "zzz");
  assert_string_equal(il_task_name(named), "worker-7");
  il_task_t *anon = spawn(ctx->loop, count_body, &ran);
  assert_string_equal(il_task_name(anon), "");
  il_future_t *plain = new_future(ctx->loop);
  assert_null(il_task_name(plain));
  /* A tiny stack size is raised to the minimum; guard 0 works too. */
  small_stack_t s = {0, 0};
  o = (il_task_options_t)IL_TASK_OPTIONS_INIT;
  o.stack_size = 1;
  o.guard = 0;
  il_task_t *small = NULL;
  assert_int_equal(il_task_spawn(ctx->loop, small_stack_body, &s, &o, &small),
                   0);
  assert_int_equal(run_until_done(ctx->loop, small, 5.0, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, named, 5.0, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, anon, 5.0, NULL), 0);
  assert_int_equal(s.finished, 1);
  assert_int_equal(s.result, deep(4));
  assert_int_equal(ran, 2); /* the refused spawn never ran */
  assert_string_equal(il_task_name(named), "worker-7"); /* after it finished */
  il_future_unref(small);
  il_future_unref(plain);
  il_future_unref(anon);
  il_future_unref(named);
}

typedef struct null_probe {
  int await_null, return_null, fail_null, fail_zero, wait_for_null;
} null_probe_t;

static int null_body(il_task_t *self, void *arg) {
  null_probe_t *p = arg;
  p->await_null = il_await(NULL, NULL);
  p->wait_for_null = il_wait_for(NULL, 1.0, NULL);
  p->return_null = il_task_return(NULL, NULL, NULL);
  p->fail_null = il_task_fail(NULL, IL_EIO, "x");
  p->fail_zero = il_task_fail(self, 0, "x");
  return 0;
}

IL_CONFORMANCE_TEST(test_task_null_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_t *t = NULL;
  assert_int_equal(il_task_spawn(NULL, noop_body, NULL, NULL, &t), IL_EINVAL);
  assert_int_equal(il_task_spawn(ctx->loop, NULL, NULL, NULL, &t), IL_EINVAL);
  assert_null(t);
  assert_int_equal(il_task_cancel(NULL, NULL), IL_EINVAL);
  assert_int_equal(il_task_cancelling(NULL), IL_EINVAL);
  assert_int_equal(il_task_uncancel(NULL), IL_EINVAL);
  assert_int_equal(il_future_is_task(NULL), 0);
  assert_null(il_task_name(NULL));
  assert_null(il_task_current(NULL));
  il_future_t *plain = new_future(ctx->loop);
  assert_int_equal(il_task_cancel(plain, NULL), IL_ENOTASK);
  assert_int_equal(il_future_done(plain), 0);
  il_future_unref(plain);
  assert_int_equal(il_timeout_exit(NULL, 0), IL_EINVAL);
  assert_int_equal(il_timeout_expired(NULL), 0);
  assert_int_equal(il_timeout_reschedule(NULL, 1.0), IL_EINVAL);
  assert_int_equal(il_taskgroup_spawn(NULL, noop_body, NULL, NULL, NULL),
                   IL_EINVAL);
  assert_int_equal(il_taskgroup_wait(NULL), IL_EINVAL);
  assert_int_equal(il_taskgroup_error(NULL, 0, NULL), IL_EINVAL);
  il_taskgroup_free(NULL);
  null_probe_t p = {1, 1, 1, 1, 1};
  t = spawn(ctx->loop, null_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.await_null, IL_EINVAL);
  assert_int_equal(p.wait_for_null, IL_EINVAL);
  assert_int_equal(p.return_null, IL_EINVAL);
  assert_int_equal(p.fail_null, IL_EINVAL);
  assert_int_equal(p.fail_zero, IL_EINVAL);
  il_future_unref(t);
}

static int scope_sleep_body(il_task_t *self, void *arg) {
  int *rc = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  if (il_timeout_enter(loop, 10.0, &to) < 0)
    return IL_ENOMEM;
  *rc = il_sleep(loop, 10.0);
  return il_timeout_exit(to, *rc);
}

static uint64_t handles_held(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return st.handles_held;
}

IL_CONFORMANCE_TEST(test_task_internal_handles_not_caller_held) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* handles_held counts handles given to the caller; tasks, waits and
   * timeout scopes hold their own internally, which the caller never saw
   * and cannot release. */
  int sleep_rc = 1, scope_rc = 1;
  uint64_t held[4];
  held[0] = handles_held(ctx->loop);
  il_task_t *t = spawn(ctx->loop, sleeper_body, &sleep_rc);
  il_task_t *u = spawn(ctx->loop, scope_sleep_body, &scope_rc);
  held[1] = handles_held(ctx->loop); /* scheduled to start */
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  held[2] = handles_held(ctx->loop); /* sleeping, one in a scope */
  il_future_t *f = new_future(ctx->loop), *w = NULL;
  assert_int_equal(il_wait(ctx->loop, &f, 1, IL_WAIT_ALL_COMPLETED, 10.0, &w),
                   0);
  held[3] = handles_held(ctx->loop); /* and a wait with a time-out */
  assert_int_equal(il_task_cancel(t, NULL), 1);
  assert_int_equal(il_task_cancel(u, NULL), 1);
  assert_int_equal(il_future_cancel(w, NULL), 1);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(run_until_done(ctx->loop, u, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(sleep_rc, IL_ECANCELED);
  assert_int_equal(scope_rc, IL_ECANCELED);
  il_future_unref(w);
  il_future_unref(f);
  il_future_unref(t);
  il_future_unref(u);
  for (int i = 0; i < 4; i++)
    if (held[i] != 0)
      fail_msg("step %d: %llu handle(s) counted as held by the caller", i,
               (unsigned long long)held[i]);
}

/* ---- loop close ---------------------------------------------------------- */

typedef struct unwind {
  il_future_t *never, *never2;
  int started, cleaned;
  int await_rc, sleep_rc, yield_rc, await2_rc, wait_for_rc;
  char *buf;
} unwind_t;

static int unwind_await_body(il_task_t *self, void *arg) {
  unwind_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  p->started++;
  p->buf = malloc(64); /* freed on the way out: ASan sees a leak otherwise */
  p->await_rc = il_await(p->never, NULL);
  p->sleep_rc = il_sleep(loop, 1.0);
  p->yield_rc = il_yield(loop);
  p->await2_rc = il_await(p->never2, NULL);
  p->wait_for_rc = il_wait_for(p->never2, 1.0, NULL);
  free(p->buf);
  p->buf = NULL;
  p->cleaned = 1;
  return p->await_rc;
}

typedef struct unwind_other {
  int started, rc, cleaned, yields;
} unwind_other_t;

static int unwind_sleep_body(il_task_t *self, void *arg) {
  unwind_other_t *p = arg;
  p->started++;
  char *buf = malloc(32);
  p->rc = il_sleep(il_future_loop(self), 10.0);
  free(buf);
  p->cleaned = 1;
  return p->rc;
}

static int unwind_yield_body(il_task_t *self, void *arg) {
  unwind_other_t *p = arg;
  int rc;
  p->started++;
  while ((rc = il_yield(il_future_loop(self))) == 0)
    p->yields++;
  p->rc = rc;
  p->cleaned = 1;
  return rc;
}

IL_CONFORMANCE_TEST(test_close_unwinds_suspended_tasks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  unwind_t a;
  memset(&a, 0, sizeof(a));
  a.never = new_future(loop);
  a.never2 = new_future(loop);
  a.await_rc = a.sleep_rc = a.yield_rc = a.await2_rc = a.wait_for_rc = 1;
  unwind_other_t b = {0, 1, 0, 0}, d = {0, 1, 0, 0};
  int c_ran = 0;
  il_task_t *ta = spawn(loop, unwind_await_body, &a);
  il_task_t *tb = spawn(loop, unwind_sleep_body, &b);
  il_task_t *td = spawn(loop, unwind_yield_body, &d);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(a.started, 1);
  assert_int_equal(b.started, 1);
  assert_int_equal(d.started, 1);
  il_task_t *tc = spawn(loop, count_body, &c_ran); /* never started */
  assert_int_equal(il_loop_close(loop), 0);
  /* A: its await returned IL_ECANCELED, and so did every later wait. */
  assert_int_equal(a.await_rc, IL_ECANCELED);
  assert_int_equal(a.sleep_rc, IL_ECANCELED);
  assert_int_equal(a.yield_rc, IL_ECANCELED);
  assert_int_equal(a.await2_rc, IL_ECANCELED);
  assert_int_equal(a.wait_for_rc, IL_ECANCELED);
  assert_int_equal(a.cleaned, 1);
  assert_null(a.buf);
  assert_int_equal(b.rc, IL_ECANCELED);
  assert_int_equal(b.cleaned, 1);
  assert_int_equal(d.rc, IL_ECANCELED);
  assert_int_equal(d.cleaned, 1);
  assert_int_equal(c_ran, 0);
  il_task_t *all[4] = {ta, tb, tc, td};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(il_future_done(all[i]), 1);
    assert_int_equal(il_future_cancelled(all[i]), 1);
  }
  il_task_t *late = NULL;
  assert_int_equal(il_task_spawn(loop, noop_body, NULL, NULL, &late),
                   IL_ECLOSED);
  assert_null(late);
  for (int i = 0; i < 4; i++)
    il_future_unref(all[i]);
  il_future_unref(a.never);
  il_future_unref(a.never2);
}

typedef struct nested_close {
  il_future_t *never;
  int child_rc[8];
  int nchild;
  int group_rc, gather_rc, wait_for_rc, scope_rc, scope_exit_rc, await_rc;
  int cleaned;
} nested_close_t;

static int *child_slot(nested_close_t *p) {
  return &p->child_rc[p->nchild++];
}

static int close_group_body(il_task_t *self, void *arg) {
  nested_close_t *p = arg;
  il_taskgroup_t *g = NULL;
  if (il_taskgroup_new(il_future_loop(self), &g) < 0)
    return IL_ENOMEM;
  il_taskgroup_spawn(g, sleeper_body, child_slot(p), NULL, NULL);
  il_taskgroup_spawn(g, sleeper_body, child_slot(p), NULL, NULL);
  p->group_rc = il_taskgroup_wait(g);
  il_taskgroup_free(g);
  p->cleaned++;
  return p->group_rc;
}

static int close_gather_body(il_task_t *self, void *arg) {
  nested_close_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_future_t *kids[2] = {NULL, NULL}, *g = NULL;
  il_task_spawn(loop, sleeper_body, child_slot(p), NULL, &kids[0]);
  il_task_spawn(loop, sleeper_body, child_slot(p), NULL, &kids[1]);
  if (il_gather(loop, kids, 2, IL_GATHER_DEFAULT, &g) == 0) {
    p->gather_rc = il_await(g, NULL);
    il_future_unref(g);
  }
  il_future_unref(kids[0]);
  il_future_unref(kids[1]);
  p->cleaned++;
  return p->gather_rc;
}

static int close_wait_for_body(il_task_t *self, void *arg) {
  (void)self;
  nested_close_t *p = arg;
  p->wait_for_rc = il_wait_for(p->never, 10.0, NULL);
  p->cleaned++;
  return p->wait_for_rc;
}

static int close_scope_body(il_task_t *self, void *arg) {
  nested_close_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  if (il_timeout_enter(loop, 10.0, &to) < 0)
    return IL_ENOMEM;
  p->scope_rc = il_sleep(loop, 10.0);
  p->scope_exit_rc = il_timeout_exit(to, p->scope_rc);
  p->cleaned++;
  return p->scope_exit_rc;
}

static int close_await_task_body(il_task_t *self, void *arg) {
  nested_close_t *p = arg;
  il_task_t *c = NULL;
  il_task_spawn(il_future_loop(self), sleeper_body, child_slot(p), NULL, &c);
  p->await_rc = il_await(c, NULL);
  il_future_unref(c);
  p->cleaned++;
  return p->await_rc;
}

IL_CONFORMANCE_TEST(test_close_unwinds_nested_waits) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  nested_close_t p;
  memset(&p, 0, sizeof(p));
  for (int i = 0; i < 8; i++)
    p.child_rc[i] = 1;
  p.group_rc = p.gather_rc = p.wait_for_rc = p.scope_rc = 1;
  p.scope_exit_rc = p.await_rc = 1;
  p.never = new_future(loop);
  il_task_fn bodies[5] = {close_group_body, close_gather_body,
                          close_wait_for_body, close_scope_body,
                          close_await_task_body};
  il_task_t *t[5];
  for (int i = 0; i < 5; i++)
    t[i] = spawn(loop, bodies[i], &p);
  for (int i = 0; i < 3; i++) /* everyone started and suspended */
    assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(p.nchild, 5);
  assert_int_equal(il_loop_close(loop), 0);
  assert_int_equal(p.cleaned, 5);
  assert_int_equal(p.group_rc, IL_ECANCELED);
  assert_int_equal(p.gather_rc, IL_ECANCELED);
  assert_int_equal(p.wait_for_rc, IL_ECANCELED);
  assert_int_equal(p.scope_rc, IL_ECANCELED);
  assert_int_equal(p.scope_exit_rc, IL_ECANCELED); /* not a time-out */
  assert_int_equal(p.await_rc, IL_ECANCELED);
  for (int i = 0; i < p.nchild; i++)
    assert_int_equal(p.child_rc[i], IL_ECANCELED);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(il_future_cancelled(t[i]), 1);
    il_future_unref(t[i]);
  }
  il_future_unref(p.never);
}

/* Recurses until the stack runs out; the depth limit only keeps the
 * compiler from calling it infinite. */
__attribute__((noinline)) static int overflow(volatile char *prev, long depth) {
  volatile char buf[256];
  buf[0] = prev ? prev[0] : 1;
  if (depth > 100000000L)
    return buf[0];
  return overflow(buf, depth + 1) + buf[0];
}

static int overflow_body(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return overflow(NULL, 0) > 0 ? 0 : 1;
}

/* In a child process: a task with a small guarded stack recursing without
 * bound. Exits 0 if the overflow went unnoticed, 3 if it could not try. */
static void overflow_child(const char *backend) {
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0)
    dup2(devnull, 2);
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
  il_loop_t *loop = NULL;
  il_loop_options_t lo = IL_LOOP_OPTIONS_INIT;
  lo.backend = backend;
  if (il_loop_new(&loop, &lo) != 0)
    _exit(3);
  il_task_options_t o = IL_TASK_OPTIONS_INIT;
  o.stack_size = 64 * 1024;
  o.guard = 1;
  il_task_t *t = NULL;
  if (il_task_spawn(loop, overflow_body, NULL, &o, &t) != 0)
    _exit(3);
  il_loop_run_until_complete(loop, t, NULL);
  _exit(0);
}

IL_CONFORMANCE_TEST(test_task_stack_overflow_hits_guard) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    overflow_child(ctx->backend);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
    fail_msg("the child could not create its loop or task");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    fail_msg("the stack overflow went unnoticed");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  /* The sanitizer catches the fault itself and exits abnormally. */
  assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) != 0);
#else
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGSEGV);
#endif
}
