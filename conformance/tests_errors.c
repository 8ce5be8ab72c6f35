/* conformance/tests_errors.c — SPEC.md §4.8–§4.10: the error handler, debug
 * mode, statistics and fork. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail_with(il_loop_t *loop, void *arg) {
  (void)loop;
  return (int)(intptr_t)arg;
}

IL_CONFORMANCE_TEST(test_error_handler_receives_callback_error) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  volatile int after = 0;
  il_loop_call_soon(ctx->loop, fail_with, (void *)(intptr_t)IL_EIO, NULL);
  il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&after, NULL);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].code, IL_EIO);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_CALLBACK);
  assert_ptr_equal(ctx->errors[0].arg, (void *)(intptr_t)IL_EIO);
  assert_ptr_equal(ctx->errors[0].callback, (const void *)fail_with);
  assert_true(strlen(ctx->errors[0].message) > 0);
  assert_int_equal(after, 1); /* the loop kept going */
  /* And keeps running afterwards. */
  il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&after, NULL);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(after, 2);
}

static int reader_fails(il_loop_t *loop, int fd, void *arg) {
  (void)arg;
  char c;
  if (read(fd, &c, 1) != 1)
    return IL_EIO;
  il_loop_remove_reader(loop, fd);
  return IL_EPIPE;
}

static int ts_fails(il_loop_t *loop, void *arg) {
  (void)arg;
  il_loop_stop(loop);
  return IL_ECONNRESET;
}

IL_CONFORMANCE_TEST(test_error_handler_io_and_timer_sources) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], reader_fails, NULL),
                   0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  il_loop_call_later(ctx->loop, 0.01, fail_with, (void *)(intptr_t)IL_ETIMEDOUT,
                     NULL);
  il_loop_call_later(ctx->loop, 0.03, il_test_stop_cb, NULL, NULL);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  assert_int_equal(il_loop_call_soon_threadsafe(ctx->loop, ts_fails, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  int seen_reader = 0, seen_timer = 0, seen_ts = 0;
  for (int i = 0; i < ctx->nerrors; i++) {
    il_test_error_t *e = &ctx->errors[i];
    if (e->source == IL_SOURCE_READER) {
      seen_reader++;
      assert_int_equal(e->code, IL_EPIPE);
      assert_int_equal(e->fd, fds[0]);
    } else if (e->source == IL_SOURCE_TIMER) {
      seen_timer++;
      assert_int_equal(e->code, IL_ETIMEDOUT);
    } else if (e->source == IL_SOURCE_THREADSAFE) {
      seen_ts++;
      assert_int_equal(e->code, IL_ECONNRESET);
    } else {
      fail_msg("unexpected error source %d", (int)e->source);
    }
  }
  assert_int_equal(seen_reader, 1);
  assert_int_equal(seen_timer, 1);
  assert_int_equal(seen_ts, 1);
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_report_error_reaches_handler) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  assert_int_equal(il_loop_report_error(ctx->loop, IL_ECONNRESET, "peer left"),
                   0);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_USER);
  assert_int_equal(ctx->errors[0].code, IL_ECONNRESET);
  assert_string_equal(ctx->errors[0].message, "peer left");
  assert_int_equal(il_loop_report_error(ctx->loop, IL_EIO, NULL), 0);
  assert_string_equal(ctx->errors[1].message, il_strerror(IL_EIO));
}

static int slow_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  il_test_sleep(*(double *)arg);
  return 0;
}

IL_CONFORMANCE_TEST(test_debug_slow_callback_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_loop_t *loop = il_test_loop_new_debug(ctx, 0.03);
  assert_int_equal(il_loop_get_debug(loop), 1);
  assert_int_equal(il_loop_get_debug(ctx->loop), 0);
  double fast = 0.0, slow = 0.06;
  il_loop_call_soon(loop, slow_cb, &fast, NULL);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(ctx->nerrors, 0);
  il_loop_call_soon(loop, slow_cb, &slow, NULL);
  assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(ctx->nerrors, 1);
  assert_int_equal(ctx->errors[0].source, IL_SOURCE_DEBUG);
  assert_int_equal(ctx->errors[0].code, 0);
  assert_non_null(strstr(ctx->errors[0].message, "took"));
  assert_ptr_equal(ctx->errors[0].arg, &slow);
}

static int nothing_io(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (void)arg;
  return 0;
}

IL_CONFORMANCE_TEST(test_debug_leaked_handle_reported) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  il_loop_t *loop = il_test_loop_new_debug(ctx, 0);
  int fds[2];
  il_test_socketpair(fds);
  il_handle_t *h;
  assert_int_equal(il_loop_call_later(loop, 10.0, fail_with, NULL, &h), 0);
  assert_int_equal(il_loop_add_reader(loop, fds[0], nothing_io, NULL), 0);
  assert_int_equal(il_loop_close(loop), 0);
  int leaked_handle = 0, leaked_fd = 0;
  for (int i = 0; i < ctx->nerrors; i++) {
    assert_int_equal(ctx->errors[i].source, IL_SOURCE_DEBUG);
    if (strstr(ctx->errors[i].message, "leaked handle"))
      leaked_handle++;
    if (strstr(ctx->errors[i].message, "still watched") &&
        ctx->errors[i].fd == fds[0])
      leaked_fd++;
  }
  assert_int_equal(leaked_handle, 1);
  assert_int_equal(leaked_fd, 1);
  il_handle_release(h);
  close(fds[0]);
  close(fds[1]);
}

IL_CONFORMANCE_TEST(test_stats_count_pending_work) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  volatile int n = 0;
  il_handle_t *held, *t1, *t2;
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(ctx->loop, &st), 0);
  assert_int_equal(st.size, sizeof(st));
  uint64_t run0 = st.callbacks_run;
  il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, &held);
  il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, NULL);
  il_loop_call_soon(ctx->loop, il_test_count_cb, (void *)&n, NULL);
  il_loop_call_later(ctx->loop, 5.0, il_test_count_cb, (void *)&n, &t1);
  il_loop_call_later(ctx->loop, 6.0, il_test_count_cb, (void *)&n, &t2);
  il_handle_cancel(t2);
  il_loop_add_reader(ctx->loop, fds[0], nothing_io, NULL);
  assert_int_equal(il_loop_get_stats(ctx->loop, &st), 0);
  assert_int_equal(st.ready, 3);
  assert_int_equal(st.timers, 1);
  assert_int_equal(st.readers, 1);
  assert_int_equal(st.writers, 0);
  assert_int_equal(st.handles_held, 3);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(il_loop_get_stats(ctx->loop, &st), 0);
  assert_int_equal(st.ready, 0);
  assert_int_equal(st.callbacks_run - run0, 3);
  il_handle_cancel(t1);
  il_handle_release(held);
  il_handle_release(t1);
  il_handle_release(t2);
  il_loop_remove_reader(ctx->loop, fds[0]);
  assert_int_equal(il_loop_get_stats(ctx->loop, &st), 0);
  assert_int_equal(st.handles_held, 0);
  assert_int_equal(st.timers, 0);
  /* A caller built against an older, shorter struct still works. */
  il_loop_stats_t small = IL_LOOP_STATS_INIT;
  small.size = offsetof(il_loop_stats_t, dispatches);
  small.dispatches = 12345;
  assert_int_equal(il_loop_get_stats(ctx->loop, &small), 0);
  assert_int_equal(small.dispatches, 12345);
  close(fds[0]);
  close(fds[1]);
}

/* In the child: no cmocka (its state belongs to the parent); exit codes. */
static int child_read_cb(il_loop_t *loop, int fd, void *arg) {
  char c;
  if (read(fd, &c, 1) == 1 && c == 'c') {
    (*(int *)arg)++;
    il_loop_remove_reader(loop, fd);
  }
  return 0;
}

static int child_timer_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  (*(int *)arg)++;
  return 0;
}

static int run_child(il_loop_t *loop, int fds[2], volatile int *got) {
  int rc = il_loop_fork(loop);
  if (rc == IL_ENOTSUP)
    return 3;
  if (rc != 0)
    return 10;
  int timers = 0, safety = 0;
  if (il_loop_call_later(loop, 0.01, child_timer_cb, &timers, NULL) != 0)
    return 11;
  /* The safety timer keeps RUN_ONCE from blocking forever on a bug. */
  if (il_loop_call_later(loop, 3.0, child_timer_cb, &safety, NULL) != 0)
    return 15;
  if (write(fds[1], "c", 1) != 1)
    return 12;
  for (int i = 0; i < 1000 && (*got < 1 || timers < 1) && !safety; i++)
    if (il_loop_run(loop, IL_RUN_ONCE) != 0)
      return 13;
  if (*got != 1 || timers != 1)
    return 14;
  return 0;
}

IL_CONFORMANCE_TEST(test_fork_child_reinit) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  int got = 0;
  /* A watcher started before fork must keep working in the child. */
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], child_read_cb, &got),
                   0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(run_child(ctx->loop, fds, &got));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) {
    /* Documented alternative: the backend says IL_ENOTSUP, loudly. */
    assert_true(!(ctx->ops->features & IL_BACKEND_F_FORK));
  } else {
    if (WEXITSTATUS(status) != 0)
      fail_msg("child failed with code %d", WEXITSTATUS(status));
    assert_true(ctx->ops->features & IL_BACKEND_F_FORK);
  }
  /* The parent's loop is untouched by what the child did. */
  assert_int_equal(write(fds[1], "c", 1), 1);
  volatile int *flag = &got;
  assert_true(il_test_run_until(ctx->loop, flag, 5.0));
  assert_int_equal(got, 1);
  close(fds[0]);
  close(fds[1]);
}
