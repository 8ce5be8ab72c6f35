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
  assert_int_equal(il_loop_add_signal_handler(second, SIGUSR1, on_sig, &p2),
                   0);
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
