/* conformance/tests_timers.c — SPEC.md §4.4: call_later and call_at. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>

typedef struct fire {
  il_handle_t *h;
  double fired_at;
  double scheduled_at;
  double delay;
  int fired;
} fire_t;

static int record_fire(il_loop_t *loop, void *arg) {
  fire_t *f = arg;
  f->fired_at = il_loop_time(loop);
  f->fired++;
  return 0;
}

IL_CONFORMANCE_TEST(test_call_later_never_early) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 40 };
  fire_t f[N];
  for (int i = 0; i < N; i++) {
    f[i].fired = 0;
    f[i].delay = 0.0005 * (double)((i * 7) % N) + 0.0001 * (i % 3);
    f[i].scheduled_at = il_loop_time(ctx->loop);
    assert_int_equal(
        il_loop_call_later(ctx->loop, f[i].delay, record_fire, &f[i], &f[i].h),
        0);
  }
  for (int rounds = 0; rounds < 10000; rounds++) {
    int done = 1;
    for (int i = 0; i < N; i++)
      done &= f[i].fired;
    if (done)
      break;
    assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(f[i].fired, 1);
    assert_true(f[i].fired_at >= il_handle_when(f[i].h));
    assert_true(f[i].fired_at - f[i].scheduled_at >= f[i].delay);
    il_handle_release(f[i].h);
  }
}

IL_CONFORMANCE_TEST(test_call_at_absolute_deadline) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  fire_t f = {0};
  double when = il_loop_time(ctx->loop) + 0.03;
  assert_int_equal(il_loop_call_at(ctx->loop, when, record_fire, &f, &f.h), 0);
  double w = il_handle_when(f.h);
  assert_true(w >= when && w - when < 1e-6);
  volatile int *flag = &f.fired;
  assert_true(il_test_run_until(ctx->loop, flag, 5.0));
  assert_true(f.fired_at >= when);
  il_handle_release(f.h);
}

IL_CONFORMANCE_TEST(test_timer_deadline_order) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 60 };
  il_test_seq_t seq = {.n = 0};
  il_test_item_t items[N];
  double base = il_loop_time(ctx->loop) + 0.01;
  for (int i = 0; i < N; i++) {
    int k = (i * 37) % N; /* a permutation of 0..N-1 */
    items[i] = (il_test_item_t){&seq, k};
    assert_int_equal(il_loop_call_at(ctx->loop, base + 0.0007 * k,
                                     il_test_record_cb, &items[i], NULL),
                     0);
  }
  il_loop_call_at(ctx->loop, base + 0.0007 * N, il_test_stop_cb, NULL, NULL);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(seq.n, N);
  for (int i = 0; i < N; i++)
    assert_int_equal(seq.ids[i], i);
}

IL_CONFORMANCE_TEST(test_timer_equal_deadlines_fifo) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 50 };
  il_test_seq_t seq = {.n = 0};
  il_test_item_t items[2 * N];
  /* Far enough ahead that scheduling all of them (slow under sanitizers
   * and load) finishes before it: the "now" timers must all come first. */
  double when = il_loop_time(ctx->loop) + 0.1;
  for (int i = 0; i < N; i++) {
    items[i] = (il_test_item_t){&seq, i};
    assert_int_equal(
        il_loop_call_at(ctx->loop, when, il_test_record_cb, &items[i], NULL),
        0);
  }
  /* Zero delays are equal deadlines too ("now"), in order among themselves. */
  for (int i = N; i < 2 * N; i++) {
    items[i] = (il_test_item_t){&seq, i};
    assert_int_equal(
        il_loop_call_later(ctx->loop, 0, il_test_record_cb, &items[i], NULL),
        0);
  }
  il_loop_call_at(ctx->loop, when + 0.005, il_test_stop_cb, NULL, NULL);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(seq.n, 2 * N);
  for (int i = 0; i < N; i++)
    assert_int_equal(seq.ids[i], N + i); /* the "now" timers came first */
  for (int i = 0; i < N; i++)
    assert_int_equal(seq.ids[N + i], i);
}

IL_CONFORMANCE_TEST(test_timer_negative_delay_runs_soon) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_seq_t seq = {.n = 0};
  il_test_item_t a = {&seq, 1}, b = {&seq, 2}, c = {&seq, 3}, d = {&seq, 4};
  il_loop_call_soon(ctx->loop, il_test_record_cb, &a, NULL);
  assert_int_equal(
      il_loop_call_later(ctx->loop, -5.0, il_test_record_cb, &b, NULL), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, NAN, il_test_record_cb, &c, NULL), 0);
  assert_int_equal(
      il_loop_call_at(ctx->loop, -1.0, il_test_record_cb, &d, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(seq.n, 4);
  assert_int_equal(seq.ids[0], 1); /* already ready: first */
  /* call_at(-1) has the earliest deadline; b and c are "now". */
  assert_int_equal(seq.ids[1], 4);
  assert_int_equal(seq.ids[2], 2);
  assert_int_equal(seq.ids[3], 3);
}

IL_CONFORMANCE_TEST(test_timer_cancel) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_seq_t seq = {.n = 0};
  il_test_item_t one = {&seq, 1}, two = {&seq, 2};
  il_handle_t *h1, *h2;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.02, il_test_record_cb, &one, &h1), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.03, il_test_record_cb, &two, &h2), 0);
  il_loop_call_later(ctx->loop, 0.06, il_test_stop_cb, NULL, NULL);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.timers, 3);
  assert_int_equal(il_handle_cancel(h1), 1);
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.timers, 2);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(seq.n, 1);
  assert_int_equal(seq.ids[0], 2);
  assert_int_equal(il_handle_cancelled(h1), 1);
  assert_int_equal(il_handle_cancelled(h2), 0);
  assert_int_equal(il_handle_cancel(h2), 0);
  il_handle_release(h1);
  il_handle_release(h2);
}

IL_CONFORMANCE_TEST(test_timer_cancel_many_compacts) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 20000, KEEP = 5 };
  il_handle_t **hs = calloc(N, sizeof(*hs));
  il_test_seq_t *seq = calloc(1, sizeof(*seq));
  il_test_item_t items[KEEP];
  for (int i = 0; i < N; i++)
    assert_int_equal(il_loop_call_later(ctx->loop, 30.0 + i * 1e-6,
                                        il_test_stop_cb, NULL, &hs[i]),
                     0);
  for (int i = 0; i < KEEP; i++) {
    items[i] = (il_test_item_t){seq, i};
    il_loop_call_later(ctx->loop, 0.002 * (i + 1), il_test_record_cb, &items[i],
                       NULL);
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(il_handle_cancel(hs[i]), 1);
    il_handle_release(hs[i]);
  }
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.timers, KEEP);
  il_loop_call_later(ctx->loop, 0.002 * (KEEP + 1), il_test_stop_cb, NULL,
                     NULL);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(seq->n, KEEP);
  for (int i = 0; i < KEEP; i++)
    assert_int_equal(seq->ids[i], i);
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.timers, 0);
  free(hs);
  free(seq);
}

IL_CONFORMANCE_TEST(test_timer_subms_no_busy_spin) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* Twenty 1 µs sleeps, then twenty 0.5 ms sleeps: an engine with a
   * millisecond clock must round up, never down to a zero timeout that
   * spins until the deadline passes. Spinning shows as thousands of engine
   * iterations; a correct backend needs a handful per timer. */
  il_loop_stats_t st0 = IL_LOOP_STATS_INIT, st1 = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st0);
  for (int i = 0; i < 40; i++) {
    fire_t f = {0};
    double delay = i < 20 ? 1e-6 : 5e-4;
    double t0 = il_loop_time(ctx->loop); /* before: deadlines count from it */
    assert_int_equal(
        il_loop_call_later(ctx->loop, delay, record_fire, &f, &f.h), 0);
    while (!f.fired)
      assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
    assert_true(f.fired_at - t0 >= delay);
    il_handle_release(f.h);
  }
  il_loop_get_stats(ctx->loop, &st1);
  uint64_t iterations = st1.dispatches - st0.dispatches;
  if (iterations > 40 * 8)
    fail_msg("%llu engine iterations for 40 sub-millisecond timers: the "
             "backend spins",
             (unsigned long long)iterations);
}

IL_CONFORMANCE_TEST(test_timer_wakes_blocked_loop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  double t0 = il_loop_time(ctx->loop);
  il_handle_t *h;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.08, il_test_stop_cb, NULL, &h), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_DEFAULT), 0);
  double dt = il_loop_time(ctx->loop) - t0;
  assert_true(dt >= 0.08);
  assert_true(dt < 2.0);
  il_handle_release(h);
}
