/* conformance/tests_loop.c — SPEC.md §2–§4.3: version, errors, lifecycle,
 * running, callbacks. */
#include "harness.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- §2 version, §3 errors ------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_version_matches_header) {
  (void)state;
  assert_int_equal(il_version(), IL_VERSION_HEX);
  assert_string_equal(il_version_string(), IL_VERSION_STRING);
}

IL_CONFORMANCE_TEST(test_error_table_names_and_messages) {
  (void)state;
  static const struct {
    int code;
    const char *name;
  } table[] = {
#define ENTRY(name, value, msg) {IL_##name, "IL_" #name},
      IL_ERRNO_MAP(ENTRY)
#undef ENTRY
  };
  size_t n = sizeof(table) / sizeof(table[0]);
  for (size_t i = 0; i < n; i++) {
    assert_true(table[i].code < 0);
    assert_string_equal(il_err_name(table[i].code), table[i].name);
    assert_string_not_equal(il_strerror(table[i].code), "unknown error");
    for (size_t j = i + 1; j < n; j++)
      assert_int_not_equal(table[i].code, table[j].code);
  }
  /* Published values never change. */
  assert_int_equal(IL_EINVAL, -22);
  assert_int_equal(IL_ECANCELED, -125);
  assert_int_equal(IL_ETIMEDOUT, -110);
  assert_int_equal(IL_ENOTSUP, -95);
  assert_int_equal(IL_ECLOSED, -4001);
  assert_int_equal(IL_EINVALSTATE, -4002);
  assert_int_equal(IL_EOF, -4095);
  assert_string_equal(il_err_name(-3999), "IL_EUNKNOWN");
  assert_string_equal(il_strerror(12345), "unknown error");
  assert_int_equal(il_translate_sys_error(22), IL_EINVAL);
  assert_int_equal(il_translate_sys_error(0), 0);
}

/* ---- §4.1 lifecycle -------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_unknown_backend_names_available) {
  (void)state;
  il_loop_t *loop = (il_loop_t *)0x1;
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = "nosuch";
  assert_int_equal(il_loop_new(&loop, &opts), IL_ENOBACKEND);
  assert_null(loop);
  const char *msg = il_loop_last_error_message();
  assert_non_null(strstr(msg, "nosuch"));
  assert_non_null(strstr(msg, "available"));
  assert_non_null(strstr(msg, "builtin"));

  opts.backend = "/nonexistent/libinterloop-x.so";
  assert_int_equal(il_loop_new(&loop, &opts), IL_ENOBACKEND);
  assert_non_null(strstr(il_loop_last_error_message(), "/nonexistent/"));

  const il_backend_ops_t *ops = (const il_backend_ops_t *)0x1;
  assert_int_equal(il_backend_load("../etc", &ops), IL_ENOBACKEND);
  assert_null(ops);
  const char *names[16];
  size_t n = il_backend_names(names, 16);
  assert_true(n >= 2);
  assert_string_equal(names[0], "builtin");
}

static int dummy_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  return 0;
}

static int dummy_io(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (void)arg;
  return 0;
}

static int dummy_sig(il_loop_t *loop, int signum, void *arg) {
  (void)loop;
  (void)signum;
  (void)arg;
  return 0;
}

IL_CONFORMANCE_TEST(test_null_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  il_handle_t *h = (il_handle_t *)0x1;
  assert_int_equal(il_loop_new(NULL, NULL), IL_EINVAL);
  il_loop_options_t small = IL_LOOP_OPTIONS_INIT;
  small.size = 1;
  il_loop_t *out;
  assert_int_equal(il_loop_new(&out, &small), IL_EINVAL);
  assert_int_equal(il_loop_new_with_backend(&out, NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_run(NULL, IL_RUN_NOWAIT), IL_EINVAL);
  assert_int_equal(il_loop_run(loop, (il_run_mode_t)7), IL_EINVAL);
  assert_int_equal(il_loop_stop(NULL), IL_EINVAL);
  assert_int_equal(il_loop_close(NULL), IL_EINVAL);
  assert_int_equal(il_loop_free(NULL), 0);
  assert_int_equal(il_loop_call_soon(NULL, dummy_cb, NULL, &h), IL_EINVAL);
  assert_null(h);
  assert_int_equal(il_loop_call_soon(loop, NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_call_later(NULL, 1, dummy_cb, NULL, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_call_later(loop, 1, NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_call_at(NULL, 1, dummy_cb, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_call_at(loop, 1, NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_call_soon_threadsafe(NULL, dummy_cb, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_call_soon_threadsafe(loop, NULL, NULL), IL_EINVAL);
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_add_reader(NULL, fds[0], dummy_io, NULL), IL_EINVAL);
  assert_int_equal(il_loop_add_reader(loop, -1, dummy_io, NULL), IL_EINVAL);
  assert_int_equal(il_loop_add_reader(loop, fds[0], NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_add_writer(loop, fds[0], NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_remove_reader(NULL, 0), IL_EINVAL);
  assert_int_equal(il_loop_remove_reader(loop, -1), IL_EINVAL);
  assert_int_equal(il_loop_remove_writer(NULL, 0), IL_EINVAL);
  assert_int_equal(il_loop_add_signal_handler(NULL, SIGUSR1, dummy_sig, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_add_signal_handler(loop, SIGKILL, dummy_sig, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_add_signal_handler(loop, 0, dummy_sig, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_add_signal_handler(loop, 999, dummy_sig, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_add_signal_handler(loop, SIGUSR1, NULL, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_remove_signal_handler(NULL, SIGUSR1), IL_EINVAL);
  assert_int_equal(il_loop_set_error_handler(NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_report_error(NULL, IL_EIO, "x"), IL_EINVAL);
  assert_int_equal(il_loop_get_stats(loop, NULL), IL_EINVAL);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  st.size = 3;
  assert_int_equal(il_loop_get_stats(loop, &st), IL_EINVAL);
  assert_int_equal(il_loop_set_data(NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_loop_fork(NULL), IL_EINVAL);
  assert_int_equal(il_handle_cancel(NULL), IL_EINVAL);
  il_handle_release(NULL);
  assert_int_equal(il_handle_cancelled(NULL), 0);
  assert_true(il_handle_when(NULL) < 0);
  assert_int_equal(il_loop_is_running(NULL), 0);
  assert_int_equal(il_loop_is_closed(NULL), 0);
  assert_true(il_loop_time(NULL) < 0);
  assert_int_equal(il_loop_time_ns(NULL), 0);
  assert_null(il_loop_backend_name(NULL));
  assert_null(il_loop_get_data(NULL));
  assert_int_equal(il_backend_load(NULL, NULL), IL_EINVAL);
  /* None of it registered anything. */
  assert_int_equal(
      il_loop_get_stats(loop, &(il_loop_stats_t)IL_LOOP_STATS_INIT), 0);
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_backend_name_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  assert_string_equal(il_loop_backend_name(ctx->loop), ctx->ops->name);
  assert_ptr_equal(il_loop_backend_ops(ctx->loop), ctx->ops);
  const char *v = il_loop_engine_version(ctx->loop);
  assert_non_null(v);
  assert_true(strlen(v) > 0);
  assert_int_equal(il_loop_is_adopted(ctx->loop), ctx->adopted);
  if (ctx->adopted)
    assert_ptr_equal(il_loop_engine_loop(ctx->loop), ctx->foreign);
}

typedef struct close_probe {
  int rc;
  int running;
  int ran;
} close_probe_t;

static int try_close_cb(il_loop_t *loop, void *arg) {
  close_probe_t *p = arg;
  p->rc = il_loop_close(loop);
  p->running = il_loop_is_running(loop);
  p->ran++;
  il_loop_stop(loop);
  return 0;
}

IL_CONFORMANCE_TEST(test_close_while_running_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  close_probe_t p = {0, 0, 0};
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, try_close_cb, &p, NULL),
                   0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(p.ran, 1);
  assert_int_equal(p.rc, IL_ERUNNING);
  assert_int_equal(p.running, 1);
  assert_int_equal(il_loop_is_closed(ctx->loop), 0);
  /* Still fully usable. */
  volatile int n = 0;
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(n, 1);
}

static int try_close_io(il_loop_t *loop, int fd, void *arg) {
  close_probe_t *p = arg;
  p->rc = il_loop_close(loop);
  p->ran++;
  il_loop_remove_reader(loop, fd);
  return 0;
}

IL_CONFORMANCE_TEST(test_close_inside_callback_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* From an fd callback, and — in adopted mode — while the application
   * drives the engine itself (not inside il_loop_run). */
  int fds[2];
  il_test_socketpair(fds);
  close_probe_t p = {0, 0, 0};
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], try_close_io, &p), 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  for (int i = 0; i < 200 && !p.ran; i++) {
    if (ctx->adopted)
      assert_int_equal(ctx->ops->foreign_run(ctx->foreign, IL_RUN_ONCE), 0);
    else
      assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  }
  assert_int_equal(p.ran, 1);
  assert_int_equal(p.rc, IL_ERUNNING);
  assert_int_equal(il_loop_is_closed(ctx->loop), 0);
  close_probe_t q = {0, 0, 0};
  assert_int_equal(il_loop_call_soon(ctx->loop, try_close_cb, &q, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(q.rc, IL_ERUNNING);
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_calls_after_close_return_eclosed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_close(loop), 0);
  assert_int_equal(il_loop_is_closed(loop), 1);
  il_handle_t *h = (il_handle_t *)0x1;
  assert_int_equal(il_loop_call_soon(loop, dummy_cb, NULL, &h), IL_ECLOSED);
  assert_null(h);
  assert_int_equal(il_loop_call_later(loop, 0.1, dummy_cb, NULL, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_call_at(loop, 0.1, dummy_cb, NULL, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_call_soon_threadsafe(loop, dummy_cb, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_add_reader(loop, fds[0], dummy_io, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_add_writer(loop, fds[0], dummy_io, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_add_signal_handler(loop, SIGUSR1, dummy_sig, NULL),
                   IL_ECLOSED);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), IL_ECLOSED);
  assert_int_equal(il_loop_run(loop, IL_RUN_DEFAULT), IL_ECLOSED);
  assert_int_equal(il_loop_stop(loop), IL_ECLOSED);
  assert_int_equal(il_loop_set_error_handler(loop, NULL, NULL), IL_ECLOSED);
  assert_int_equal(il_loop_report_error(loop, IL_EIO, NULL), IL_ECLOSED);
  assert_int_equal(il_loop_set_data(loop, NULL, NULL), IL_ECLOSED);
  assert_int_equal(il_loop_fork(loop), IL_ECLOSED);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), IL_ECLOSED);
  assert_int_equal(il_loop_close(loop), IL_ECLOSED);
  assert_null(il_loop_engine_loop(loop));
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_remove_after_close_reports_nothing) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], dummy_io, NULL), 0);
  assert_int_equal(il_loop_add_writer(ctx->loop, fds[0], dummy_io, NULL), 0);
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 0);
  assert_int_equal(il_loop_remove_writer(ctx->loop, fds[0]), 0);
  assert_int_equal(il_loop_remove_signal_handler(ctx->loop, SIGUSR1), 0);
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_close_drops_pending_as_cancelled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int ran = 0;
  il_handle_t *h1, *h2;
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&ran, &h1), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 10.0, il_test_count_cb, (void *)&ran, &h2),
      0);
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(ran, 0);
  assert_int_equal(il_handle_cancelled(h1), 1);
  assert_int_equal(il_handle_cancelled(h2), 1);
  assert_int_equal(il_handle_cancel(h1), 0);
  il_handle_release(h1);
  il_handle_release(h2);
}

static int data_freed;
static void data_dtor(void *p) {
  data_freed += *(int *)p;
}

IL_CONFORMANCE_TEST(test_loop_data_destructor_at_close) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  static int one = 1, ten = 10;
  data_freed = 0;
  assert_int_equal(il_loop_set_data(ctx->loop, &one, data_dtor), 0);
  assert_ptr_equal(il_loop_get_data(ctx->loop), &one);
  assert_int_equal(il_loop_set_data(ctx->loop, &ten, data_dtor), 0);
  assert_int_equal(data_freed, 1); /* the replaced one */
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(data_freed, 11);
}

/* ---- §4.2 running ----------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_run_default_until_stop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int n = 0;
  double t0 = il_loop_time(ctx->loop);
  il_handle_t *h;
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, NULL), 0);
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.05, il_test_stop_cb, NULL, &h), 0);
  assert_int_equal(il_loop_is_running(ctx->loop), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_DEFAULT), 0);
  assert_true(il_loop_time(ctx->loop) >= il_handle_when(h));
  assert_true(il_loop_time(ctx->loop) - t0 >= 0.05);
  assert_int_equal(n, 1);
  assert_int_equal(il_loop_is_running(ctx->loop), 0);
  il_handle_release(h);
}

typedef struct chain {
  il_test_seq_t seq;
  il_test_item_t a, b, c, d;
} chain_t;

static int schedule_b(il_loop_t *loop, void *arg) {
  chain_t *c = arg;
  il_test_record_cb(loop, &c->a);
  return il_loop_call_soon(loop, il_test_record_cb, &c->b, NULL);
}

IL_CONFORMANCE_TEST(test_run_once_runs_one_pass) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  chain_t c = {.a = {&c.seq, 1}, .b = {&c.seq, 2}};
  assert_int_equal(il_loop_call_soon(ctx->loop, schedule_b, &c, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(c.seq.n, 1);
  assert_int_equal(c.seq.ids[0], 1);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(c.seq.n, 2);
  assert_int_equal(c.seq.ids[1], 2);
}

IL_CONFORMANCE_TEST(test_run_once_blocks_until_work) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int n = 0;
  il_handle_t *h;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 0.05, il_test_count_cb, (void *)&n, &h), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(n, 1);
  assert_true(il_loop_time(ctx->loop) >= il_handle_when(h));
  il_handle_release(h);
}

IL_CONFORMANCE_TEST(test_run_nowait_never_blocks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int later = 0, soon = 0;
  il_handle_t *h;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 2.0, il_test_count_cb, (void *)&later, &h),
      0);
  double t0 = il_loop_time(ctx->loop);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_true(il_loop_time(ctx->loop) - t0 < 1.0);
  assert_int_equal(later, 0);
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&soon, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(soon, 1);
  assert_int_equal(il_handle_cancel(h), 1);
  il_handle_release(h);
}

typedef struct reentry {
  int rc_default, rc_once, rc_nowait;
} reentry_t;

static int try_reenter(il_loop_t *loop, void *arg) {
  reentry_t *r = arg;
  r->rc_default = il_loop_run(loop, IL_RUN_DEFAULT);
  r->rc_once = il_loop_run(loop, IL_RUN_ONCE);
  r->rc_nowait = il_loop_run(loop, IL_RUN_NOWAIT);
  return 0;
}

IL_CONFORMANCE_TEST(test_run_reentrant_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  reentry_t r = {1, 1, 1};
  volatile int after = 0;
  assert_int_equal(il_loop_call_soon(ctx->loop, try_reenter, &r, NULL), 0);
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&after, NULL), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(r.rc_default, IL_ERUNNING);
  assert_int_equal(r.rc_once, IL_ERUNNING);
  assert_int_equal(r.rc_nowait, IL_ERUNNING);
  assert_int_equal(after, 1);
}

typedef struct stopper {
  il_test_seq_t seq;
  il_test_item_t a, b, c, d;
} stopper_t;

static int stop_and_schedule(il_loop_t *loop, void *arg) {
  stopper_t *s = arg;
  il_test_record_cb(loop, &s->b);
  il_loop_stop(loop);
  return il_loop_call_soon(loop, il_test_record_cb, &s->d, NULL);
}

IL_CONFORMANCE_TEST(test_stop_inside_callback_finishes_pass) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  stopper_t s = {
      .a = {&s.seq, 1}, .b = {&s.seq, 2}, .c = {&s.seq, 3}, .d = {&s.seq, 4}};
  il_loop_call_soon(ctx->loop, il_test_record_cb, &s.a, NULL);
  il_loop_call_soon(ctx->loop, stop_and_schedule, &s, NULL);
  il_loop_call_soon(ctx->loop, il_test_record_cb, &s.c, NULL);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(s.seq.n, 3);
  assert_int_equal(s.seq.ids[0], 1);
  assert_int_equal(s.seq.ids[1], 2);
  assert_int_equal(s.seq.ids[2], 3);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(s.seq.n, 4);
  assert_int_equal(s.seq.ids[3], 4);
}

IL_CONFORMANCE_TEST(test_stop_before_run_one_nonblocking_pass) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  chain_t c = {.a = {&c.seq, 1}, .b = {&c.seq, 2}};
  il_handle_t *h;
  volatile int late = 0;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 2.0, il_test_count_cb, (void *)&late, &h),
      0);
  assert_int_equal(il_loop_stop(ctx->loop), 0);
  assert_int_equal(il_loop_call_soon(ctx->loop, schedule_b, &c, NULL), 0);
  double t0 = il_loop_time(ctx->loop);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_DEFAULT), 0);
  assert_true(il_loop_time(ctx->loop) - t0 < 1.0);
  assert_int_equal(c.seq.n, 1); /* one pass: b waits */
  assert_int_equal(late, 0);
  /* The stop request was consumed: the next run works normally. */
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(c.seq.n, 2);
  assert_int_equal(il_handle_cancel(h), 1);
  il_handle_release(h);
}

IL_CONFORMANCE_TEST(test_loop_time_monotonic) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  double prev = il_loop_time(ctx->loop);
  uint64_t prev_ns = il_loop_time_ns(ctx->loop);
  for (int i = 0; i < 10000; i++) {
    double t = il_loop_time(ctx->loop);
    uint64_t ns = il_loop_time_ns(ctx->loop);
    assert_true(t >= prev);
    assert_true(ns >= prev_ns);
    prev = t;
    prev_ns = ns;
  }
  assert_true(fabs((double)il_loop_time_ns(ctx->loop) / 1e9 -
                   il_loop_time(ctx->loop)) < 0.01);
  double t0 = il_loop_time(ctx->loop);
  il_test_sleep(0.02);
  assert_true(il_loop_time(ctx->loop) - t0 >= 0.02);
}

/* ---- §4.3 callbacks ---------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_call_soon_fifo) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  static il_test_seq_t seq;
  static il_test_item_t items[500];
  seq.n = 0;
  for (int i = 0; i < 500; i++) {
    items[i] = (il_test_item_t){&seq, i};
    assert_int_equal(
        il_loop_call_soon(ctx->loop, il_test_record_cb, &items[i], NULL), 0);
  }
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(seq.n, 500);
  for (int i = 0; i < 500; i++)
    assert_int_equal(seq.ids[i], i);
}

typedef struct nested {
  il_test_seq_t seq;
  il_test_item_t a, a2, b;
} nested_t;

static int a_schedules_a2(il_loop_t *loop, void *arg) {
  nested_t *n = arg;
  il_test_record_cb(loop, &n->a);
  return il_loop_call_soon(loop, il_test_record_cb, &n->a2, NULL);
}

IL_CONFORMANCE_TEST(test_call_soon_added_during_pass_runs_next_pass) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  nested_t n = {.a = {&n.seq, 1}, .a2 = {&n.seq, 3}, .b = {&n.seq, 2}};
  il_loop_call_soon(ctx->loop, a_schedules_a2, &n, NULL);
  il_loop_call_soon(ctx->loop, il_test_record_cb, &n.b, NULL);
  il_loop_stats_t st0 = IL_LOOP_STATS_INIT, st1 = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(n.seq.n, 2);
  assert_int_equal(n.seq.ids[0], 1);
  assert_int_equal(n.seq.ids[1], 2);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(n.seq.n, 3);
  assert_int_equal(n.seq.ids[2], 3);
  il_loop_get_stats(ctx->loop, &st1);
  assert_int_equal(st1.passes - st0.passes, 2);
}

typedef struct canceller {
  il_handle_t *victim;
  int rc;
} canceller_t;

static int cancel_other(il_loop_t *loop, void *arg) {
  (void)loop;
  canceller_t *c = arg;
  c->rc = il_handle_cancel(c->victim);
  return 0;
}

IL_CONFORMANCE_TEST(test_handle_cancel) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_seq_t seq = {.n = 0};
  il_test_item_t one = {&seq, 1}, two = {&seq, 2}, three = {&seq, 3};
  il_handle_t *h1, *h3;
  assert_int_equal(il_loop_call_soon(ctx->loop, il_test_record_cb, &one, &h1),
                   0);
  assert_non_null(h1);
  canceller_t c = {NULL, 0};
  il_loop_call_soon(ctx->loop, cancel_other, &c, NULL);
  il_loop_call_soon(ctx->loop, il_test_record_cb, &two, NULL);
  il_loop_call_soon(ctx->loop, il_test_record_cb, &three, &h3);
  c.victim = h3; /* cancelled by an earlier callback of the same pass */
  assert_int_equal(il_handle_cancel(h1), 1);
  assert_int_equal(il_handle_cancelled(h1), 1);
  assert_int_equal(il_handle_cancel(h1), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(seq.n, 1);
  assert_int_equal(seq.ids[0], 2);
  assert_int_equal(c.rc, 1);
  assert_int_equal(il_handle_cancelled(h3), 1);
  il_handle_release(h1);
  il_handle_release(h3);
}

IL_CONFORMANCE_TEST(test_handle_cancel_after_run_is_noop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  volatile int n = 0;
  il_handle_t *h;
  assert_int_equal(
      il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, &h), 0);
  assert_true(il_handle_when(h) < 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(n, 1);
  assert_int_equal(il_handle_cancel(h), 0);
  assert_int_equal(il_handle_cancelled(h), 0);
  il_handle_release(h);
}

IL_CONFORMANCE_TEST(test_handle_outlives_loop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_handle_t *h;
  assert_int_equal(il_loop_call_later(ctx->loop, 5.0, dummy_cb, NULL, &h), 0);
  double when = il_handle_when(h);
  assert_true(when > il_loop_time(ctx->loop));
  assert_int_equal(il_loop_free(ctx->loop), 0);
  ctx->loop = NULL;
  assert_int_equal(il_handle_cancelled(h), 1);
  assert_int_equal(il_handle_cancel(h), 0);
  assert_true(il_handle_when(h) == when);
  il_handle_release(h);
}

typedef struct chain_many {
  long left;
  long ran;
} chain_many_t;

static int chain_step(il_loop_t *loop, void *arg) {
  chain_many_t *c = arg;
  c->ran++;
  if (--c->left == 0)
    return il_loop_stop(loop);
  return il_loop_call_soon(loop, chain_step, c, NULL);
}

IL_CONFORMANCE_TEST(test_call_soon_chain_many) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  chain_many_t c = {200000, 0};
  il_loop_stats_t st0 = IL_LOOP_STATS_INIT, st1 = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st0);
  assert_int_equal(il_loop_call_soon(ctx->loop, chain_step, &c, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 15.0));
  assert_int_equal(c.ran, 200000);
  il_loop_get_stats(ctx->loop, &st1);
  /* One pass per link: every callback waited for the next pass. */
  assert_true(st1.passes - st0.passes >= 200000);
  assert_int_equal(st1.ready, 0);
}
