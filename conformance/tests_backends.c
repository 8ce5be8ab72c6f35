/* conformance/tests_backends.c — SPEC.md §5.4: choosing and loading
 * backends, and every backend of the build side by side in one process. */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IL_TEST_PLUGIN_DIR
#error "IL_TEST_PLUGIN_DIR must name the directory of the test plugins"
#endif

static void expect_refusal(const char *file, int code, const char *why) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", IL_TEST_PLUGIN_DIR, file);
  const il_backend_ops_t *ops = (const il_backend_ops_t *)0x1;
  int rc = il_backend_load(path, &ops);
  if (rc != code)
    fail_msg("loading %s: %s, expected %s (%s)", file, il_err_name(rc),
             il_err_name(code), il_loop_last_error_message());
  assert_null(ops);
  const char *msg = il_loop_last_error_message();
  if (!strstr(msg, why) || !strstr(msg, file))
    fail_msg("loading %s: message \"%s\" does not say \"%s\" and name the "
             "file",
             file, msg, why);
  /* A loop on it is refused the same way. */
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = path;
  il_loop_t *loop = (il_loop_t *)0x1;
  assert_int_equal(il_loop_new(&loop, &opts), code);
  assert_null(loop);
}

IL_CONFORMANCE_TEST(test_loader_refusals_explained) {
  (void)state;
  expect_refusal("libinterloop-testabi.so", IL_EBACKENDABI, "ABI 99.0");
  expect_refusal("libinterloop-testsize.so", IL_EBACKENDABI, "16 bytes");
  expect_refusal("libinterloop-testmissing.so", IL_ENOBACKEND,
                 "lacks the required op 'run'");
  expect_refusal("libinterloop-testrefuses.so", IL_EBACKENDABI, "refused");
  expect_refusal("libinterloop-testnoentry.so", IL_ENOBACKEND,
                 "no entry symbol 'il_backend_plugin'");

  /* Not a shared object at all: dlopen's own reason is passed on. */
  char garbage[] = "/tmp/libinterloop-garbage-XXXXXX";
  int fd = mkstemp(garbage);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not an ELF file", 15), 15);
  close(fd);
  const il_backend_ops_t *ops;
  assert_int_equal(il_backend_load(garbage, &ops), IL_ENOBACKEND);
  assert_non_null(strstr(il_loop_last_error_message(), "cannot load"));
  unlink(garbage);

  /* A good plugin is found by name through INTERLOOP_PLUGIN_PATH. */
  assert_int_equal(il_backend_load("testgood", &ops), IL_ENOBACKEND);
  setenv("INTERLOOP_PLUGIN_PATH", "/nonexistent:" IL_TEST_PLUGIN_DIR, 1);
  assert_non_null(strstr(il_backend_search_path(), IL_TEST_PLUGIN_DIR));
  assert_int_equal(il_backend_load("testgood", &ops), 0);
  assert_string_equal(ops->name, "bad");
  const char *names[32];
  size_t n = il_backend_names(names, 32);
  int seen = 0;
  for (size_t i = 0; i < n && i < 32; i++)
    seen |= !strcmp(names[i], "testgood");
  assert_true(seen);
  unsetenv("INTERLOOP_PLUGIN_PATH");
}

/* ---- side by side -------------------------------------------------------- */

typedef struct exercise {
  const char *backend;
  int timer_fired, read_ok;
  int rc;
  volatile int done;
} exercise_t;

static int ex_timer(il_loop_t *loop, void *arg) {
  (void)loop;
  exercise_t *e = arg;
  e->timer_fired = 1;
  e->done = e->timer_fired && e->read_ok;
  return 0;
}

static int ex_read(il_loop_t *loop, int fd, void *arg) {
  exercise_t *e = arg;
  char buf[8];
  if (read(fd, buf, sizeof(buf)) == 2 && !memcmp(buf, "ok", 2))
    e->read_ok = 1;
  il_loop_remove_reader(loop, fd);
  e->done = e->timer_fired && e->read_ok;
  return 0;
}

/* A timer and an fd watcher on a fresh loop of e->backend; no cmocka calls,
 * so it can run on any thread. */
static void *exercise(void *arg) {
  exercise_t *e = arg;
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = e->backend;
  il_loop_t *loop;
  e->rc = il_loop_new(&loop, &opts);
  if (e->rc != 0)
    return NULL;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) !=
      0) {
    e->rc = IL_EMFILE;
    il_loop_free(loop);
    return NULL;
  }
  il_loop_call_later(loop, 0.02, ex_timer, e, NULL);
  il_loop_add_reader(loop, fds[0], ex_read, e);
  if (write(fds[1], "ok", 2) != 2)
    e->rc = IL_EIO;
  for (int i = 0; i < 2000 && !e->done; i++)
    if ((e->rc = il_loop_run(loop, IL_RUN_ONCE)) != 0)
      break;
  il_loop_remove_reader(loop, fds[0]);
  if (il_loop_free(loop) != 0 && e->rc == 0)
    e->rc = IL_EBUSY;
  close(fds[0]);
  close(fds[1]);
  return NULL;
}

static void check_exercise(const exercise_t *e) {
  if (e->rc != 0 || !e->timer_fired || !e->read_ok)
    fail_msg("backend %s: rc %s, timer %d, fd watcher %d", e->backend,
             il_err_name(e->rc), e->timer_fired, e->read_ok);
}

/* Every backend the build has, loaded into this one process in the given
 * order, first one after another, then all at once on their own threads. */
static void side_by_side(il_test_ctx_t *ctx, int reverse) {
  const char *names[16];
  size_t n = il_backend_names(names, 16);
  if (n > 16)
    n = 16;
  exercise_t ex[17];
  size_t k = 0;
  ex[k++] = (exercise_t){.backend = ctx->backend};
  for (size_t i = 0; i < n; i++) {
    const char *name = names[reverse ? n - 1 - i : i];
    if (strcmp(name, ctx->backend) != 0)
      ex[k++] = (exercise_t){.backend = name};
  }
  for (size_t i = 0; i < k; i++) {
    exercise(&ex[i]);
    check_exercise(&ex[i]);
    ex[i] = (exercise_t){.backend = ex[i].backend};
  }
  pthread_t t[17];
  for (size_t i = 0; i < k; i++)
    assert_int_equal(pthread_create(&t[i], NULL, exercise, &ex[i]), 0);
  for (size_t i = 0; i < k; i++)
    pthread_join(t[i], NULL);
  for (size_t i = 0; i < k; i++)
    check_exercise(&ex[i]);
}

IL_CONFORMANCE_TEST(test_backends_side_by_side) {
  side_by_side(il_test_ctx(state), 0);
}

IL_CONFORMANCE_TEST(test_backends_side_by_side_reverse_load) {
  side_by_side(il_test_ctx(state), 1);
}

/* ---- adopted loops driven by the application --------------------------- */

typedef struct driven {
  int soon, timer, reader, threadsafe;
  il_loop_t *loop;
} driven_t;

static int d_soon(il_loop_t *loop, void *arg) {
  (void)loop;
  ((driven_t *)arg)->soon++;
  return 0;
}

static int d_timer(il_loop_t *loop, void *arg) {
  (void)loop;
  ((driven_t *)arg)->timer++;
  /* il_loop_stop ends il_loop_run only: the application's own run call
   * must not be stopped by it. */
  return il_loop_stop(loop);
}

static int d_read(il_loop_t *loop, int fd, void *arg) {
  char c;
  if (read(fd, &c, 1) == 1)
    ((driven_t *)arg)->reader++;
  return il_loop_remove_reader(loop, fd) == 1 ? 0 : IL_EINVAL;
}

static int d_ts(il_loop_t *loop, void *arg) {
  (void)loop;
  ((driven_t *)arg)->threadsafe++;
  return 0;
}

static void *d_thread(void *arg) {
  driven_t *d = arg;
  il_test_sleep(0.02);
  if (il_loop_call_soon_threadsafe(d->loop, d_ts, d) != 0)
    d->threadsafe = -1000;
  return NULL;
}

IL_CONFORMANCE_TEST(test_adopted_engine_run_drives_interloop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  if (!ctx->adopted)
    skip(); /* adopted mode only: the engine is driven by its own run call */
  driven_t d = {0, 0, 0, 0, ctx->loop};
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_call_soon(ctx->loop, d_soon, &d, NULL), 0);
  assert_int_equal(il_loop_call_later(ctx->loop, 0.01, d_timer, &d, NULL), 0);
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], d_read, &d), 0);
  assert_int_equal(write(fds[1], "r", 1), 1);
  /* The application's own long timer: it keeps the engine loop alive (and
   * polling) until the thread-safe call comes, as an application's own
   * watchers would. */
  il_handle_t *keepalive;
  assert_int_equal(
      il_loop_call_later(ctx->loop, 30.0, d_soon, &d, &keepalive), 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, d_thread, &d), 0);
  double t0 = il_loop_time(ctx->loop);
  while ((!d.soon || !d.timer || !d.reader || !d.threadsafe) &&
         il_loop_time(ctx->loop) - t0 < 5.0)
    assert_int_equal(ctx->ops->foreign_run(ctx->foreign, IL_RUN_ONCE), 0);
  pthread_join(t, NULL);
  assert_int_equal(il_handle_cancel(keepalive), 1);
  il_handle_release(keepalive);
  assert_int_equal(d.soon, 1);
  assert_int_equal(d.timer, 1);
  assert_int_equal(d.reader, 1);
  assert_int_equal(d.threadsafe, 1);
  assert_int_equal(il_loop_is_running(ctx->loop), 0);
  /* The stop request waits for il_loop_run: one pass, then it returns. */
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_DEFAULT), 0);
  close(fds[0]);
  close(fds[1]);
}
