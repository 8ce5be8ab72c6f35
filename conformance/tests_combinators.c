/* conformance/tests_combinators.c — SPEC.md §7.5-8.8: gather, wait,
 * wait_for, shield, timeout scopes and task groups. */
#include "task_checks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

static size_t wait_count(void *v) {
  return (size_t)(uintptr_t)v;
}

/* Completes a plain future from a timer: result, error or cancel. */
typedef struct completion {
  il_future_t *f;
  int how; /* 0: result `value`; < 0: that error; 1: cancel */
  void *value;
  const char *message;
} completion_t;

static int complete_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  completion_t *c = arg;
  if (c->how == 1)
    il_future_cancel(c->f, c->message);
  else if (c->how < 0)
    il_future_set_error(c->f, c->how, c->message);
  else
    il_future_set_result(c->f, c->value, NULL);
  return 0;
}

static void complete_later(il_loop_t *loop, double delay, completion_t *c) {
  assert_int_equal(il_loop_call_later(loop, delay, complete_cb, c, NULL), 0);
}

static int cancel_task_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  il_task_cancel((il_task_t *)arg, "from outside");
  return 0;
}

/* A child task: sleeps, then returns `value` or fails with `code`. If the
 * sleep is cancelled it returns IL_ECANCELED, or fails with `on_cancel`
 * (< 0), or finishes with `value` anyway (`swallow`). */
typedef struct job {
  double delay;
  int code;
  const char *msg;
  void *value;
  int on_cancel;
  const char *cancel_msg;
  int swallow;
  int *order; /* finishing order counter, or NULL */
  /* Cancelled once this job sleeps (so every job started before it is
   * asleep too, however slow the machine), or NULL. */
  il_task_t *cancel_when_asleep;
  int finished_as, sleep_rc, ran;
} job_t;

static job_t job(double delay, int code, const char *msg, void *value) {
  job_t j;
  memset(&j, 0, sizeof(j));
  j.delay = delay;
  j.code = code;
  j.msg = msg;
  j.value = value;
  j.finished_as = -1;
  j.sleep_rc = 1;
  return j;
}

static int job_body(il_task_t *self, void *arg) {
  job_t *j = arg;
  j->ran = 1;
  if (j->cancel_when_asleep &&
      il_loop_call_soon(il_future_loop(self), cancel_task_cb,
                        j->cancel_when_asleep, NULL) != 0)
    return IL_ENOMEM;
  j->sleep_rc = il_sleep(il_future_loop(self), j->delay);
  if (j->order)
    j->finished_as = (*j->order)++;
  if (j->sleep_rc == IL_ECANCELED) {
    if (j->swallow) {
      il_task_return(self, j->value, NULL);
      return 0;
    }
    if (j->on_cancel < 0)
      return il_task_fail(self, j->on_cancel, j->cancel_msg);
    return IL_ECANCELED;
  }
  if (j->sleep_rc < 0)
    return j->sleep_rc;
  if (j->code < 0)
    return il_task_fail(self, j->code, j->msg);
  il_task_return(self, j->value, NULL);
  return 0;
}

/* Records, in a done-callback, whether other futures were done then. */
typedef struct snapshot {
  il_future_t *watch[4];
  int n;
  int done_then[4];
  int calls;
} snapshot_t;

static int snapshot_cb(il_future_t *f, void *arg) {
  (void)f;
  snapshot_t *s = arg;
  for (int i = 0; i < s->n; i++)
    s->done_then[i] = il_future_done(s->watch[i]);
  s->calls++;
  return 0;
}

/* ---- gather -------------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_gather_results_in_argument_order) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int order = 0, va, vb, vc, vd;
  /* 25 ms apart: far more than the time between their starts. */
  job_t j[3] = {job(0.075, 0, NULL, &va), job(0.05, 0, NULL, &vb),
                job(0.025, 0, NULL, &vc)};
  il_future_t *kids[4];
  for (int i = 0; i < 3; i++) {
    j[i].order = &order;
    kids[i] = spawn(ctx->loop, job_body, &j[i]);
  }
  kids[3] = new_future(ctx->loop); /* a plain future, done before */
  assert_int_equal(il_future_set_result(kids[3], &vd, NULL), 0);
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 4, IL_GATHER_DEFAULT, &g), 0);
  assert_int_equal(il_future_is_task(g), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, &v), 0);
  /* They finished in reverse order ... */
  assert_int_equal(j[2].finished_as, 0);
  assert_int_equal(j[1].finished_as, 1);
  assert_int_equal(j[0].finished_as, 2);
  /* ... and the results are in argument order. */
  void **values = v;
  assert_non_null(values);
  assert_ptr_equal(values[0], &va);
  assert_ptr_equal(values[1], &vb);
  assert_ptr_equal(values[2], &vc);
  assert_ptr_equal(values[3], &vd);
  for (int i = 0; i < 4; i++)
    il_future_unref(kids[i]);
  /* The array belongs to the gather: still readable while it lives. */
  assert_int_equal(il_future_result(g, &v), 0);
  assert_ptr_equal(((void **)v)[2], &vc);
  il_future_unref(g);
}

IL_CONFORMANCE_TEST(test_gather_first_error_others_continue) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vb;
  job_t ja = job(0.01, IL_EIO, "a failed", NULL);
  /* Far longer than a: b must still run when the gather fails, also on a
   * loaded machine. */
  job_t jb = job(0.5, 0, NULL, &vb);
  il_future_t *kids[2] = {spawn(ctx->loop, job_body, &ja),
                          spawn(ctx->loop, job_body, &jb)};
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 2, IL_GATHER_DEFAULT, &g), 0);
  snapshot_t s = {{kids[0], kids[1]}, 2, {0}, 0};
  assert_int_equal(il_future_add_done_callback(g, snapshot_cb, &s), 0);
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, NULL), IL_EIO);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.done_then[0], 1);
  assert_int_equal(s.done_then[1], 0); /* failed before b was done */
  assert_int_equal(il_future_error(g, NULL), IL_EIO);
  assert_int_equal(il_future_cancelled(g), 0);
  /* b goes on and finishes normally. */
  assert_int_equal(il_future_cancelled(kids[1]), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, kids[1], 5.0, &v), 0);
  assert_ptr_equal(v, &vb);
  assert_int_equal(jb.sleep_rc, 0);
  /* The gather's outcome does not change. */
  assert_int_equal(il_future_result(g, NULL), IL_EIO);
  assert_int_equal(il_future_error(kids[0], NULL), IL_EIO);
  il_future_unref(g);
  il_future_unref(kids[0]);
  il_future_unref(kids[1]);
}

IL_CONFORMANCE_TEST(test_gather_collect_errors_waits_for_all) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vc;
  job_t ja = job(0.01, IL_EIO, "a failed", NULL);
  job_t jc = job(0.04, 0, NULL, &vc);
  il_future_t *kids[3] = {spawn(ctx->loop, job_body, &ja),
                          new_future(ctx->loop),
                          spawn(ctx->loop, job_body, &jc)};
  completion_t cancel_b = {kids[1], 1, NULL, NULL};
  complete_later(ctx->loop, 0.02, &cancel_b);
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 3, IL_GATHER_COLLECT_ERRORS, &g),
                   0);
  snapshot_t s = {{kids[0], kids[1], kids[2]}, 3, {0}, 0};
  assert_int_equal(il_future_add_done_callback(g, snapshot_cb, &s), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, &v), 0);
  void **values = v;
  assert_non_null(values);
  assert_null(values[0]);
  assert_null(values[1]);
  assert_ptr_equal(values[2], &vc);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s.calls, 1);
  for (int i = 0; i < 3; i++)
    assert_int_equal(s.done_then[i], 1); /* it waited for every child */
  const char *m = NULL;
  assert_int_equal(il_future_error(kids[0], &m), IL_EIO);
  assert_string_equal(m, "a failed");
  assert_int_equal(il_future_cancelled(kids[1]), 1);
  il_future_unref(g);
  for (int i = 0; i < 3; i++)
    il_future_unref(kids[i]);
}

IL_CONFORMANCE_TEST(test_gather_cancel_cancels_children) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vd;
  job_t ja = job(10.0, 0, NULL, NULL), jb = job(10.0, 0, NULL, NULL);
  il_future_t *kids[4] = {spawn(ctx->loop, job_body, &ja),
                          spawn(ctx->loop, job_body, &jb),
                          new_future(ctx->loop), new_future(ctx->loop)};
  assert_int_equal(il_future_set_result(kids[3], &vd, NULL), 0);
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 4, IL_GATHER_DEFAULT, &g), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0); /* started */
  assert_int_equal(ja.ran, 1);
  assert_int_equal(il_future_cancel(g, "enough"), 1);
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(ja.sleep_rc, IL_ECANCELED);
  assert_int_equal(jb.sleep_rc, IL_ECANCELED);
  for (int i = 0; i < 3; i++)
    assert_int_equal(il_future_cancelled(kids[i]), 1);
  /* The child already done keeps its result. */
  assert_int_equal(il_future_cancelled(kids[3]), 0);
  void *v = NULL;
  assert_int_equal(il_future_result(kids[3], &v), 0);
  assert_ptr_equal(v, &vd);
  assert_int_equal(il_future_cancel(g, NULL), 0); /* done now */
  il_future_unref(g);
  for (int i = 0; i < 4; i++)
    il_future_unref(kids[i]);
}

IL_CONFORMANCE_TEST(test_gather_of_zero_done_at_once) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, NULL, 0, IL_GATHER_DEFAULT, &g), 0);
  assert_int_equal(il_future_done(g), 1);
  void *v = &g;
  assert_int_equal(il_future_result(g, &v), 0);
  assert_null(v);
  il_future_unref(g);
  g = NULL;
  assert_int_equal(il_gather(ctx->loop, NULL, 0, IL_GATHER_COLLECT_ERRORS, &g),
                   0);
  assert_int_equal(il_future_done(g), 1);
  assert_int_equal(il_future_result(g, NULL), 0);
  il_future_unref(g);
}

IL_CONFORMANCE_TEST(test_gather_cancelled_child_fails_gather) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vb;
  /* b sleeps far longer than a takes to be cancelled, so that even on a
   * loaded machine b is still running when the gather fails. */
  job_t jb = job(0.5, 0, NULL, &vb);
  il_future_t *kids[2] = {new_future(ctx->loop),
                          spawn(ctx->loop, job_body, &jb)};
  completion_t cancel_a = {kids[0], 1, NULL, "child went away"};
  complete_later(ctx->loop, 0.01, &cancel_a);
  il_future_t *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 2, IL_GATHER_DEFAULT, &g), 0);
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(il_future_error(g, NULL), IL_ECANCELED);
  /* The other child was not cancelled by it. */
  assert_int_equal(il_future_done(kids[1]), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, kids[1], 5.0, &v), 0);
  assert_ptr_equal(v, &vb);
  assert_int_equal(il_future_cancelled(kids[1]), 0);
  il_future_unref(g);
  il_future_unref(kids[0]);
  il_future_unref(kids[1]);
}

IL_CONFORMANCE_TEST(test_gather_child_of_other_loop_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *other = il_test_loop_new(ctx);
  il_future_t *mine = new_future(ctx->loop), *theirs = new_future(other);
  il_future_t *kids[2] = {mine, theirs}, *out = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 2, IL_GATHER_DEFAULT, &out),
                   IL_EINVALSTATE);
  assert_null(out);
  assert_int_equal(
      il_wait(ctx->loop, kids, 2, IL_WAIT_ALL_COMPLETED, -1.0, &out),
      IL_EINVALSTATE);
  assert_null(out);
  /* A closed loop makes nothing new. */
  il_future_t *orphan = new_future(other);
  assert_int_equal(il_loop_close(other), 0);
  assert_int_equal(il_gather(other, NULL, 0, IL_GATHER_DEFAULT, &out),
                   IL_ECLOSED);
  assert_int_equal(il_gather(other, &orphan, 1, IL_GATHER_DEFAULT, &out),
                   IL_ECLOSED);
  assert_int_equal(
      il_wait(other, &orphan, 1, IL_WAIT_ALL_COMPLETED, -1.0, &out),
      IL_ECLOSED);
  assert_null(out);
  /* Nothing was registered on the futures. */
  assert_int_equal(il_future_set_result(mine, NULL, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  il_future_unref(orphan);
  il_future_unref(theirs);
  il_future_unref(mine);
}

IL_CONFORMANCE_TEST(test_gather_same_future_twice) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x, y;
  il_future_t *f = new_future(ctx->loop), *g2 = new_future(ctx->loop);
  il_future_t *kids[3] = {f, g2, f}, *g = NULL;
  assert_int_equal(il_gather(ctx->loop, kids, 3, IL_GATHER_DEFAULT, &g), 0);
  completion_t cf = {f, 0, &x, NULL}, cg = {g2, 0, &y, NULL};
  complete_later(ctx->loop, 0.01, &cf);
  complete_later(ctx->loop, 0.02, &cg);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, g, 5.0, &v), 0);
  void **values = v;
  assert_ptr_equal(values[0], &x);
  assert_ptr_equal(values[1], &y);
  assert_ptr_equal(values[2], &x);
  il_future_unref(g);
  il_future_unref(g2);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_combinators_released_early) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int va, vb;
  job_t ja = job(0.02, 0, NULL, &va), jb = job(0.01, IL_EIO, "b", NULL);
  il_future_t *kids[2] = {spawn(ctx->loop, job_body, &ja),
                          spawn(ctx->loop, job_body, &jb)};
  il_future_t *g = NULL, *w = NULL, *s = NULL, *plain = new_future(ctx->loop);
  /* Each is let go of at once, while what it watches is still pending. */
  assert_int_equal(il_gather(ctx->loop, kids, 2, IL_GATHER_COLLECT_ERRORS, &g),
                   0);
  il_future_unref(g);
  assert_int_equal(il_wait(ctx->loop, kids, 2, IL_WAIT_ALL_COMPLETED, 5.0, &w),
                   0);
  il_future_unref(w);
  assert_int_equal(il_shield(plain, &s), 0);
  il_future_unref(s);
  assert_int_equal(il_gather(ctx->loop, &plain, 1, IL_GATHER_DEFAULT, &g), 0);
  il_future_unref(g);
  /* The children are unaffected and finish normally. */
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, kids[0], 5.0, &v), 0);
  assert_ptr_equal(v, &va);
  assert_int_equal(run_until_done(ctx->loop, kids[1], 5.0, NULL), IL_EIO);
  assert_int_equal(il_future_done(plain), 0);
  assert_int_equal(il_future_set_result(plain, &vb, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  il_future_unref(plain);
  il_future_unref(kids[0]);
  il_future_unref(kids[1]);
}

/* ---- wait ---------------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_wait_first_completed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f[3] = {new_future(ctx->loop), new_future(ctx->loop),
                       new_future(ctx->loop)};
  completion_t c = {f[1], 0, NULL, NULL};
  complete_later(ctx->loop, 0.01, &c);
  il_future_t *w = NULL;
  assert_int_equal(il_wait(ctx->loop, f, 3, IL_WAIT_FIRST_COMPLETED, -1.0, &w),
                   0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 1);
  assert_int_equal(il_future_done(f[1]), 1);
  assert_int_equal(il_future_done(f[0]), 0);
  assert_int_equal(il_future_done(f[2]), 0);
  il_future_unref(w);
  /* Already done: counted. */
  assert_int_equal(il_wait(ctx->loop, f, 3, IL_WAIT_FIRST_COMPLETED, -1.0, &w),
                   0);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 1);
  il_future_unref(w);
  for (int i = 0; i < 3; i++)
    il_future_unref(f[i]);
}

IL_CONFORMANCE_TEST(test_wait_all_completed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f[3] = {new_future(ctx->loop), new_future(ctx->loop),
                       new_future(ctx->loop)};
  completion_t c0 = {f[0], 0, NULL, NULL};
  completion_t c1 = {f[1], IL_EIO, NULL, "broken"};
  completion_t c2 = {f[2], 1, NULL, NULL};
  complete_later(ctx->loop, 0.01, &c0);
  complete_later(ctx->loop, 0.02, &c1);
  complete_later(ctx->loop, 0.03, &c2);
  il_future_t *w = NULL;
  assert_int_equal(il_wait(ctx->loop, f, 3, IL_WAIT_ALL_COMPLETED, -1.0, &w),
                   0);
  snapshot_t s = {{f[0], f[1], f[2]}, 3, {0}, 0};
  assert_int_equal(il_future_add_done_callback(w, snapshot_cb, &s), 0);
  void *v = NULL;
  /* It never fails, whatever the futures did. */
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 3);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(s.done_then[i], 1);
  assert_int_equal(il_future_error(f[1], NULL), IL_EIO);
  il_future_unref(w);
  for (int i = 0; i < 3; i++)
    il_future_unref(f[i]);
}

IL_CONFORMANCE_TEST(test_wait_first_error) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  void *v = NULL;
  il_future_t *w = NULL;
  /* One fails: done then, the rest left pending. */
  il_future_t *f[3] = {new_future(ctx->loop), new_future(ctx->loop),
                       new_future(ctx->loop)};
  completion_t ok = {f[0], 0, NULL, NULL};
  completion_t bad = {f[1], IL_EPIPE, NULL, "broken"};
  complete_later(ctx->loop, 0.01, &ok);
  complete_later(ctx->loop, 0.03, &bad);
  assert_int_equal(il_wait(ctx->loop, f, 3, IL_WAIT_FIRST_ERROR, -1.0, &w), 0);
  snapshot_t s = {{f[0], f[1], f[2]}, 3, {0}, 0};
  assert_int_equal(il_future_add_done_callback(w, snapshot_cb, &s), 0);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 2);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s.done_then[1], 1); /* not done at the first success */
  assert_int_equal(il_future_done(f[2]), 0);
  assert_int_equal(il_future_cancelled(f[2]), 0);
  assert_int_equal(il_future_error(f[1], NULL), IL_EPIPE);
  il_future_unref(w);
  /* A cancellation counts as a failure. */
  il_future_t *g[2] = {new_future(ctx->loop), new_future(ctx->loop)};
  completion_t can = {g[0], 1, NULL, NULL};
  complete_later(ctx->loop, 0.01, &can);
  assert_int_equal(il_wait(ctx->loop, g, 2, IL_WAIT_FIRST_ERROR, -1.0, &w), 0);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 1);
  assert_int_equal(il_future_done(g[1]), 0);
  il_future_unref(w);
  /* None fails: done when all are. */
  il_future_t *h[2] = {new_future(ctx->loop), new_future(ctx->loop)};
  completion_t h0 = {h[0], 0, NULL, NULL}, h1 = {h[1], 0, NULL, NULL};
  complete_later(ctx->loop, 0.01, &h0);
  complete_later(ctx->loop, 0.02, &h1);
  assert_int_equal(il_wait(ctx->loop, h, 2, IL_WAIT_FIRST_ERROR, -1.0, &w), 0);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 2);
  il_future_unref(w);
  for (int i = 0; i < 3; i++)
    il_future_unref(f[i]);
  for (int i = 0; i < 2; i++) {
    il_future_unref(g[i]);
    il_future_unref(h[i]);
  }
}

IL_CONFORMANCE_TEST(test_wait_timeout_leaves_futures_pending) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f[3] = {new_future(ctx->loop), new_future(ctx->loop),
                       new_future(ctx->loop)};
  completion_t c = {f[0], 0, NULL, NULL};
  complete_later(ctx->loop, 0.01, &c);
  il_future_t *w = NULL;
  double t0 = il_loop_time(ctx->loop);
  assert_int_equal(il_wait(ctx->loop, f, 3, IL_WAIT_ALL_COMPLETED, 0.05, &w),
                   0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0); /* no error */
  assert_true(il_loop_time(ctx->loop) - t0 >= 0.05);
  assert_int_equal(wait_count(v), 1);
  for (int i = 1; i < 3; i++) {
    assert_int_equal(il_future_done(f[i]), 0);
    assert_int_equal(il_future_cancelled(f[i]), 0);
  }
  il_future_unref(w);
  /* Nothing done in time: 0. */
  assert_int_equal(
      il_wait(ctx->loop, f + 1, 2, IL_WAIT_FIRST_COMPLETED, 0.01, &w), 0);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 0);
  assert_int_equal(il_future_done(f[1]), 0);
  il_future_unref(w);
  for (int i = 0; i < 3; i++)
    il_future_unref(f[i]);
}

IL_CONFORMANCE_TEST(test_wait_cancel_stops_watching_only) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f[2] = {new_future(ctx->loop), new_future(ctx->loop)};
  il_future_t *w = NULL;
  assert_int_equal(il_wait(ctx->loop, f, 2, IL_WAIT_ALL_COMPLETED, 1.0, &w), 0);
  assert_int_equal(il_future_cancel(w, NULL), 1);
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(il_future_cancelled(w), 1);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(il_future_done(f[i]), 0);
    assert_int_equal(il_future_set_result(f[i], NULL, NULL), 0);
  }
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(il_future_cancelled(w), 1);
  il_future_unref(w);
  il_future_unref(f[0]);
  il_future_unref(f[1]);
}

IL_CONFORMANCE_TEST(test_wait_does_not_retrieve_errors) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  /* il_wait only counts; the errors stay for whoever reads the futures. A
   * failure nobody read is reported when the future is freed, wait or no
   * wait. */
  il_future_t *f[2] = {new_future(ctx->loop), new_future(ctx->loop)};
  il_future_t *w = NULL;
  assert_int_equal(il_wait(ctx->loop, f, 2, IL_WAIT_ALL_COMPLETED, -1.0, &w),
                   0);
  assert_int_equal(il_future_set_error(f[0], IL_EIO, "read me"), 0);
  assert_int_equal(il_future_set_error(f[1], IL_EPIPE, "nobody reads me"), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal(wait_count(v), 2);
  il_future_unref(w);
  assert_int_equal(il_future_error(f[0], NULL), IL_EIO);
  il_future_unref(f[0]);
  il_future_unref(f[1]);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_FUTURE);
  assert_int_equal(ctx->errors[0].code, IL_EPIPE);
}

/* ---- wait_for ------------------------------------------------------------ */

typedef struct wf_probe {
  il_future_t *f;
  double timeout;
  int rc, cancelling_after, inner_done_at_return;
  void *v;
  double elapsed;
} wf_probe_t;

static int wait_for_body(il_task_t *self, void *arg) {
  wf_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  double t0 = il_loop_time(loop);
  p->rc = il_wait_for(p->f, p->timeout, &p->v);
  p->elapsed = il_loop_time(loop) - t0;
  p->inner_done_at_return = il_future_done(p->f);
  p->cancelling_after = il_task_cancelling(self);
  return p->rc == IL_ETIMEDOUT ? 0 : p->rc;
}

static wf_probe_t wf(il_future_t *f, double timeout) {
  wf_probe_t p;
  memset(&p, 0, sizeof(p));
  p.f = f;
  p.timeout = timeout;
  p.rc = 1;
  p.cancelling_after = -1;
  return p;
}

IL_CONFORMANCE_TEST(test_wait_for_success_returns_value) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x, y, z;
  wf_probe_t a = wf(new_future(ctx->loop), 5.0);
  wf_probe_t b = wf(new_future(ctx->loop), -1.0); /* no limit */
  wf_probe_t c = wf(new_future(ctx->loop), 0.0);  /* done already */
  completion_t ca = {a.f, 0, &x, NULL}, cb = {b.f, 0, &y, NULL};
  complete_later(ctx->loop, 0.01, &ca);
  complete_later(ctx->loop, 0.02, &cb);
  assert_int_equal(il_future_set_result(c.f, &z, NULL), 0);
  il_task_t *ta = spawn(ctx->loop, wait_for_body, &a);
  il_task_t *tb = spawn(ctx->loop, wait_for_body, &b);
  il_task_t *tc = spawn(ctx->loop, wait_for_body, &c);
  assert_int_equal(run_until_done(ctx->loop, ta, 5.0, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, tb, 5.0, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, tc, 5.0, NULL), 0);
  assert_int_equal(a.rc, 0);
  assert_ptr_equal(a.v, &x);
  assert_int_equal(b.rc, 0);
  assert_ptr_equal(b.v, &y);
  assert_int_equal(c.rc, 0);
  assert_ptr_equal(c.v, &z);
  assert_int_equal(a.cancelling_after, 0);
  assert_int_equal(il_future_cancelled(a.f), 0);
  il_future_t *all[6] = {ta, tb, tc, a.f, b.f, c.f};
  for (int i = 0; i < 6; i++)
    il_future_unref(all[i]);
}

IL_CONFORMANCE_TEST(test_wait_for_timeout_cancels_inner) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* A plain future. */
  wf_probe_t a = wf(new_future(ctx->loop), 0.03);
  il_task_t *ta = spawn(ctx->loop, wait_for_body, &a);
  assert_int_equal(run_until_done(ctx->loop, ta, 5.0, NULL), 0);
  assert_int_equal(a.rc, IL_ETIMEDOUT);
  assert_true(a.elapsed >= 0.03);
  assert_int_equal(il_future_cancelled(a.f), 1);
  assert_int_equal(a.cancelling_after, 0); /* its own cancel withdrawn */
  assert_int_equal(il_future_cancelled(ta), 0);
  /* A task: cancelled, and awaited before wait_for returns. */
  job_t j = job(10.0, 0, NULL, NULL);
  il_task_t *inner = spawn(ctx->loop, job_body, &j);
  wf_probe_t b = wf(inner, 0.02);
  il_task_t *tb = spawn(ctx->loop, wait_for_body, &b);
  assert_int_equal(run_until_done(ctx->loop, tb, 5.0, NULL), 0);
  assert_int_equal(b.rc, IL_ETIMEDOUT);
  assert_int_equal(b.inner_done_at_return, 1);
  assert_int_equal(j.sleep_rc, IL_ECANCELED);
  assert_int_equal(il_future_cancelled(inner), 1);
  /* A zero limit on a pending future: timed out at once. */
  wf_probe_t c = wf(new_future(ctx->loop), 0.0);
  il_task_t *tc = spawn(ctx->loop, wait_for_body, &c);
  assert_int_equal(run_until_done(ctx->loop, tc, 5.0, NULL), 0);
  assert_int_equal(c.rc, IL_ETIMEDOUT);
  assert_int_equal(il_future_cancelled(c.f), 1);
  assert_int_equal(c.cancelling_after, 0);
  il_future_unref(tc);
  il_future_unref(c.f);
  il_future_unref(inner);
  il_future_unref(tb);
  il_future_unref(ta);
  il_future_unref(a.f);
}

IL_CONFORMANCE_TEST(test_wait_for_inner_finishing_anyway_wins) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x;
  /* The inner task turns its cancellation into a result. */
  job_t j = job(10.0, 0, NULL, &x);
  j.swallow = 1;
  il_task_t *inner = spawn(ctx->loop, job_body, &j);
  wf_probe_t a = wf(inner, 0.02);
  il_task_t *ta = spawn(ctx->loop, wait_for_body, &a);
  assert_int_equal(run_until_done(ctx->loop, ta, 5.0, NULL), 0);
  assert_int_equal(j.sleep_rc, IL_ECANCELED);
  assert_int_equal(a.rc, 0);
  assert_ptr_equal(a.v, &x);
  assert_int_equal(a.cancelling_after, 0);
  /* ... or into an error. */
  job_t k = job(10.0, 0, NULL, NULL);
  k.on_cancel = IL_EIO;
  k.cancel_msg = "cleanup failed";
  il_task_t *inner2 = spawn(ctx->loop, job_body, &k);
  wf_probe_t b = wf(inner2, 0.02);
  il_task_t *tb = spawn(ctx->loop, wait_for_body, &b);
  assert_int_equal(run_until_done(ctx->loop, tb, 5.0, NULL), IL_EIO);
  assert_int_equal(b.rc, IL_EIO);
  assert_int_equal(il_future_error(inner2, NULL), IL_EIO);
  il_future_unref(tb);
  il_future_unref(inner2);
  il_future_unref(ta);
  il_future_unref(inner);
}

IL_CONFORMANCE_TEST(test_wait_for_outer_cancel_cancels_inner) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  wf_probe_t p = wf(new_future(ctx->loop), 5.0);
  il_task_t *t = spawn(ctx->loop, wait_for_body, &p);
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, cancel_task_cb, t, NULL),
                   0);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(il_future_cancelled(p.f), 1);
  assert_int_equal(il_future_cancelled(t), 1);
  assert_true(p.elapsed < 4.0);
  il_future_unref(t);
  il_future_unref(p.f);
}

/* ---- shield -------------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_shield_mirrors_inner) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x;
  il_future_t *f[3] = {new_future(ctx->loop), new_future(ctx->loop),
                       new_future(ctx->loop)};
  il_future_t *s[3];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(il_shield(f[i], &s[i]), 0);
    assert_int_equal(il_future_done(s[i]), 0);
  }
  completion_t c0 = {f[0], 0, &x, NULL};
  completion_t c1 = {f[1], IL_EIO, NULL, "inner broke"};
  completion_t c2 = {f[2], 1, NULL, NULL};
  complete_later(ctx->loop, 0.005, &c0);
  complete_later(ctx->loop, 0.01, &c1);
  complete_later(ctx->loop, 0.015, &c2);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, s[0], 5.0, &v), 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(run_until_done(ctx->loop, s[1], 5.0, NULL), IL_EIO);
  const char *m = NULL;
  assert_int_equal(il_future_error(s[1], &m), IL_EIO);
  assert_string_equal(m, "inner broke");
  assert_int_equal(il_future_error(f[1], NULL), IL_EIO);
  assert_int_equal(run_until_done(ctx->loop, s[2], 5.0, NULL), IL_ECANCELED);
  assert_int_equal(il_future_cancelled(s[2]), 1);
  for (int i = 0; i < 3; i++) {
    il_future_unref(s[i]);
    il_future_unref(f[i]);
  }
}

typedef struct shield_probe {
  il_future_t *shield, *inner;
  int rc, inner_done, inner_cancelled, rc2;
  void *v;
} shield_probe_t;

static int await_shield_body(il_task_t *self, void *arg) {
  (void)self;
  shield_probe_t *p = arg;
  p->rc = il_await(p->shield, NULL);
  p->inner_done = il_future_done(p->inner);
  p->inner_cancelled = il_future_cancelled(p->inner);
  p->rc2 = il_await(p->inner, &p->v);
  return 0;
}

IL_CONFORMANCE_TEST(test_shield_cancel_leaves_inner_running) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int x;
  job_t j = job(0.15, 0, NULL, &x); /* well after the cancellation */
  shield_probe_t p;
  memset(&p, 0, sizeof(p));
  p.inner = spawn(ctx->loop, job_body, &j);
  assert_int_equal(il_shield(p.inner, &p.shield), 0);
  il_task_t *t = spawn(ctx->loop, await_shield_body, &p);
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, cancel_task_cb, t, NULL),
                   0);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(il_future_cancelled(p.shield), 1);
  assert_int_equal(p.inner_done, 0);
  assert_int_equal(p.inner_cancelled, 0);
  assert_int_equal(p.rc2, 0);
  assert_ptr_equal(p.v, &x);
  assert_int_equal(j.sleep_rc, 0);
  /* Cancelling a shield directly: the same. */
  il_future_t *f = new_future(ctx->loop), *s = NULL;
  assert_int_equal(il_shield(f, &s), 0);
  assert_int_equal(il_future_cancel(s, NULL), 1);
  assert_int_equal(il_future_cancelled(s), 1);
  assert_int_equal(il_future_done(f), 0);
  assert_int_equal(il_future_set_result(f, &x, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(il_future_cancelled(s), 1);
  il_future_unref(s);
  il_future_unref(f);
  il_future_unref(t);
  il_future_unref(p.shield);
  il_future_unref(p.inner);
}

/* ---- timeout scopes ------------------------------------------------------ */

typedef struct scope_probe {
  int enter_rc, rc, expired, exit_rc, cancelling_after, after_rc;
  double elapsed;
  /* nested / second part */
  int rc_b, inner_expired, outer_expired, inner_exit, outer_exit, mid_rc;
  int rc_c, expired_c, exit_c;
  /* reschedule */
  int resched_rc, resched_late_rc;
  int other_exit_rc;
  il_timeout_t *shared;
} scope_probe_t;

static int scope_expires_body(il_task_t *self, void *arg) {
  scope_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  double t0 = il_loop_time(loop);
  p->enter_rc = il_timeout_enter(loop, 0.02, &to);
  if (p->enter_rc < 0)
    return p->enter_rc;
  CHECK_EQ(il_timeout_expired(to), 0);
  p->rc = il_sleep(loop, 5.0);
  p->elapsed = il_loop_time(loop) - t0;
  p->expired = il_timeout_expired(to);
  p->exit_rc = il_timeout_exit(to, p->rc);
  p->cancelling_after = il_task_cancelling(self);
  p->after_rc = il_sleep(loop, 0.001);
  /* A zero delay expires at the first wait. */
  CHECK_EQ(il_timeout_enter(loop, 0.0, &to), 0);
  p->rc_b = il_sleep(loop, 5.0);
  CHECK_EQ(il_timeout_expired(to), 1);
  p->inner_exit = il_timeout_exit(to, p->rc_b);
  /* So does a deadline moved into the past. */
  CHECK_EQ(il_timeout_enter(loop, 5.0, &to), 0);
  CHECK_EQ(il_timeout_reschedule(to, il_loop_time(loop) - 1.0), 0);
  p->rc_c = il_sleep(loop, 5.0);
  p->exit_c = il_timeout_exit(to, p->rc_c);
  p->mid_rc = il_sleep(loop, 0.001);
  CHECK_EQ(il_task_cancelling(self), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_timeout_scope_expires_etimedout) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  scope_probe_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, scope_expires_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p.enter_rc, 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_true(p.elapsed >= 0.02);
  assert_true(p.elapsed < 4.0);
  assert_int_equal(p.expired, 1);
  assert_int_equal(p.exit_rc, IL_ETIMEDOUT);
  assert_int_equal(p.cancelling_after, 0);
  assert_int_equal(p.after_rc, 0);
  assert_int_equal(p.rc_b, IL_ECANCELED);
  assert_int_equal(p.inner_exit, IL_ETIMEDOUT);
  assert_int_equal(p.rc_c, IL_ECANCELED);
  assert_int_equal(p.exit_c, IL_ETIMEDOUT);
  assert_int_equal(p.mid_rc, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
}

static int scope_other_task_body(il_task_t *self, void *arg) {
  (void)self;
  scope_probe_t *p = arg;
  p->other_exit_rc = il_timeout_exit(p->shared, 0);
  return 0;
}

static int scope_not_expired_body(il_task_t *self, void *arg) {
  scope_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  p->enter_rc = il_timeout_enter(loop, 1.0, &to);
  if (p->enter_rc < 0)
    return p->enter_rc;
  p->rc = il_sleep(loop, 0.01);
  p->expired = il_timeout_expired(to);
  p->exit_rc = il_timeout_exit(to, p->rc);
  /* rc passes through unchanged, whatever it is. */
  CHECK_EQ(il_timeout_enter(loop, 1.0, &to), 0);
  CHECK_EQ(il_timeout_exit(to, IL_EIO), IL_EIO);
  CHECK_EQ(il_timeout_enter(loop, 1.0, &to), 0);
  CHECK_EQ(il_timeout_exit(to, IL_ECANCELED), IL_ECANCELED);
  CHECK_EQ(il_timeout_enter(loop, 1.0, &to), 0);
  CHECK_EQ(il_timeout_exit(to, 5), 5);
  /* Only the task that entered may exit. (The limit is long enough for a
   * loaded machine to finish the other task first: it must not fire.) */
  CHECK_EQ(il_timeout_enter(loop, 0.5, &to), 0);
  p->shared = to;
  il_task_t *other = NULL;
  CHECK_EQ(il_task_spawn(loop, scope_other_task_body, p, NULL, &other), 0);
  CHECK_EQ(il_await(other, NULL), 0);
  il_future_unref(other);
  CHECK_EQ(il_timeout_exit(to, 0), 0);
  /* Exited scopes never fire later. */
  p->after_rc = il_sleep(loop, 0.55);
  p->cancelling_after = il_task_cancelling(self);
  return 0;
}

IL_CONFORMANCE_TEST(test_timeout_scope_not_expired_rc_unchanged) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  scope_probe_t p;
  memset(&p, 0, sizeof(p));
  p.other_exit_rc = 1;
  il_task_t *t = spawn(ctx->loop, scope_not_expired_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p.enter_rc, 0);
  assert_int_equal(p.rc, 0);
  assert_int_equal(p.expired, 0);
  assert_int_equal(p.exit_rc, 0);
  assert_int_equal(p.other_exit_rc, IL_ENOTASK);
  assert_int_equal(p.after_rc, 0);
  assert_int_equal(p.cancelling_after, 0);
  il_future_unref(t);
}

static int scope_reschedule_body(il_task_t *self, void *arg) {
  scope_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  /* No deadline, then one. */
  p->enter_rc = il_timeout_enter(loop, -1.0, &to);
  if (p->enter_rc < 0)
    return p->enter_rc;
  double t0 = il_loop_time(loop);
  p->resched_rc = il_timeout_reschedule(to, t0 + 0.02);
  p->rc = il_sleep(loop, 5.0);
  p->elapsed = il_loop_time(loop) - t0;
  p->expired = il_timeout_expired(to);
  p->resched_late_rc = il_timeout_reschedule(to, il_loop_time(loop) + 1.0);
  p->exit_rc = il_timeout_exit(to, p->rc);
  /* A deadline, then none. */
  CHECK_EQ(il_timeout_enter(loop, 0.01, &to), 0);
  CHECK_EQ(il_timeout_reschedule(to, -1.0), 0);
  p->rc_b = il_sleep(loop, 0.03);
  CHECK_EQ(il_timeout_expired(to), 0);
  CHECK_EQ(il_timeout_exit(to, p->rc_b), 0);
  /* A deadline moved later. */
  t0 = il_loop_time(loop);
  CHECK_EQ(il_timeout_enter(loop, 0.01, &to), 0);
  CHECK_EQ(il_timeout_reschedule(to, t0 + 0.04), 0);
  p->mid_rc = il_sleep(loop, 0.02);
  p->rc_c = il_sleep(loop, 5.0);
  CHECK(il_loop_time(loop) - t0 >= 0.04);
  p->expired_c = il_timeout_expired(to);
  p->exit_c = il_timeout_exit(to, p->rc_c);
  p->cancelling_after = il_task_cancelling(self);
  return 0;
}

IL_CONFORMANCE_TEST(test_timeout_scope_reschedule) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  scope_probe_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, scope_reschedule_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p.enter_rc, 0);
  assert_int_equal(p.resched_rc, 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_true(p.elapsed >= 0.02);
  assert_int_equal(p.expired, 1);
  assert_int_equal(p.resched_late_rc, IL_EINVALSTATE);
  assert_int_equal(p.exit_rc, IL_ETIMEDOUT);
  assert_int_equal(p.rc_b, 0);
  assert_int_equal(p.mid_rc, 0);
  assert_int_equal(p.rc_c, IL_ECANCELED);
  assert_int_equal(p.expired_c, 1);
  assert_int_equal(p.exit_c, IL_ETIMEDOUT);
  assert_int_equal(p.cancelling_after, 0);
  il_future_unref(t);
}

static int scopes_nested_body(il_task_t *self, void *arg) {
  scope_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *outer = NULL, *inner = NULL;
  /* The inner one expires; the outer one does not. */
  p->enter_rc = il_timeout_enter(loop, 1.0, &outer);
  if (p->enter_rc < 0)
    return p->enter_rc;
  CHECK_EQ(il_timeout_enter(loop, 0.02, &inner), 0);
  p->rc = il_sleep(loop, 5.0);
  p->inner_expired = il_timeout_expired(inner);
  p->outer_expired = il_timeout_expired(outer);
  p->inner_exit = il_timeout_exit(inner, p->rc);
  p->mid_rc = il_sleep(loop, 0.01);
  p->outer_exit = il_timeout_exit(outer, p->mid_rc);
  /* The outer one expires while the inner one's deadline is far. */
  CHECK_EQ(il_timeout_enter(loop, 0.02, &outer), 0);
  CHECK_EQ(il_timeout_enter(loop, 1.0, &inner), 0);
  p->rc_b = il_sleep(loop, 5.0);
  CHECK_EQ(il_timeout_expired(inner), 0);
  CHECK_EQ(il_timeout_expired(outer), 1);
  p->rc_c = il_timeout_exit(inner, p->rc_b); /* not its timeout */
  p->exit_c = il_timeout_exit(outer, p->rc_c);
  p->cancelling_after = il_task_cancelling(self);
  p->after_rc = il_sleep(loop, 0.001);
  return 0;
}

IL_CONFORMANCE_TEST(test_timeout_scopes_nested) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  scope_probe_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, scopes_nested_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p.enter_rc, 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.inner_expired, 1);
  assert_int_equal(p.outer_expired, 0);
  assert_int_equal(p.inner_exit, IL_ETIMEDOUT);
  assert_int_equal(p.mid_rc, 0);
  assert_int_equal(p.outer_exit, 0);
  assert_int_equal(p.rc_b, IL_ECANCELED);
  assert_int_equal(p.rc_c, IL_ECANCELED);
  assert_int_equal(p.exit_c, IL_ETIMEDOUT);
  assert_int_equal(p.cancelling_after, 0);
  assert_int_equal(p.after_rc, 0);
  il_future_unref(t);
}

static int scope_outside_cancel_body(il_task_t *self, void *arg) {
  scope_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_timeout_t *to = NULL;
  p->enter_rc = il_timeout_enter(loop, 1.0, &to);
  if (p->enter_rc < 0)
    return p->enter_rc;
  p->rc = il_sleep(loop, 5.0);
  p->expired = il_timeout_expired(to);
  p->exit_rc = il_timeout_exit(to, p->rc);
  p->cancelling_after = il_task_cancelling(self);
  return p->exit_rc;
}

IL_CONFORMANCE_TEST(test_timeout_scope_outside_cancel_stays_ecanceled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  scope_probe_t p;
  memset(&p, 0, sizeof(p));
  il_task_t *t = spawn(ctx->loop, scope_outside_cancel_body, &p);
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, cancel_task_cb, t, NULL),
                   0);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(p.enter_rc, 0);
  assert_int_equal(p.rc, IL_ECANCELED);
  assert_int_equal(p.expired, 0);
  assert_int_equal(p.exit_rc, IL_ECANCELED);
  assert_int_equal(p.cancelling_after, 1);
  assert_int_equal(il_future_cancelled(t), 1);
  il_future_unref(t);
}

/* ---- task groups --------------------------------------------------------- */

typedef struct group_probe {
  job_t jobs[4];
  int njobs;
  il_task_t *kids[4];
  int new_rc, spawn_rc[4], wait_rc, count, late_spawn_rc, second_wait_rc;
  int await_rc, cancelling_after, after_rc;
  int err_code[4];
  char err_msg[4][64];
  int err_bad_index, err_negative;
  int kids_done_at_return;
  double elapsed;
  int late_ran;
} group_probe_t;

static void read_group_errors(group_probe_t *p, il_taskgroup_t *g) {
  p->count = il_taskgroup_error_count(g);
  for (int i = 0; i < p->count && i < 4; i++) {
    const char *m = NULL;
    p->err_code[i] = il_taskgroup_error(g, i, &m);
    snprintf(p->err_msg[i], sizeof(p->err_msg[i]), "%s", m ? m : "(null)");
  }
  p->err_bad_index = il_taskgroup_error(g, p->count, NULL);
  p->err_negative = il_taskgroup_error(g, -1, NULL);
}

static int late_body(il_task_t *self, void *arg) {
  (void)self;
  ((group_probe_t *)arg)->late_ran = 1;
  return 0;
}

static int group_all_ok_body(il_task_t *self, void *arg) {
  group_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *g = NULL;
  p->new_rc = il_taskgroup_new(loop, &g);
  if (p->new_rc < 0)
    return p->new_rc;
  for (int i = 0; i < 3; i++)
    p->spawn_rc[i] =
        il_taskgroup_spawn(g, job_body, &p->jobs[i], NULL, &p->kids[i]);
  /* One more, spawned after the parent did something else. */
  CHECK_EQ(il_sleep(loop, 0.015), 0);
  p->spawn_rc[3] =
      il_taskgroup_spawn(g, job_body, &p->jobs[3], NULL, &p->kids[3]);
  p->wait_rc = il_taskgroup_wait(g);
  p->kids_done_at_return = 1;
  for (int i = 0; i < 4; i++)
    p->kids_done_at_return &= il_future_done(p->kids[i]);
  read_group_errors(p, g);
  p->late_spawn_rc = il_taskgroup_spawn(g, late_body, p, NULL, NULL);
  p->second_wait_rc = il_taskgroup_wait(g);
  il_taskgroup_free(g);
  /* A group without children: nothing to wait for. */
  CHECK_EQ(il_taskgroup_new(loop, &g), 0);
  CHECK_EQ(il_taskgroup_wait(g), 0);
  CHECK_EQ(il_taskgroup_error_count(g), 0);
  il_taskgroup_free(g);
  return 0;
}

IL_CONFORMANCE_TEST(test_taskgroup_all_children_succeed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int v[4];
  group_probe_t *p = calloc(1, sizeof(*p));
  p->jobs[0] = job(0.03, 0, NULL, &v[0]);
  p->jobs[1] = job(0.01, 0, NULL, &v[1]);
  p->jobs[2] = job(0.02, 0, NULL, &v[2]);
  p->jobs[3] = job(0.02, 0, NULL, &v[3]);
  il_task_t *t = spawn(ctx->loop, group_all_ok_body, p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p->new_rc, 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(p->spawn_rc[i], 0);
  assert_int_equal(p->wait_rc, 0);
  assert_int_equal(p->kids_done_at_return, 1);
  assert_int_equal(p->count, 0);
  assert_int_equal(p->err_bad_index, IL_EINVAL);
  assert_int_equal(p->late_spawn_rc, IL_EINVALSTATE);
  assert_int_equal(p->second_wait_rc, IL_EINVALSTATE);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(p->late_ran, 0);
  for (int i = 0; i < 4; i++) {
    void *r = NULL;
    assert_int_equal(il_future_result(p->kids[i], &r), 0);
    assert_ptr_equal(r, &v[i]);
    il_future_unref(p->kids[i]);
  }
  il_future_unref(t);
  free(p);
}

static int group_wait_body(il_task_t *self, void *arg) {
  group_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *g = NULL;
  p->new_rc = il_taskgroup_new(loop, &g);
  if (p->new_rc < 0)
    return p->new_rc;
  /* The first child is spawned without a reference of our own: the group
   * alone reports its error. */
  for (int i = 0; i < p->njobs; i++)
    p->spawn_rc[i] = il_taskgroup_spawn(g, job_body, &p->jobs[i], NULL,
                                        i == 0 ? NULL : &p->kids[i]);
  double t0 = il_loop_time(loop);
  p->wait_rc = il_taskgroup_wait(g);
  p->elapsed = il_loop_time(loop) - t0;
  p->kids_done_at_return = 1;
  for (int i = 1; i < p->njobs; i++)
    p->kids_done_at_return &= il_future_done(p->kids[i]);
  read_group_errors(p, g);
  p->cancelling_after = il_task_cancelling(self);
  il_taskgroup_free(g);
  p->after_rc = il_sleep(loop, 0.001);
  return p->wait_rc;
}

IL_CONFORMANCE_TEST(test_taskgroup_first_error_cancels_siblings) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vd;
  group_probe_t *p = calloc(1, sizeof(*p));
  p->njobs = 4;
  p->jobs[0] = job(0.01, IL_EIO, "a broke", NULL);
  p->jobs[1] = job(5.0, 0, NULL, NULL);
  p->jobs[1].on_cancel = IL_EPIPE;
  p->jobs[1].cancel_msg = "b cleanup failed";
  p->jobs[2] = job(5.0, 0, NULL, NULL);
  p->jobs[3] = job(0.0, 0, NULL, &vd);
  il_task_t *t = spawn(ctx->loop, group_wait_body, p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_EIO);
  assert_int_equal(p->new_rc, 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(p->spawn_rc[i], 0);
  assert_int_equal(p->wait_rc, IL_EIO);
  assert_true(p->elapsed < 2.5); /* the siblings were cancelled */
  assert_int_equal(p->kids_done_at_return, 1);
  assert_int_equal(p->count, 2);
  assert_int_equal(p->err_code[0], IL_EIO);
  assert_string_equal(p->err_msg[0], "a broke");
  assert_int_equal(p->err_code[1], IL_EPIPE);
  assert_string_equal(p->err_msg[1], "b cleanup failed");
  assert_int_equal(p->err_bad_index, IL_EINVAL);
  assert_int_equal(p->err_negative, IL_EINVAL);
  assert_int_equal(p->jobs[1].sleep_rc, IL_ECANCELED);
  assert_int_equal(p->jobs[2].sleep_rc, IL_ECANCELED);
  assert_int_equal(il_future_cancelled(p->kids[2]), 1);
  void *r = NULL;
  assert_int_equal(il_future_result(p->kids[3], &r), 0); /* done before */
  assert_ptr_equal(r, &vd);
  /* The parent was not cancelled by the group. */
  assert_int_equal(p->cancelling_after, 0);
  assert_int_equal(p->after_rc, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  assert_int_equal(il_future_error(p->kids[1], NULL), IL_EPIPE);
  for (int i = 1; i < 4; i++)
    il_future_unref(p->kids[i]);
  il_future_unref(t);
  free(p);
}

static int group_parent_await_body(il_task_t *self, void *arg) {
  group_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *g = NULL;
  p->new_rc = il_taskgroup_new(loop, &g);
  if (p->new_rc < 0)
    return p->new_rc;
  p->spawn_rc[0] = il_taskgroup_spawn(g, job_body, &p->jobs[0], NULL, NULL);
  double t0 = il_loop_time(loop);
  p->await_rc = il_sleep(loop, 5.0); /* the group cancels this */
  p->elapsed = il_loop_time(loop) - t0;
  p->wait_rc = il_taskgroup_wait(g);
  read_group_errors(p, g);
  p->cancelling_after = il_task_cancelling(self);
  il_taskgroup_free(g);
  p->after_rc = il_sleep(loop, 0.001);
  return 0;
}

IL_CONFORMANCE_TEST(test_taskgroup_failure_cancels_parent_await) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  group_probe_t *p = calloc(1, sizeof(*p));
  p->jobs[0] = job(0.01, IL_EIO, "child broke", NULL);
  il_task_t *t = spawn(ctx->loop, group_parent_await_body, p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_int_equal(p->spawn_rc[0], 0);
  assert_int_equal(p->await_rc, IL_ECANCELED);
  assert_true(p->elapsed < 4.0);
  assert_int_equal(p->wait_rc, IL_EIO); /* not IL_ECANCELED */
  assert_int_equal(p->count, 1);
  assert_int_equal(p->err_code[0], IL_EIO);
  assert_string_equal(p->err_msg[0], "child broke");
  assert_int_equal(p->cancelling_after, 0);
  assert_int_equal(p->after_rc, 0);
  assert_int_equal(il_future_cancelled(t), 0);
  il_future_unref(t);
  free(p);
}

/* The parent is cancelled in its own code, before it reaches the wait. */
static int group_cancelled_before_wait_body(il_task_t *self, void *arg) {
  group_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *g = NULL;
  p->new_rc = il_taskgroup_new(loop, &g);
  if (p->new_rc < 0)
    return p->new_rc;
  for (int i = 0; i < 2; i++)
    p->spawn_rc[i] =
        il_taskgroup_spawn(g, job_body, &p->jobs[i], NULL, &p->kids[i]);
  p->await_rc = il_sleep(loop, 5.0);
  p->wait_rc = il_taskgroup_wait(g);
  p->kids_done_at_return =
      il_future_done(p->kids[0]) && il_future_done(p->kids[1]);
  read_group_errors(p, g);
  il_taskgroup_free(g);
  return p->wait_rc;
}

IL_CONFORMANCE_TEST(test_taskgroup_parent_cancelled_cancels_children) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  group_probe_t *p = calloc(1, sizeof(*p));
  p->njobs = 3;
  p->jobs[0] = job(5.0, 0, NULL, NULL);
  p->jobs[1] = job(5.0, 0, NULL, NULL);
  p->jobs[2] = job(5.0, 0, NULL, NULL);
  il_task_t *t = spawn(ctx->loop, group_wait_body, p);
  /* The parent is cancelled once its last child sleeps. */
  p->jobs[2].cancel_when_asleep = t;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(p->wait_rc, IL_ECANCELED);
  assert_int_equal(p->kids_done_at_return, 1); /* awaited first */
  for (int i = 0; i < 3; i++)
    assert_int_equal(p->jobs[i].sleep_rc, IL_ECANCELED);
  for (int i = 1; i < 3; i++)
    assert_int_equal(il_future_cancelled(p->kids[i]), 1);
  assert_int_equal(p->count, 0); /* cancellations are no failures */
  assert_int_equal(p->cancelling_after, 1);
  assert_int_equal(il_future_cancelled(t), 1);
  for (int i = 1; i < 3; i++)
    il_future_unref(p->kids[i]);
  il_future_unref(t);
  /* Cancelled before the wait: the wait cancels the children. */
  memset(p, 0, sizeof(*p));
  p->jobs[0] = job(5.0, 0, NULL, NULL);
  p->jobs[1] = job(5.0, 0, NULL, NULL);
  t = spawn(ctx->loop, group_cancelled_before_wait_body, p);
  p->jobs[1].cancel_when_asleep = t;
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECANCELED);
  assert_int_equal(p->await_rc, IL_ECANCELED);
  assert_int_equal(p->wait_rc, IL_ECANCELED);
  assert_int_equal(p->kids_done_at_return, 1);
  assert_int_equal(p->count, 0);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(p->jobs[i].sleep_rc, IL_ECANCELED);
    assert_int_equal(il_future_cancelled(p->kids[i]), 1);
    il_future_unref(p->kids[i]);
  }
  il_future_unref(t);
  free(p);
}

static int group_failing_spawn_body(il_task_t *self, void *arg) {
  group_probe_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_taskgroup_t *g = NULL;
  p->new_rc = il_taskgroup_new(loop, &g);
  if (p->new_rc < 0)
    return p->new_rc;
  p->spawn_rc[0] = il_taskgroup_spawn(g, job_body, &p->jobs[0], NULL, NULL);
  p->spawn_rc[1] =
      il_taskgroup_spawn(g, job_body, &p->jobs[1], NULL, &p->kids[1]);
  p->await_rc = il_sleep(loop, 5.0);
  /* The group is shutting down after the failure: refused. */
  il_task_t *late = NULL;
  p->late_spawn_rc = il_taskgroup_spawn(g, late_body, p, NULL, &late);
  CHECK(late == NULL);
  p->wait_rc = il_taskgroup_wait(g);
  read_group_errors(p, g);
  p->second_wait_rc = il_taskgroup_spawn(g, late_body, p, NULL, NULL);
  il_taskgroup_free(g);
  CHECK_EQ(il_yield(loop), 0);
  return 0;
}

IL_CONFORMANCE_TEST(test_taskgroup_spawn_into_failing_group_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  group_probe_t *p = calloc(1, sizeof(*p));
  p->jobs[0] = job(0.01, IL_EIO, "child broke", NULL);
  p->jobs[1] = job(5.0, 0, NULL, NULL);
  il_task_t *t = spawn(ctx->loop, group_failing_spawn_body, p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(p->await_rc, IL_ECANCELED);
  assert_int_equal(p->late_spawn_rc, IL_EINVALSTATE);
  assert_int_equal(p->wait_rc, IL_EIO);
  assert_int_equal(p->count, 1);
  assert_int_equal(p->second_wait_rc, IL_EINVALSTATE); /* after wait too */
  assert_int_equal(p->late_ran, 0);
  assert_int_equal(il_future_cancelled(p->kids[1]), 1);
  il_future_unref(p->kids[1]);
  il_future_unref(t);
  free(p);
}

typedef struct group_owner {
  il_taskgroup_t *g;
  int intruder_wait_rc, intruder_new_rc, wait_rc;
} group_owner_t;

static int group_intruder_body(il_task_t *self, void *arg) {
  (void)self;
  group_owner_t *o = arg;
  o->intruder_wait_rc = il_taskgroup_wait(o->g);
  return 0;
}

static int group_owner_body(il_task_t *self, void *arg) {
  group_owner_t *o = arg;
  il_loop_t *loop = il_future_loop(self);
  job_t j = job(0.02, 0, NULL, NULL);
  if (il_taskgroup_new(loop, &o->g) < 0)
    return IL_ENOMEM;
  CHECK_EQ(il_taskgroup_spawn(o->g, job_body, &j, NULL, NULL), 0);
  il_task_t *intruder = NULL;
  CHECK_EQ(il_task_spawn(loop, group_intruder_body, o, NULL, &intruder), 0);
  CHECK_EQ(il_await(intruder, NULL), 0);
  il_future_unref(intruder);
  o->wait_rc = il_taskgroup_wait(o->g);
  il_taskgroup_free(o->g);
  return 0;
}

IL_CONFORMANCE_TEST(test_taskgroup_wait_only_by_parent) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  group_owner_t o = {NULL, 1, 1, 1};
  il_task_t *t = spawn(ctx->loop, group_owner_body, &o);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), 0);
  assert_checks();
  assert_int_equal(o.intruder_wait_rc, IL_ENOTASK);
  assert_int_equal(o.wait_rc, 0);
  il_taskgroup_t *g = NULL;
  assert_int_equal(il_taskgroup_new(ctx->loop, &g), IL_ENOTASK);
  assert_null(g);
  il_future_unref(t);
}

/* leaf (fails) -> gather in `middle` -> group in `top` -> run_until_complete */
typedef struct flow {
  job_t leaf, sibling;
  int gather_rc, sibling_rc, wait_rc, count, code0;
  char msg0[64];
} flow_t;

static int flow_middle_body(il_task_t *self, void *arg) {
  flow_t *p = arg;
  il_loop_t *loop = il_future_loop(self);
  il_future_t *kids[2] = {NULL, NULL}, *g = NULL;
  CHECK_EQ(il_task_spawn(loop, job_body, &p->leaf, NULL, &kids[0]), 0);
  CHECK_EQ(il_task_spawn(loop, job_body, &p->sibling, NULL, &kids[1]), 0);
  CHECK_EQ(il_gather(loop, kids, 2, IL_GATHER_DEFAULT, &g), 0);
  il_future_unref(kids[0]); /* the gather holds it; its error flows on */
  p->gather_rc = il_await(g, NULL);
  il_future_unref(g);
  p->sibling_rc = il_await(kids[1], NULL); /* it went on running */
  il_future_unref(kids[1]);
  return il_task_fail(self, p->gather_rc, "middle saw it");
}

static int flow_top_body(il_task_t *self, void *arg) {
  flow_t *p = arg;
  il_taskgroup_t *g = NULL;
  if (il_taskgroup_new(il_future_loop(self), &g) < 0)
    return IL_ENOMEM;
  CHECK_EQ(il_taskgroup_spawn(g, flow_middle_body, p, NULL, NULL), 0);
  p->wait_rc = il_taskgroup_wait(g);
  p->count = il_taskgroup_error_count(g);
  const char *m = NULL;
  p->code0 = il_taskgroup_error(g, 0, &m);
  snprintf(p->msg0, sizeof(p->msg0), "%s", m ? m : "(null)");
  il_taskgroup_free(g);
  return p->wait_rc;
}

IL_CONFORMANCE_TEST(test_error_codes_flow_through_gather_and_groups) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int vs;
  flow_t p;
  memset(&p, 0, sizeof(p));
  p.leaf = job(0.01, IL_ECONNRESET, "peer reset", NULL);
  p.sibling = job(0.03, 0, NULL, &vs);
  p.gather_rc = p.sibling_rc = p.wait_rc = 1;
  il_task_t *t = spawn(ctx->loop, flow_top_body, &p);
  assert_int_equal(run_until_done(ctx->loop, t, 5.0, NULL), IL_ECONNRESET);
  assert_checks();
  assert_int_equal(p.gather_rc, IL_ECONNRESET);
  assert_int_equal(p.sibling_rc, 0);
  assert_int_equal(p.wait_rc, IL_ECONNRESET);
  assert_int_equal(p.count, 1);
  assert_int_equal(p.code0, IL_ECONNRESET);
  assert_string_equal(p.msg0, "middle saw it");
  il_future_unref(t);
  /* Every error reached someone who read it: nothing reported. */
  assert_int_equal(ctx->nerrors, 0);
}
