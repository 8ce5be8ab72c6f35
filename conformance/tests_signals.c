/* conformance/tests_signals.c — SPEC.md §4.7: signal handlers. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct sig_probe {
  int calls;
  int signum;
  pthread_t thread;
  volatile int done;
  int stop;
} sig_probe_t;

static int on_sig(il_loop_t *loop, int signum, void *arg) {
  sig_probe_t *p = arg;
  p->calls++;
  p->signum = signum;
  p->thread = pthread_self();
  p->done = 1;
  if (p->stop)
    il_loop_stop(loop);
  return 0;
}

typedef struct killer {
  double delay;
  int signum;
} killer_t;

static void *kill_later(void *arg) {
  killer_t *k = arg;
  il_test_sleep(k->delay);
  kill(getpid(), k->signum);
  return NULL;
}

static void require_signals(il_test_ctx_t *ctx) {
  if (!(ctx->ops->features & IL_BACKEND_F_SIGNALS)) {
    int rc = il_loop_add_signal_handler(ctx->loop, SIGUSR1, on_sig, NULL);
    assert_int_equal(rc, IL_ENOTSUP); /* loudly, never a silent no-op */
    skip();
  }
}

IL_CONFORMANCE_TEST(test_signal_handler_runs_on_loop_thread) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  require_signals(ctx);
  sig_probe_t p = {0};
  p.stop = 1;
  assert_int_equal(il_loop_add_signal_handler(ctx->loop, SIGUSR1, on_sig, &p),
                   0);
  /* The signal comes from another thread while the loop blocks with
   * nothing else to do (only the 10 s safety timer). */
  killer_t k = {0.05, SIGUSR1};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
  assert_true(il_test_run_bounded(ctx->loop, 10.0));
  pthread_join(t, NULL);
  assert_int_equal(p.calls, 1);
  assert_int_equal(p.signum, SIGUSR1);
  assert_true(pthread_equal(p.thread, pthread_self()));
  assert_int_equal(il_loop_remove_signal_handler(ctx->loop, SIGUSR1), 1);
  assert_int_equal(il_loop_remove_signal_handler(ctx->loop, SIGUSR1), 0);
}

static volatile sig_atomic_t own_handler_calls;
static void own_handler(int signum) {
  (void)signum;
  own_handler_calls++;
}

IL_CONFORMANCE_TEST(test_signal_handler_removed_restores) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  require_signals(ctx);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = own_handler;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR2, &sa, &old), 0);
  own_handler_calls = 0;
  sig_probe_t p = {0};
  assert_int_equal(il_loop_add_signal_handler(ctx->loop, SIGUSR2, on_sig, &p),
                   0);
  raise(SIGUSR2);
  assert_true(il_test_run_until(ctx->loop, &p.done, 5.0));
  assert_int_equal(own_handler_calls, 0); /* interloop's handler had it */
  assert_int_equal(il_loop_remove_signal_handler(ctx->loop, SIGUSR2), 1);
  /* Removing the last handler puts back what was there before. */
  raise(SIGUSR2);
  assert_int_equal(own_handler_calls, 1);
  assert_int_equal(p.calls, 1);
  sigaction(SIGUSR2, &old, NULL);
}

IL_CONFORMANCE_TEST(test_signal_two_loops) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  require_signals(ctx);
  il_loop_t *second = il_test_loop_new(ctx);
  sig_probe_t p1 = {0}, p2 = {0};
  assert_int_equal(il_loop_add_signal_handler(ctx->loop, SIGUSR1, on_sig, &p1),
                   0);
  assert_int_equal(il_loop_add_signal_handler(second, SIGUSR1, on_sig, &p2), 0);
  raise(SIGUSR1);
  assert_true(il_test_run_until(ctx->loop, &p1.done, 5.0));
  assert_true(il_test_run_until(second, &p2.done, 5.0));
  assert_int_equal(p1.calls, 1);
  assert_int_equal(p2.calls, 1);
  /* Removing it from one loop leaves the other watching. */
  assert_int_equal(il_loop_remove_signal_handler(ctx->loop, SIGUSR1), 1);
  p2.done = 0;
  raise(SIGUSR1);
  assert_true(il_test_run_until(second, &p2.done, 5.0));
  assert_int_equal(p2.calls, 2);
  assert_int_equal(p1.calls, 1);
  assert_int_equal(il_loop_remove_signal_handler(second, SIGUSR1), 1);
}

/* Loops of every backend with signal support, all watching SIGUSR1 in this
 * one process: each must be told, whichever engine installed its handler
 * last, and removing them all in any order restores the disposition. */
static void across_backends(il_test_ctx_t *ctx, int remove_reverse) {
  require_signals(ctx);
  const char *names[16];
  size_t n = il_backend_names(names, 16);
  if (n > 16)
    n = 16;
  il_loop_t *loops[17];
  sig_probe_t probes[17];
  size_t k = 0;
  memset(probes, 0, sizeof(probes));
  loops[k++] = ctx->loop;
  for (size_t i = 0; i < n && ctx->nextra < IL_TEST_MAX_LOOPS; i++) {
    const il_backend_ops_t *ops;
    if (!strcmp(names[i], ctx->backend) || il_backend_load(names[i], &ops) ||
        !(ops->features & IL_BACKEND_F_SIGNALS))
      continue;
    il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
    opts.backend = names[i];
    il_loop_t *l;
    assert_int_equal(il_loop_new(&l, &opts), 0);
    ctx->extra[ctx->nextra++] = l;
    loops[k++] = l;
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = own_handler;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  own_handler_calls = 0;
  for (size_t i = 0; i < k; i++)
    assert_int_equal(
        il_loop_add_signal_handler(loops[i], SIGUSR1, on_sig, &probes[i]), 0);
  for (int round = 1; round <= 2; round++) {
    raise(SIGUSR1);
    for (size_t i = 0; i < k; i++) {
      probes[i].done = 0;
      if (probes[i].calls < round &&
          !il_test_run_until(loops[i], &probes[i].done, 5.0))
        fail_msg("%s loop was not told of SIGUSR1 (round %d, %zu loops)",
                 il_loop_backend_name(loops[i]), round, k);
      assert_int_equal(probes[i].calls, round);
    }
  }
  assert_int_equal(own_handler_calls, 0);
  for (size_t j = 0; j < k; j++) {
    size_t i = remove_reverse ? k - 1 - j : j;
    assert_int_equal(il_loop_remove_signal_handler(loops[i], SIGUSR1), 1);
  }
  raise(SIGUSR1);
  assert_int_equal(own_handler_calls, 1);
  sigaction(SIGUSR1, &old, NULL);
}

IL_CONFORMANCE_TEST(test_signal_across_backends) {
  across_backends(il_test_ctx(state), 0);
}

IL_CONFORMANCE_TEST(test_signal_across_backends_reverse_removal) {
  across_backends(il_test_ctx(state), 1);
}
