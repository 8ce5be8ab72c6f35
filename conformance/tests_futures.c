/* conformance/tests_futures.c — SPEC.md §7: futures, done-callbacks and
 * il_loop_run_until_complete. */
#include "task_checks.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

/* A value whose destructor calls are counted. */
typedef struct counted {
  int freed;
} counted_t;

static void counted_free(void *p) {
  ((counted_t *)p)->freed++;
}

/* A done-callback that records what it saw. */
typedef struct seen {
  int calls;
  int done;      /* il_future_done() inside the callback */
  int cancelled; /* il_future_cancelled() inside the callback */
  il_future_t *f;
} seen_t;

static int seen_cb(il_future_t *f, void *arg) {
  seen_t *s = arg;
  s->calls++;
  s->done = il_future_done(f);
  s->cancelled = il_future_cancelled(f);
  s->f = f;
  return 0;
}

/* A done-callback appending its id to a sequence. */
static int record_done(il_future_t *f, void *arg) {
  (void)f;
  il_test_item_t *it = arg;
  it->seq->ids[it->seq->n++] = it->id;
  return 0;
}

static int count_done(il_future_t *f, void *arg) {
  (void)f;
  (*(int *)arg)++;
  return 0;
}

static int failing_done(il_future_t *f, void *arg) {
  (void)f;
  (void)arg;
  return IL_EIO;
}

/* Completes a future from a loop callback. */
typedef struct completer {
  il_future_t *f;
  void *value;
  int code; /* < 0: set_error with it */
  const char *message;
  int rc;
} completer_t;

static int complete_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  completer_t *c = arg;
  if (c->code < 0)
    c->rc = il_future_set_error(c->f, c->code, c->message);
  else
    c->rc = il_future_set_result(c->f, c->value, NULL);
  return 0;
}

/* ---- state --------------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_future_initial_state) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  assert_int_equal(il_future_done(f), 0);
  assert_int_equal(il_future_cancelled(f), 0);
  assert_ptr_equal(il_future_loop(f), ctx->loop);
  assert_int_equal(il_future_is_task(f), 0);
  assert_null(il_task_name(f));
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_result_pending_einvalstate) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  void *v = NULL;
  const char *m = NULL;
  assert_int_equal(il_future_result(f, &v), IL_EINVALSTATE);
  assert_int_equal(il_future_result(f, NULL), IL_EINVALSTATE);
  assert_int_equal(il_future_error(f, &m), IL_EINVALSTATE);
  assert_int_equal(il_future_error(f, NULL), IL_EINVALSTATE);
  /* Asking changed nothing. */
  assert_int_equal(il_future_done(f), 0);
  int x = 1;
  assert_int_equal(il_future_set_result(f, &x, NULL), 0);
  assert_int_equal(il_future_result(f, &v), 0);
  assert_ptr_equal(v, &x);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_set_result_then_result) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  int x = 42;
  assert_int_equal(il_future_set_result(f, &x, NULL), 0);
  assert_int_equal(il_future_done(f), 1);
  assert_int_equal(il_future_cancelled(f), 0);
  void *v = NULL;
  assert_int_equal(il_future_result(f, &v), 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(il_future_result(f, NULL), 0);
  const char *m = NULL;
  assert_int_equal(il_future_error(f, &m), 0);
  assert_non_null(m);
  assert_string_equal(m, "");
  /* A NULL result is a result. */
  il_future_t *g = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(g, NULL, NULL), 0);
  v = &x;
  assert_int_equal(il_future_result(g, &v), 0);
  assert_null(v);
  il_future_unref(g);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_set_error_then_error) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  char msg[32];
  strcpy(msg, "disk on fire");
  assert_int_equal(il_future_set_error(f, IL_EIO, msg), 0);
  strcpy(msg, "overwritten"); /* the message was copied */
  assert_int_equal(il_future_done(f), 1);
  assert_int_equal(il_future_cancelled(f), 0);
  const char *m = NULL;
  assert_int_equal(il_future_error(f, &m), IL_EIO);
  assert_string_equal(m, "disk on fire");
  assert_int_equal(il_future_result(f, NULL), IL_EIO);
  /* No message: "". */
  il_future_t *g = new_future(ctx->loop);
  assert_int_equal(il_future_set_error(g, IL_EPIPE, NULL), 0);
  assert_int_equal(il_future_error(g, &m), IL_EPIPE);
  assert_string_equal(m, "");
  il_future_unref(g);
  il_future_unref(f);
  assert_int_equal(ctx->nerrors, 0); /* both errors were retrieved */
}

IL_CONFORMANCE_TEST(test_future_set_error_rejects_bad_codes) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  assert_int_equal(il_future_set_error(f, 0, "zero"), IL_EINVAL);
  assert_int_equal(il_future_set_error(f, 5, "positive"), IL_EINVAL);
  assert_int_equal(il_future_set_error(f, IL_ECANCELED, "cancel"), IL_EINVAL);
  assert_int_equal(il_future_done(f), 0);
  assert_int_equal(il_future_cancelled(f), 0);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_cancel_with_reason) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  char why[32];
  strcpy(why, "shutting down");
  assert_int_equal(il_future_cancel(f, why), 1);
  strcpy(why, "overwritten");
  assert_int_equal(il_future_done(f), 1);
  assert_int_equal(il_future_cancelled(f), 1);
  void *v = &why;
  assert_int_equal(il_future_result(f, &v), IL_ECANCELED);
  const char *m = NULL;
  assert_int_equal(il_future_error(f, &m), IL_ECANCELED);
  assert_string_equal(m, "shutting down");
  /* A second cancel is refused and changes nothing. */
  assert_int_equal(il_future_cancel(f, "again"), 0);
  assert_int_equal(il_future_error(f, &m), IL_ECANCELED);
  assert_string_equal(m, "shutting down");
  /* No reason: "". */
  il_future_t *g = new_future(ctx->loop);
  assert_int_equal(il_future_cancel(g, NULL), 1);
  assert_int_equal(il_future_error(g, &m), IL_ECANCELED);
  assert_string_equal(m, "");
  il_future_unref(g);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_complete_done_future_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  counted_t a = {0}, b = {0};
  const char *m = NULL;
  void *v = NULL;

  il_future_t *fin = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(fin, &a, counted_free), 0);
  assert_int_equal(il_future_set_result(fin, &b, counted_free), IL_EINVALSTATE);
  assert_int_equal(il_future_set_error(fin, IL_EIO, "late"), IL_EINVALSTATE);
  assert_int_equal(il_future_cancel(fin, "late"), 0);
  assert_int_equal(il_future_cancelled(fin), 0);
  assert_int_equal(il_future_result(fin, &v), 0);
  assert_ptr_equal(v, &a);

  il_future_t *err = new_future(ctx->loop);
  assert_int_equal(il_future_set_error(err, IL_EIO, "first"), 0);
  assert_int_equal(il_future_set_result(err, &b, counted_free), IL_EINVALSTATE);
  assert_int_equal(il_future_set_error(err, IL_EPIPE, "second"),
                   IL_EINVALSTATE);
  assert_int_equal(il_future_cancel(err, "late"), 0);
  assert_int_equal(il_future_cancelled(err), 0);
  assert_int_equal(il_future_error(err, &m), IL_EIO);
  assert_string_equal(m, "first");

  il_future_t *can = new_future(ctx->loop);
  assert_int_equal(il_future_cancel(can, "why"), 1);
  assert_int_equal(il_future_set_result(can, &b, counted_free), IL_EINVALSTATE);
  assert_int_equal(il_future_set_error(can, IL_EPIPE, "second"),
                   IL_EINVALSTATE);
  assert_int_equal(il_future_cancel(can, "again"), 0);
  assert_int_equal(il_future_error(can, &m), IL_ECANCELED);
  assert_string_equal(m, "why");

  il_future_unref(fin);
  il_future_unref(err);
  il_future_unref(can);
  assert_int_equal(a.freed, 1);
  assert_int_equal(b.freed, 0); /* the refused value stayed the caller's */
}

/* ---- done-callbacks ------------------------------------------------------ */

typedef struct sync_probe {
  il_future_t *f;
  int calls;
  int after_set; /* calls right after set_result, inside a callback */
  int after_add; /* calls right after adding to a done future */
} sync_probe_t;

static int complete_and_add_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  sync_probe_t *p = arg;
  il_future_set_result(p->f, NULL, NULL);
  p->after_set = p->calls;
  il_future_add_done_callback(p->f, count_done, &p->calls);
  p->after_add = p->calls;
  return 0;
}

IL_CONFORMANCE_TEST(test_future_callbacks_never_synchronous) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* Outside the loop. */
  il_future_t *f = new_future(ctx->loop);
  seen_t s1 = {0}, s2 = {0};
  assert_int_equal(il_future_add_done_callback(f, seen_cb, &s1), 0);
  assert_int_equal(il_future_set_result(f, NULL, NULL), 0);
  assert_int_equal(s1.calls, 0);
  assert_int_equal(il_future_add_done_callback(f, seen_cb, &s2), 0);
  assert_int_equal(s2.calls, 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s1.calls, 1);
  assert_int_equal(s2.calls, 1);
  assert_ptr_equal(s1.f, f);
  assert_int_equal(s1.done, 1);
  assert_int_equal(s1.cancelled, 0);
  /* Cancellation schedules them too, and they see the cancelled state. */
  il_future_t *g = new_future(ctx->loop);
  seen_t s3 = {0};
  assert_int_equal(il_future_add_done_callback(g, seen_cb, &s3), 0);
  assert_int_equal(il_future_cancel(g, NULL), 1);
  assert_int_equal(s3.calls, 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s3.calls, 1);
  assert_int_equal(s3.cancelled, 1);
  /* Inside a running loop's callback. */
  sync_probe_t p = {new_future(ctx->loop), 0, -1, -1};
  assert_int_equal(il_future_add_done_callback(p.f, count_done, &p.calls), 0);
  assert_int_equal(il_loop_call_soon(ctx->loop, complete_and_add_cb, &p, NULL),
                   0);
  volatile int *flag = &p.calls;
  il_test_run_until(ctx->loop, flag, 5.0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(p.after_set, 0);
  assert_int_equal(p.after_add, 0);
  assert_int_equal(p.calls, 2);
  il_future_unref(p.f);
  il_future_unref(g);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_callbacks_call_soon_order) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_seq_t seq = {.n = 0};
  il_test_item_t it[12];
  for (int i = 0; i < 12; i++)
    it[i] = (il_test_item_t){&seq, i};
  il_future_t *f = new_future(ctx->loop);
  for (int i = 1; i <= 5; i++)
    assert_int_equal(il_future_add_done_callback(f, record_done, &it[i]), 0);
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_record_cb, &it[0], NULL), 0);
  il_loop_stats_t st0 = IL_LOOP_STATS_INIT, st1 = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(ctx->loop, &st0), 0);
  assert_int_equal(il_future_set_result(f, NULL, NULL), 0);
  /* Each done-callback is a callback of its own, queued like call_soon. */
  assert_int_equal(il_loop_get_stats(ctx->loop, &st1), 0);
  assert_int_equal(st1.ready - st0.ready, 5);
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_record_cb, &it[6], NULL), 0);
  assert_int_equal(il_future_add_done_callback(f, record_done, &it[7]), 0);
  assert_int_equal(il_future_add_done_callback(f, record_done, &it[8]), 0);
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_record_cb, &it[9], NULL), 0);
  assert_int_equal(seq.n, 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(seq.n, 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(seq.ids[i], i);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_remove_done_callback_count) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  int a = 0, b = 0;
  seen_t c = {0};
  assert_int_equal(il_future_add_done_callback(f, count_done, &a), 0);
  assert_int_equal(il_future_add_done_callback(f, count_done, &b), 0);
  assert_int_equal(il_future_add_done_callback(f, count_done, &a), 0);
  assert_int_equal(il_future_add_done_callback(f, seen_cb, &c), 0);
  assert_int_equal(il_future_add_done_callback(f, count_done, &a), 0);
  assert_int_equal(il_future_remove_done_callback(f, count_done, &a), 3);
  assert_int_equal(il_future_remove_done_callback(f, count_done, &a), 0);
  /* Same arg, other function: another registration. */
  assert_int_equal(il_future_remove_done_callback(f, seen_cb, &a), 0);
  assert_int_equal(il_future_set_result(f, NULL, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(a, 0);
  assert_int_equal(b, 1);
  assert_int_equal(c.calls, 1);
  /* Once scheduled, a callback can no longer be removed: it runs. */
  il_future_t *g = new_future(ctx->loop);
  int d = 0;
  assert_int_equal(il_future_add_done_callback(g, count_done, &d), 0);
  assert_int_equal(il_future_set_result(g, NULL, NULL), 0);
  assert_int_equal(il_future_remove_done_callback(g, count_done, &d), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(d, 1);
  il_future_unref(g);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_future_done_callback_error_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_future_t *f = new_future(ctx->loop);
  int after = 0;
  assert_int_equal(il_future_add_done_callback(f, failing_done, &after), 0);
  assert_int_equal(il_future_add_done_callback(f, count_done, &after), 0);
  assert_int_equal(il_future_set_result(f, NULL, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].code, IL_EIO);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_CALLBACK);
  assert_int_equal(after, 1); /* the next callback still ran */
  il_future_unref(f);
}

/* ---- unretrieved errors and ownership ------------------------------------ */

IL_CONFORMANCE_TEST(test_future_unretrieved_error_reported_at_free) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_future_t *f = new_future(ctx->loop);
  assert_int_equal(il_future_set_error(f, IL_EIO, "lost write"), 0);
  assert_int_equal(il_future_done(f), 1); /* reading state is no retrieval */
  assert_int_equal(il_future_cancelled(f), 0);
  assert_int_equal(ctx->nerrors, 0);
  il_future_unref(f);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].code, IL_EIO);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_FUTURE);
  /* The last reference may be a scheduled done-callback's: reported when
   * the loop lets go, after the callback ran. */
  il_future_t *g = new_future(ctx->loop);
  int calls = 0;
  assert_int_equal(il_future_add_done_callback(g, count_done, &calls), 0);
  assert_int_equal(il_future_set_error(g, IL_EPIPE, NULL), 0);
  il_future_unref(g);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(calls, 1);
  assert_int_equal(ctx->nerrors, 2);
  assert_int_equal(ctx->errors[1].code, IL_EPIPE);
  assert_int_equal(ctx->errors[1].source, IL_SOURCE_FUTURE);
}

IL_CONFORMANCE_TEST(test_future_retrieved_error_not_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_future_t *f1 = new_future(ctx->loop), *f2 = new_future(ctx->loop);
  il_future_t *f3 = new_future(ctx->loop), *f4 = new_future(ctx->loop);
  assert_int_equal(il_future_set_error(f1, IL_EIO, "read by error()"), 0);
  assert_int_equal(il_future_set_error(f2, IL_EIO, "read by result()"), 0);
  assert_int_equal(il_future_cancel(f3, "cancelled is no error"), 1);
  assert_int_equal(il_future_set_result(f4, NULL, NULL), 0);
  assert_int_equal(il_future_error(f1, NULL), IL_EIO);
  assert_int_equal(il_future_result(f2, NULL), IL_EIO);
  il_future_unref(f1);
  il_future_unref(f2);
  il_future_unref(f3);
  il_future_unref(f4);
  assert_int_equal(ctx->nerrors, 0);
}

IL_CONFORMANCE_TEST(test_future_result_destructor_once_at_last_unref) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  counted_t a = {0}, b = {0};
  il_future_t *f = new_future(ctx->loop);
  assert_ptr_equal(il_future_ref(f), f);
  seen_t s = {0};
  assert_int_equal(il_future_add_done_callback(f, seen_cb, &s), 0);
  assert_int_equal(il_future_set_result(f, &a, counted_free), 0);
  il_future_unref(f);
  il_future_unref(f);           /* the caller's references are gone ... */
  assert_int_equal(a.freed, 0); /* ... the scheduled callback holds one */
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s.calls, 1);
  assert_int_equal(a.freed, 1);
  /* A value a refused set_result did not take stays the caller's. */
  counted_t c = {0};
  il_future_t *g = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(g, &c, counted_free), 0);
  assert_int_equal(il_future_set_result(g, &b, counted_free), IL_EINVALSTATE);
  il_future_unref(g);
  assert_int_equal(c.freed, 1);
  assert_int_equal(b.freed, 0);
  /* No destructor: nothing called, nothing leaked. */
  il_future_t *h = new_future(ctx->loop);
  assert_int_equal(il_future_set_result(h, &b, NULL), 0);
  il_future_unref(h);
  assert_int_equal(b.freed, 0);
}

IL_CONFORMANCE_TEST(test_future_ref_keeps_alive) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  assert_null(il_future_ref(NULL));
  il_future_unref(NULL);
  counted_t a = {0};
  il_future_t *f = new_future(ctx->loop);
  assert_ptr_equal(il_future_ref(f), f);
  assert_ptr_equal(il_future_ref(f), f);
  il_future_unref(f);
  il_future_unref(f);
  /* One reference left: fully usable. */
  assert_int_equal(il_future_set_result(f, &a, counted_free), 0);
  void *v = NULL;
  assert_int_equal(il_future_result(f, &v), 0);
  assert_ptr_equal(v, &a);
  assert_int_equal(a.freed, 0);
  il_future_unref(f);
  assert_int_equal(a.freed, 1);
}

/* ---- run_until_complete -------------------------------------------------- */

IL_CONFORMANCE_TEST(test_run_until_complete_returns_result) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  int x = 7;
  completer_t c = {f, &x, 0, NULL, 1};
  int late = 0;
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, complete_cb, &c, NULL),
                   0);
  il_handle_t *h = NULL;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 5.0, il_test_count_cb, &late, &h), 0);
  void *v = NULL;
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, &v), 0);
  assert_int_equal(c.rc, 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(il_loop_is_running(ctx->loop), 0);
  assert_int_equal(late, 0); /* it stopped when f was done */
  /* A done future: returns at once, again. */
  v = NULL;
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, &v), 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, NULL), 0);
  assert_int_equal(late, 0);
  il_handle_cancel(h);
  il_handle_release(h);
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_run_until_complete_returns_error) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  completer_t c = {f, NULL, IL_EPIPE, "peer gone", 1};
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, complete_cb, &c, NULL),
                   0);
  void *v = &c;
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, &v), IL_EPIPE);
  assert_null(v);
  /* Cancelled: IL_ECANCELED. */
  il_future_t *g = new_future(ctx->loop);
  assert_int_equal(il_future_cancel(g, NULL), 1);
  assert_int_equal(il_loop_run_until_complete(ctx->loop, g, NULL),
                   IL_ECANCELED);
  il_future_unref(g);
  /* run_until_complete retrieved the error: nothing reported at free. */
  il_future_unref(f);
  assert_int_equal(ctx->nerrors, 0);
}

typedef struct reentry {
  il_future_t *f;
  int rc;
} reentry_t;

static int reenter_cb(il_loop_t *loop, void *arg) {
  reentry_t *r = arg;
  r->rc = il_loop_run_until_complete(loop, r->f, NULL);
  il_loop_stop(loop);
  return 0;
}

IL_CONFORMANCE_TEST(test_run_until_complete_from_callback_erunning) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  reentry_t r = {new_future(ctx->loop), 1};
  assert_int_equal(il_loop_call_soon(ctx->loop, reenter_cb, &r, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(r.rc, IL_ERUNNING);
  assert_int_equal(il_future_done(r.f), 0); /* nothing happened to f */
  /* The refused call left nothing behind: f completes and runs normally. */
  int x = 1;
  completer_t c = {r.f, &x, 0, NULL, 1};
  assert_int_equal(il_loop_call_soon(ctx->loop, complete_cb, &c, NULL), 0);
  void *v = NULL;
  assert_int_equal(il_loop_run_until_complete(ctx->loop, r.f, &v), 0);
  assert_ptr_equal(v, &x);
  il_future_unref(r.f);
}

IL_CONFORMANCE_TEST(test_run_until_complete_stopped_estopped) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = new_future(ctx->loop);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.01, il_test_stop_cb, NULL, NULL), 0);
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, NULL), IL_ESTOPPED);
  assert_int_equal(il_future_done(f), 0);
  assert_int_equal(il_future_cancelled(f), 0);
  assert_int_equal(il_loop_is_running(ctx->loop), 0);
  /* f is untouched: completing it later does not stop an unrelated run. */
  int x = 3;
  completer_t c = {f, &x, 0, NULL, 1};
  int late = 0;
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, complete_cb, &c, NULL),
                   0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.04, il_test_count_cb, &late, NULL), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.06, il_test_stop_cb, NULL, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(c.rc, 0);
  assert_int_equal(late, 1);
  void *v = NULL;
  assert_int_equal(il_loop_run_until_complete(ctx->loop, f, &v), 0);
  assert_ptr_equal(v, &x);
  il_future_unref(f);
}

/* ---- bad input, threads, close ------------------------------------------- */

static int noop_task(il_task_t *self, void *arg) {
  (void)self;
  (void)arg;
  return 0;
}

IL_CONFORMANCE_TEST(test_future_null_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  il_future_t *f = new_future(loop), *out = NULL;
  int x = 0;
  assert_int_equal(il_future_new(NULL, &out), IL_EINVAL);
  assert_int_equal(il_future_new(loop, NULL), IL_EINVAL);
  assert_int_equal(il_future_set_result(NULL, &x, NULL), IL_EINVAL);
  assert_int_equal(il_future_set_error(NULL, IL_EIO, NULL), IL_EINVAL);
  assert_int_equal(il_future_cancel(NULL, NULL), IL_EINVAL);
  assert_int_equal(il_future_done(NULL), 0);
  assert_int_equal(il_future_cancelled(NULL), 0);
  assert_int_equal(il_future_result(NULL, NULL), IL_EINVAL);
  assert_int_equal(il_future_error(NULL, NULL), IL_EINVAL);
  assert_null(il_future_loop(NULL));
  assert_int_equal(il_future_add_done_callback(NULL, count_done, &x),
                   IL_EINVAL);
  assert_int_equal(il_future_add_done_callback(f, NULL, &x), IL_EINVAL);
  assert_int_equal(il_future_remove_done_callback(NULL, count_done, &x),
                   IL_EINVAL);
  assert_int_equal(il_future_remove_done_callback(f, NULL, &x), IL_EINVAL);
  assert_int_equal(il_loop_run_until_complete(NULL, f, NULL), IL_EINVAL);
  assert_int_equal(il_loop_run_until_complete(loop, NULL, NULL), IL_EINVAL);
  il_future_t *kids[2] = {f, NULL};
  assert_int_equal(il_gather(loop, kids, 1, IL_GATHER_DEFAULT, NULL),
                   IL_EINVAL);
  assert_int_equal(il_gather(loop, NULL, 1, IL_GATHER_DEFAULT, &out),
                   IL_EINVAL);
  assert_int_equal(il_gather(loop, kids, 2, IL_GATHER_DEFAULT, &out),
                   IL_EINVAL);
  assert_int_equal(il_gather(loop, kids, 1, 0x40, &out), IL_EINVAL);
  assert_int_equal(il_gather(NULL, kids, 1, IL_GATHER_DEFAULT, &out),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, kids, 1, IL_WAIT_ALL_COMPLETED, -1.0, NULL),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, kids, 0, IL_WAIT_ALL_COMPLETED, -1.0, &out),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, NULL, 1, IL_WAIT_ALL_COMPLETED, -1.0, &out),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, kids, 2, IL_WAIT_ALL_COMPLETED, -1.0, &out),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, kids, 1, (il_wait_mode_t)0, -1.0, &out),
                   IL_EINVAL);
  assert_int_equal(il_wait(loop, kids, 1, (il_wait_mode_t)9, -1.0, &out),
                   IL_EINVAL);
  assert_int_equal(il_shield(NULL, &out), IL_EINVAL);
  assert_int_equal(il_shield(f, NULL), IL_EINVAL);
  assert_null(out);
  /* None of it touched f. */
  assert_int_equal(il_future_done(f), 0);
  assert_int_equal(il_future_set_result(f, NULL, NULL), 0);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  il_future_unref(f);
}

typedef struct intruder {
  il_loop_t *loop;
  il_future_t *f;
  int calls;
  int new_rc, set_result, set_error, cancel, result, error, add_cb, remove_cb;
  int ruc, gather, wait, shield, spawn;
  il_future_t *made;
} intruder_t;

static void *intrude(void *arg) {
  intruder_t *in = arg;
  il_future_t *out = NULL;
  in->new_rc = il_future_new(in->loop, &out);
  if (out)
    in->made = out;
  in->set_result = il_future_set_result(in->f, NULL, NULL);
  in->set_error = il_future_set_error(in->f, IL_EIO, "intruder");
  in->cancel = il_future_cancel(in->f, "intruder");
  in->result = il_future_result(in->f, NULL);
  in->error = il_future_error(in->f, NULL);
  in->add_cb = il_future_add_done_callback(in->f, count_done, &in->calls);
  in->remove_cb = il_future_remove_done_callback(in->f, count_done, &in->calls);
  in->ruc = il_loop_run_until_complete(in->loop, in->f, NULL);
  out = NULL;
  in->gather = il_gather(in->loop, &in->f, 1, IL_GATHER_DEFAULT, &out);
  if (out)
    in->made = out;
  out = NULL;
  in->wait = il_wait(in->loop, &in->f, 1, IL_WAIT_ALL_COMPLETED, -1.0, &out);
  if (out)
    in->made = out;
  out = NULL;
  in->shield = il_shield(in->f, &out);
  if (out)
    in->made = out;
  out = NULL;
  in->spawn = il_task_spawn(in->loop, noop_task, NULL, NULL, &out);
  if (out)
    in->made = out;
  return NULL;
}

static int intrude_cb(il_loop_t *loop, void *arg) {
  pthread_t t;
  if (pthread_create(&t, NULL, intrude, arg) == 0)
    pthread_join(t, NULL);
  return il_loop_stop(loop);
}

IL_CONFORMANCE_TEST(test_future_wrong_thread_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  intruder_t in;
  memset(&in, 0, sizeof(in));
  in.loop = ctx->loop;
  in.f = new_future(ctx->loop);
  assert_int_equal(il_loop_call_soon(ctx->loop, intrude_cb, &in, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(in.new_rc, IL_EWRONGTHREAD);
  assert_int_equal(in.set_result, IL_EWRONGTHREAD);
  assert_int_equal(in.set_error, IL_EWRONGTHREAD);
  assert_int_equal(in.cancel, IL_EWRONGTHREAD);
  assert_int_equal(in.result, IL_EWRONGTHREAD);
  assert_int_equal(in.error, IL_EWRONGTHREAD);
  assert_int_equal(in.add_cb, IL_EWRONGTHREAD);
  assert_int_equal(in.remove_cb, IL_EWRONGTHREAD);
  assert_int_equal(in.ruc, IL_EWRONGTHREAD);
  assert_int_equal(in.gather, IL_EWRONGTHREAD);
  assert_int_equal(in.wait, IL_EWRONGTHREAD);
  assert_int_equal(in.shield, IL_EWRONGTHREAD);
  assert_int_equal(in.spawn, IL_EWRONGTHREAD);
  assert_null(in.made);
  /* Nothing changed: f is pending and has no callback. */
  assert_int_equal(il_future_done(in.f), 0);
  assert_int_equal(il_future_set_result(in.f, NULL, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(in.calls, 0);
  il_future_unref(in.f);
}

IL_CONFORMANCE_TEST(test_future_outlives_loop_close) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  counted_t a = {0}, b = {0};
  int pending_calls = 0, done_calls = 0;
  il_future_t *pending = new_future(ctx->loop);
  il_future_t *done = new_future(ctx->loop);
  assert_int_equal(
      il_future_add_done_callback(pending, count_done, &pending_calls), 0);
  assert_int_equal(il_future_add_done_callback(done, count_done, &done_calls),
                   0);
  assert_int_equal(il_future_set_result(done, &a, counted_free), 0);
  /* done's callback is queued, not run, when the loop closes. */
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(done_calls, 0);
  assert_ptr_equal(il_future_loop(pending), ctx->loop);
  assert_int_equal(il_future_done(pending), 0);
  void *v = NULL;
  assert_int_equal(il_future_result(done, &v), 0);
  assert_ptr_equal(v, &a);
  assert_int_equal(a.freed, 0);
  /* Completing after close is fine; nothing can run the callbacks. */
  assert_int_equal(il_future_set_result(pending, &b, counted_free), 0);
  assert_int_equal(il_future_result(pending, &v), 0);
  assert_ptr_equal(v, &b);
  assert_int_equal(
      il_future_add_done_callback(pending, count_done, &pending_calls),
      IL_ECLOSED);
  il_future_t *out = NULL;
  assert_int_equal(il_future_new(ctx->loop, &out), IL_ECLOSED);
  assert_null(out);
  assert_int_equal(pending_calls, 0);
  assert_int_equal(done_calls, 0);
  il_future_unref(pending);
  il_future_unref(done);
  assert_int_equal(a.freed, 1);
  assert_int_equal(b.freed, 1);
}
