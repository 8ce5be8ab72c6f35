/* conformance/tests_executor.c — SPEC.md §12: the executor (the loop's
 * worker pool) and name resolution through it. */
#include "task_checks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------- */

typedef struct counted {
  atomic_int freed;
} counted_t;

static void counted_free(void *p) {
  atomic_fetch_add(&((counted_t *)p)->freed, 1);
}

static il_future_t *submit(il_loop_t *loop, il_executor_fn fn, void *arg) {
  il_future_t *f = NULL;
  assert_int_equal(il_loop_run_in_executor(loop, fn, arg, &f), 0);
  assert_non_null(f);
  return f;
}

static uint64_t jobs_pending(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return st.executor_jobs;
}

/* Runs the loop until at most `n` executor jobs are queued or running;
 * fails the test after `seconds`. */
static void run_until_jobs(il_loop_t *loop, uint64_t n, double seconds) {
  volatile int expired = 0;
  il_handle_t *guard = NULL;
  assert_int_equal(il_loop_call_later(loop, seconds, il_test_count_cb,
                                      (void *)&expired, &guard),
                   0);
  while (jobs_pending(loop) > n && !expired)
    assert_int_equal(il_loop_run(loop, IL_RUN_ONCE), 0);
  il_handle_cancel(guard);
  il_handle_release(guard);
  assert_true(jobs_pending(loop) <= n);
}

/* Runs until every future is done (through a gather). */
static void run_until_all_done(il_loop_t *loop, il_future_t **fs, size_t n) {
  il_future_t *all = NULL;
  assert_int_equal(il_gather(loop, fs, n, IL_GATHER_COLLECT_ERRORS, &all), 0);
  assert_int_equal(run_until_done(loop, all, 20.0, NULL), 0);
  il_future_unref(all);
}

static void sleep_ms(int ms) {
  il_test_sleep(ms / 1000.0);
}

/* Job: *result = arg, with counted_free as its destructor. */
static int value_job(void *arg, void **result, il_destructor_fn *dtor) {
  *result = arg;
  *dtor = counted_free;
  return 0;
}

/* Job: the square of (intptr_t)arg, in a malloc'd long. */
static int square_job(void *arg, void **result, il_destructor_fn *dtor) {
  long *v = malloc(sizeof(*v));
  if (!v)
    return IL_ENOMEM;
  *v = (long)(intptr_t)arg * (long)(intptr_t)arg;
  *result = v;
  *dtor = free;
  return 0;
}

/* Job: counts its runs. */
static int count_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)result;
  (void)dtor;
  atomic_fetch_add((atomic_int *)arg, 1);
  return 0;
}

/* A job that tells the loop it started, then waits until `open` (at most
 * 10 s: a broken pool fails the test instead of hanging it), then returns
 * `value` with counted_free. */
typedef struct gate {
  il_loop_t *loop;
  volatile int started; /* set on the loop thread */
  atomic_int open;
  atomic_int finished;
  counted_t value;
} gate_t;

static int gate_job(void *arg, void **result, il_destructor_fn *dtor) {
  gate_t *g = arg;
  if (il_loop_call_soon_threadsafe(g->loop, il_test_count_cb,
                                   (void *)&g->started) != 0)
    return IL_EIO;
  for (int i = 0; i < 10000 && !atomic_load(&g->open); i++)
    sleep_ms(1);
  atomic_store(&g->finished, 1);
  *result = &g->value;
  *dtor = counted_free;
  return atomic_load(&g->open) ? 0 : IL_ETIMEDOUT;
}

/* Job: waits up to 100 ms after starting, without a gate. */
static int slow_job(void *arg, void **result, il_destructor_fn *dtor) {
  gate_t *g = arg;
  if (il_loop_call_soon_threadsafe(g->loop, il_test_count_cb,
                                   (void *)&g->started) != 0)
    return IL_EIO;
  sleep_ms(100);
  atomic_store(&g->finished, 1);
  *result = &g->value;
  *dtor = counted_free;
  return 0;
}

/* ---- results and errors -------------------------------------------------- */

typedef struct where {
  counted_t value;
  pthread_t tid;
} where_t;

static int where_job(void *arg, void **result, il_destructor_fn *dtor) {
  where_t *w = arg;
  w->tid = pthread_self();
  return value_job(&w->value, result, dtor);
}

IL_CONFORMANCE_TEST(test_executor_result_value_dtor_once) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  where_t w;
  memset(&w, 0, sizeof(w));
  w.tid = pthread_self();
  il_future_t *f = submit(ctx->loop, where_job, &w);
  assert_int_equal(il_future_done(f), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, f, 10.0, &v), 0);
  assert_ptr_equal(v, &w.value);
  assert_false(pthread_equal(w.tid, pthread_self())); /* a worker ran it */
  assert_int_equal(atomic_load(&w.value.freed), 0);
  il_future_ref(f);
  il_future_unref(f);
  assert_int_equal(atomic_load(&w.value.freed), 0);
  il_future_unref(f); /* the last reference: the value's destructor */
  assert_int_equal(atomic_load(&w.value.freed), 1);
  assert_int_equal(jobs_pending(ctx->loop), 0);
}

/* Job: sets a result, then fails anyway. */
static int failing_job(void *arg, void **result, il_destructor_fn *dtor) {
  *result = arg;
  *dtor = counted_free;
  return IL_EIO;
}

static int cancelling_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)arg;
  (void)result;
  (void)dtor;
  return IL_ECANCELED;
}

IL_CONFORMANCE_TEST(test_executor_job_error_fails_future) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  counted_t c = {0};
  il_future_t *f = submit(ctx->loop, failing_job, &c);
  il_future_t *g = submit(ctx->loop, cancelling_job, NULL);
  void *v = &c;
  assert_int_equal(run_until_done(ctx->loop, f, 10.0, &v), IL_EIO);
  assert_null(v);
  const char *msg = NULL;
  assert_int_equal(il_future_error(f, &msg), IL_EIO);
  assert_non_null(msg);
  /* A failed job's result has nobody to go to: destroyed on delivery. */
  assert_int_equal(atomic_load(&c.freed), 1);
  assert_int_equal(run_until_done(ctx->loop, g, 10.0, NULL), IL_ECANCELED);
  assert_int_equal(il_future_cancelled(g), 1);
  il_future_unref(f);
  il_future_unref(g);
  assert_int_equal(atomic_load(&c.freed), 1);
}

IL_CONFORMANCE_TEST(test_executor_many_jobs_all_complete) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  enum { N = 1000 };
  il_future_t **fs = calloc(N, sizeof(*fs));
  assert_non_null(fs);
  for (intptr_t i = 0; i < N; i++)
    fs[i] = submit(ctx->loop, square_job, (void *)i);
  assert_int_equal(jobs_pending(ctx->loop), N);
  run_until_all_done(ctx->loop, fs, N);
  for (intptr_t i = 0; i < N; i++) {
    void *v = NULL;
    assert_int_equal(il_future_result(fs[i], &v), 0);
    assert_non_null(v);
    assert_int_equal(*(long *)v, (long)i * (long)i);
    il_future_unref(fs[i]);
  }
  free(fs);
  assert_int_equal(jobs_pending(ctx->loop), 0);
}

/* ---- threads ------------------------------------------------------------- */

/* Two jobs that each wait (at most 10 s) for the other to arrive. */
static int rendezvous_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)result;
  (void)dtor;
  atomic_int *arrived = arg;
  atomic_fetch_add(arrived, 1);
  for (int i = 0; i < 10000 && atomic_load(arrived) < 2; i++)
    sleep_ms(1);
  return atomic_load(arrived) >= 2 ? 0 : IL_ETIMEDOUT;
}

IL_CONFORMANCE_TEST(test_executor_jobs_run_in_parallel) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  atomic_int arrived = 0;
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 2), 0);
  il_future_t *fs[2] = {submit(ctx->loop, rendezvous_job, &arrived),
                        submit(ctx->loop, rendezvous_job, &arrived)};
  run_until_all_done(ctx->loop, fs, 2);
  assert_int_equal(il_future_result(fs[0], NULL), 0);
  assert_int_equal(il_future_result(fs[1], NULL), 0);
  il_future_unref(fs[0]);
  il_future_unref(fs[1]);
}

typedef struct concurrency {
  atomic_int running, most;
} concurrency_t;

static int measure_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)result;
  (void)dtor;
  concurrency_t *c = arg;
  int now = atomic_fetch_add(&c->running, 1) + 1;
  int most = atomic_load(&c->most);
  while (now > most && !atomic_compare_exchange_weak(&c->most, &most, now))
    ;
  sleep_ms(3);
  atomic_fetch_sub(&c->running, 1);
  return 0;
}

/* Runs n measured jobs; returns the most that ran at once. */
static int most_at_once(il_loop_t *loop, int n) {
  concurrency_t c;
  atomic_init(&c.running, 0);
  atomic_init(&c.most, 0);
  il_future_t *fs[32];
  assert_true(n <= 32);
  for (int i = 0; i < n; i++)
    fs[i] = submit(loop, measure_job, &c);
  run_until_all_done(loop, fs, (size_t)n);
  for (int i = 0; i < n; i++)
    il_future_unref(fs[i]);
  return atomic_load(&c.most);
}

IL_CONFORMANCE_TEST(test_executor_thread_limit_respected) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int most = most_at_once(ctx->loop, 24); /* the default limit */
  assert_true(most >= 1 && most <= IL_EXECUTOR_THREADS_DEFAULT);
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 3), 0);
  most = most_at_once(ctx->loop, 24);
  assert_true(most >= 1 && most <= 3);
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 1), 0); /* lower */
  assert_int_equal(most_at_once(ctx->loop, 12), 1);
}

static int sigmask_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)arg;
  (void)dtor;
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  int all = sigismember(&cur, SIGINT) == 1 && sigismember(&cur, SIGTERM) == 1 &&
            sigismember(&cur, SIGUSR1) == 1 &&
            sigismember(&cur, SIGCHLD) == 1 &&
            sigismember(&cur, SIGALRM) == 1 && sigismember(&cur, SIGHUP) == 1;
  *result = (void *)(intptr_t)all;
  return 0;
}

IL_CONFORMANCE_TEST(test_executor_workers_block_signals) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = submit(ctx->loop, sigmask_job, NULL);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, f, 10.0, &v), 0);
  assert_int_equal((intptr_t)v, 1);
  il_future_unref(f);
}

/* ---- cancellation and close ---------------------------------------------- */

static void gate_init(gate_t *g, il_loop_t *loop) {
  memset(g, 0, sizeof(*g));
  g->loop = loop;
  atomic_init(&g->open, 0);
  atomic_init(&g->finished, 0);
  atomic_init(&g->value.freed, 0);
}

/* Submits fn (gate_job or slow_job) on a fresh gate and runs the loop until
 * a worker started it. */
static il_future_t *start_gated(il_loop_t *loop, gate_t *g, il_executor_fn fn) {
  gate_init(g, loop);
  il_future_t *f = submit(loop, fn, g);
  assert_true(il_test_run_until(loop, &g->started, 10.0));
  return f;
}

IL_CONFORMANCE_TEST(test_executor_cancel_before_start_never_runs) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  gate_t g;
  atomic_int ran = 0, after = 0;
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 1), 0);
  il_future_t *blocker = start_gated(ctx->loop, &g, gate_job);
  il_future_t *victim = submit(ctx->loop, count_job, &ran);
  assert_int_equal(jobs_pending(ctx->loop), 2);
  assert_int_equal(il_future_cancel(victim, "not needed"), 1);
  run_until_jobs(ctx->loop, 1, 10.0); /* the job left the queue */
  atomic_store(&g.open, 1);
  /* FIFO: a job queued later completes after the victim would have run. */
  il_future_t *later = submit(ctx->loop, count_job, &after);
  assert_int_equal(run_until_done(ctx->loop, later, 10.0, NULL), 0);
  assert_int_equal(run_until_done(ctx->loop, blocker, 10.0, NULL), 0);
  assert_int_equal(atomic_load(&after), 1);
  assert_int_equal(atomic_load(&ran), 0);
  assert_int_equal(il_future_cancelled(victim), 1);
  assert_int_equal(jobs_pending(ctx->loop), 0);
  il_future_unref(victim);
  il_future_unref(later);
  il_future_unref(blocker);
  assert_int_equal(atomic_load(&g.value.freed), 1);
}

IL_CONFORMANCE_TEST(test_executor_cancel_after_start_destroys_result) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  gate_t g;
  il_future_t *f = start_gated(ctx->loop, &g, gate_job);
  assert_int_equal(il_future_cancel(f, NULL), 1);
  assert_int_equal(il_future_cancelled(f), 1);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(jobs_pending(ctx->loop), 1); /* still running */
  atomic_store(&g.open, 1);
  run_until_jobs(ctx->loop, 0, 10.0);
  assert_int_equal(atomic_load(&g.finished), 1);
  assert_int_equal(atomic_load(&g.value.freed), 1); /* nobody could take it */
  assert_int_equal(il_future_cancelled(f), 1);
  il_future_unref(f);
  assert_int_equal(atomic_load(&g.value.freed), 1);
}

IL_CONFORMANCE_TEST(test_executor_close_cancels_queued_waits_running) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  gate_t g;
  atomic_int ran = 0;
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 1), 0);
  il_future_t *running = start_gated(ctx->loop, &g, slow_job);
  il_future_t *queued[3];
  for (int i = 0; i < 3; i++)
    queued[i] = submit(ctx->loop, count_job, &ran);
  /* Queued through il_getaddrinfo too: its copied arguments are freed. */
  il_future_t *dns = NULL;
  assert_int_equal(il_getaddrinfo(ctx->loop, "127.0.0.1", "80", NULL, &dns), 0);
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(atomic_load(&g.finished), 1); /* close waited for it */
  assert_int_equal(atomic_load(&g.value.freed), 1);
  assert_int_equal(atomic_load(&ran), 0);
  assert_int_equal(il_future_cancelled(running), 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(il_future_cancelled(queued[i]), 1);
    il_future_unref(queued[i]);
  }
  assert_int_equal(il_future_cancelled(dns), 1);
  il_future_unref(dns);
  il_future_unref(running);
  assert_int_equal(atomic_load(&g.value.freed), 1);
}

/* ---- tasks --------------------------------------------------------------- */

typedef struct task_probe {
  gate_t gate;
  int awaited; /* the waiting task's il_await result */
} task_probe_t;

static int compute_body(il_task_t *self, void *arg) {
  (void)arg;
  il_loop_t *loop = il_future_loop(self);
  il_future_t *f = NULL;
  CHECK_EQ(il_loop_run_in_executor(loop, square_job, (void *)(intptr_t)12, &f),
           0);
  void *v = NULL;
  CHECK_EQ(il_await(f, &v), 0);
  CHECK(v != NULL && *(long *)v == 144);
  il_future_unref(f);
  f = NULL;
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  CHECK_EQ(il_getaddrinfo(loop, "127.0.0.1", "80", &hints, &f), 0);
  v = NULL;
  CHECK_EQ(il_await(f, &v), 0);
  struct addrinfo *ai = v;
  CHECK(ai != NULL && ai->ai_family == AF_INET);
  il_future_unref(f);
  return 0;
}

static int waiting_body(il_task_t *self, void *arg) {
  task_probe_t *p = arg;
  il_future_t *f = NULL;
  CHECK_EQ(
      il_loop_run_in_executor(il_future_loop(self), gate_job, &p->gate, &f), 0);
  p->awaited = il_await(f, NULL);
  il_future_unref(f);
  return 0;
}

IL_CONFORMANCE_TEST(test_executor_await_from_task) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_task_t *t = spawn(ctx->loop, compute_body, NULL);
  assert_int_equal(run_until_done(ctx->loop, t, 10.0, NULL), 0);
  il_future_unref(t);
  assert_checks();
  /* Cancelling a task that awaits a job cancels the job's future: the job
   * runs to the end and its result is destroyed. */
  task_probe_t p;
  memset(&p, 0, sizeof(p));
  gate_init(&p.gate, ctx->loop);
  p.awaited = 1;
  t = spawn(ctx->loop, waiting_body, &p);
  assert_true(il_test_run_until(ctx->loop, &p.gate.started, 10.0));
  assert_int_equal(il_task_cancel(t, "enough"), 1);
  run_until_done(ctx->loop, t, 10.0, NULL);
  assert_int_equal(p.awaited, IL_ECANCELED);
  atomic_store(&p.gate.open, 1);
  run_until_jobs(ctx->loop, 0, 10.0);
  assert_int_equal(atomic_load(&p.gate.value.freed), 1);
  il_future_unref(t);
  assert_checks();
}

/* ---- name resolution ----------------------------------------------------- */

static struct addrinfo *resolve(il_loop_t *loop, const char *host,
                                const char *service,
                                const struct addrinfo *hints, il_future_t **f) {
  assert_int_equal(il_getaddrinfo(loop, host, service, hints, f), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(loop, *f, 20.0, &v), 0);
  assert_non_null(v);
  return v;
}

static int is_loopback(const struct addrinfo *ai) {
  if (ai->ai_family == AF_INET) {
    const struct sockaddr_in *sin = (const void *)ai->ai_addr;
    return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  if (ai->ai_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
    return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
  }
  return 0;
}

IL_CONFORMANCE_TEST(test_getaddrinfo_numeric_and_localhost) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = NULL;
  /* Default hints: stream sockets of any family. */
  struct addrinfo *ai = resolve(ctx->loop, "127.0.0.1", "8080", NULL, &f);
  for (; ai; ai = ai->ai_next) {
    assert_int_equal(ai->ai_family, AF_INET);
    assert_int_equal(ai->ai_socktype, SOCK_STREAM);
    assert_true(is_loopback(ai));
    assert_int_equal(
        ntohs(((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port), 8080);
  }
  il_future_unref(f);

  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  int n = 0;
  for (ai = resolve(ctx->loop, "localhost", NULL, &hints, &f); ai;
       ai = ai->ai_next, n++) {
    assert_int_equal(ai->ai_family, AF_INET);
    assert_int_equal(ai->ai_socktype, SOCK_DGRAM);
    assert_true(is_loopback(ai));
  }
  assert_true(n >= 1);
  il_future_unref(f);

  /* A service alone, passive: the wildcard address. */
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  ai = resolve(ctx->loop, NULL, "443", &hints, &f);
  assert_int_equal(ai->ai_family, AF_INET);
  assert_int_equal(((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr.s_addr,
                   htonl(INADDR_ANY));
  il_future_unref(f);
}

IL_CONFORMANCE_TEST(test_getaddrinfo_unknown_host_eai) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_future_t *f = NULL;
  /* .invalid never resolves (RFC 6761); without a resolver the lookup still
   * fails, with "temporary failure" instead of "unknown name". */
  assert_int_equal(
      il_getaddrinfo(ctx->loop, "no-such-host.invalid", "80", NULL, &f), 0);
  void *v = &f;
  assert_int_equal(run_until_done(ctx->loop, f, 25.0, &v), IL_EAI);
  assert_null(v);
  const char *msg = NULL;
  assert_int_equal(il_future_error(f, &msg), IL_EAI);
  assert_non_null(msg);
  assert_true(strlen(msg) > 0);
  il_future_unref(f);
}

static il_nameinfo_t *name_of(il_loop_t *loop, const struct sockaddr *sa,
                              socklen_t len, int flags, il_future_t **f) {
  assert_int_equal(il_getnameinfo(loop, sa, len, flags, f), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(loop, *f, 20.0, &v), 0);
  assert_non_null(v);
  return v;
}

IL_CONFORMANCE_TEST(test_getnameinfo_loopback) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  il_future_t *f = NULL;
  il_nameinfo_t *ni = name_of(ctx->loop, (struct sockaddr *)&sin, sizeof(sin),
                              NI_NUMERICHOST | NI_NUMERICSERV, &f);
  memset(&sin, 0xff, sizeof(sin)); /* the address was copied */
  assert_string_equal(ni->host, "127.0.0.1");
  assert_string_equal(ni->service, "80");
  il_future_unref(f);

  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ni = name_of(ctx->loop, (struct sockaddr *)&sin, sizeof(sin), 0, &f);
  assert_true(strlen(ni->host) > 0); /* a name (/etc/hosts) or the number */
  assert_true(strlen(ni->service) > 0);
  il_future_unref(f);

  /* An address family getnameinfo does not know: IL_EAI with a message. */
  sin.sin_family = 12345;
  assert_int_equal(
      il_getnameinfo(ctx->loop, (struct sockaddr *)&sin, sizeof(sin), 0, &f),
      0);
  assert_int_equal(run_until_done(ctx->loop, f, 20.0, NULL), IL_EAI);
  const char *msg = NULL;
  assert_int_equal(il_future_error(f, &msg), IL_EAI);
  assert_true(msg && strlen(msg) > 0);
  il_future_unref(f);
}

/* ---- bad calls ----------------------------------------------------------- */

static int noop_job(void *arg, void **result, il_destructor_fn *dtor) {
  (void)arg;
  (void)result;
  (void)dtor;
  return 0;
}

IL_CONFORMANCE_TEST(test_executor_bad_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  il_future_t *f = (il_future_t *)&f;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  const struct sockaddr *sa = (const struct sockaddr *)&sin;

  assert_int_equal(il_loop_run_in_executor(NULL, noop_job, NULL, &f),
                   IL_EINVAL);
  assert_null(f);
  assert_int_equal(il_loop_run_in_executor(loop, NULL, NULL, &f), IL_EINVAL);
  assert_int_equal(il_loop_run_in_executor(loop, noop_job, NULL, NULL),
                   IL_EINVAL);
  assert_int_equal(il_loop_set_executor_threads(NULL, 2), IL_EINVAL);
  assert_int_equal(il_loop_set_executor_threads(loop, 0), IL_EINVAL);
  assert_int_equal(il_loop_set_executor_threads(loop, -1), IL_EINVAL);
  assert_int_equal(il_loop_set_executor_threads(loop, 257), IL_EINVAL);
  assert_int_equal(il_loop_set_executor_threads(loop, 256), 0);
  assert_int_equal(il_loop_set_executor_threads(loop, 1), 0);
  f = (il_future_t *)&f;
  assert_int_equal(il_getaddrinfo(loop, NULL, NULL, NULL, &f), IL_EINVAL);
  assert_null(f);
  assert_int_equal(il_getaddrinfo(loop, "localhost", NULL, NULL, NULL),
                   IL_EINVAL);
  assert_int_equal(il_getaddrinfo(NULL, "localhost", NULL, NULL, &f),
                   IL_EINVAL);
  f = (il_future_t *)&f;
  assert_int_equal(il_getnameinfo(loop, NULL, sizeof(sin), 0, &f), IL_EINVAL);
  assert_null(f);
  assert_int_equal(il_getnameinfo(loop, sa, 0, 0, &f), IL_EINVAL);
  assert_int_equal(
      il_getnameinfo(loop, sa, sizeof(struct sockaddr_storage) + 1, 0, &f),
      IL_EINVAL);
  assert_int_equal(il_getnameinfo(loop, sa, sizeof(sin), 0, NULL), IL_EINVAL);
  assert_int_equal(il_getnameinfo(NULL, sa, sizeof(sin), 0, &f), IL_EINVAL);
  assert_int_equal(jobs_pending(loop), 0);
}

typedef struct intruder {
  il_loop_t *loop;
  int run, threads, gai, gni;
  il_future_t *made;
} intruder_t;

/* Runs on another thread while the loop runs: every call must be refused;
 * then stops the loop through the one call other threads may make. */
static void *intrude(void *arg) {
  intruder_t *in = arg;
  for (int i = 0; i < 5000 && !il_loop_is_running(in->loop); i++)
    il_test_sleep(0.001);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  il_future_t *f = NULL;
  in->run = il_loop_run_in_executor(in->loop, noop_job, NULL, &f);
  in->made = f;
  in->threads = il_loop_set_executor_threads(in->loop, 2);
  in->gai = il_getaddrinfo(in->loop, "127.0.0.1", NULL, NULL, &f);
  if (f)
    in->made = f;
  in->gni =
      il_getnameinfo(in->loop, (struct sockaddr *)&sin, sizeof(sin), 0, &f);
  if (f)
    in->made = f;
  il_loop_call_soon_threadsafe(in->loop, il_test_stop_cb, NULL);
  return NULL;
}

IL_CONFORMANCE_TEST(test_executor_wrong_thread_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  intruder_t in;
  memset(&in, 0, sizeof(in));
  in.loop = ctx->loop;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, intrude, &in), 0);
  int stopped = il_test_run_bounded(ctx->loop, 5.0);
  pthread_join(t, NULL);
  assert_true(stopped);
  assert_int_equal(in.run, IL_EWRONGTHREAD);
  assert_int_equal(in.threads, IL_EWRONGTHREAD);
  assert_int_equal(in.gai, IL_EWRONGTHREAD);
  assert_int_equal(in.gni, IL_EWRONGTHREAD);
  assert_null(in.made);
  assert_int_equal(jobs_pending(ctx->loop), 0);
}

IL_CONFORMANCE_TEST(test_executor_closed_loop_eclosed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  /* A pool that ran a job, then an idle close: the threads are joined. */
  il_future_t *f = submit(ctx->loop, noop_job, NULL);
  assert_int_equal(run_until_done(ctx->loop, f, 10.0, NULL), 0);
  il_future_unref(f);
  assert_int_equal(il_loop_close(ctx->loop), 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  f = (il_future_t *)&f;
  assert_int_equal(il_loop_run_in_executor(ctx->loop, noop_job, NULL, &f),
                   IL_ECLOSED);
  assert_null(f);
  assert_int_equal(il_loop_set_executor_threads(ctx->loop, 2), IL_ECLOSED);
  assert_int_equal(il_getaddrinfo(ctx->loop, "127.0.0.1", NULL, NULL, &f),
                   IL_ECLOSED);
  assert_int_equal(
      il_getnameinfo(ctx->loop, (struct sockaddr *)&sin, sizeof(sin), 0, &f),
      IL_ECLOSED);
  assert_null(f);
}
