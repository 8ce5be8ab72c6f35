/* bench/loop_bench.c — the loop's hot paths, on any backend.
 *
 *   loop_bench [--backend NAME]... [--quick] [--runs N]
 *
 * Workloads (shapes after libuv's own benchmarks):
 *   call_soon chain  each callback schedules the next (loop_count)
 *   call_soon batch  10 000 callbacks queued, then run in one pass
 *   timers           1 000 000 call_later timers scheduled and fired
 *                    (million_timers)
 *   timers cancel    1 000 000 timers scheduled and cancelled
 *   threadsafe       ping-pong between a thread and the loop (async1)
 * Each figure is the median of --runs runs (default 5); one line per figure
 * per backend: "backend workload value unit (min..max)".
 *
 *   loop_bench --backend NAME --workload chain|timers N
 * runs one workload once and prints "<workload> <wall s> <cpu s> <count>",
 * the format of the bench/native programs, for bench/run.sh's side-by-side
 * ratios; "timers" then uses libuv's million_timers schedule (1 000 timers per
 * millisecond step), like the native programs. */
#include <interloop/backend.h>
#include <interloop/interloop.h>

#include "bench_common.h"

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- call_soon chain -------------------------------------------------------
 */
static long chain_left;
static int chain_cb(il_loop_t *loop, void *arg) {
  if (--chain_left == 0)
    return il_loop_stop(loop);
  return il_loop_call_soon(loop, chain_cb, arg, NULL);
}

static double bench_chain(const char *backend, long n) {
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  chain_left = n;
  il_loop_call_soon(loop, chain_cb, NULL, NULL);
  double t0 = now_s();
  il_loop_run(loop, IL_RUN_DEFAULT);
  double dt = now_s() - t0;
  il_loop_free(loop);
  return (double)n / dt / 1e6;
}

/* ---- call_soon batch -------------------------------------------------------
 */
static long batch_count;
static int batch_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  batch_count++;
  return 0;
}

/* Batches of 10 000 callbacks queued then run in one pass, on a warm loop:
 * the cost of call_soon + dispatch without the per-pass overhead. */
static double bench_batch(const char *backend, long n) {
  enum { BATCH = 10000 };
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  batch_count = 0;
  for (long i = 0; i < BATCH; i++) /* warm the free list */
    il_loop_call_soon(loop, batch_cb, NULL, NULL);
  il_loop_run(loop, IL_RUN_NOWAIT);
  batch_count = 0;
  long rounds = n / BATCH;
  double t0 = now_s();
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < BATCH; i++)
      il_loop_call_soon(loop, batch_cb, NULL, NULL);
    il_loop_run(loop, IL_RUN_NOWAIT);
  }
  double dt = now_s() - t0;
  if (batch_count != rounds * BATCH)
    fprintf(stderr, "batch: ran %ld of %ld\n", batch_count, rounds * BATCH);
  il_loop_free(loop);
  return (double)(rounds * BATCH) / dt / 1e6;
}

/* ---- timers ----------------------------------------------------------------
 */
static long timers_fired, timers_total;
static int timer_cb(il_loop_t *loop, void *arg) {
  (void)arg;
  if (++timers_fired == timers_total)
    il_loop_stop(loop);
  return 0;
}

/* Deadlines spread over 0..1 ms like libuv's million_timers (i % 1000 µs),
 * so the heap is exercised with many distinct keys. */
static double bench_timers(const char *backend, long n) {
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  timers_fired = 0;
  timers_total = n;
  double t0 = now_s();
  for (long i = 0; i < n; i++)
    il_loop_call_later(loop, (double)(i % 1000) * 1e-6, timer_cb, NULL, NULL);
  il_loop_run(loop, IL_RUN_DEFAULT);
  double dt = now_s() - t0;
  il_loop_free(loop);
  return dt;
}

static double bench_timers_cancel(const char *backend, long n) {
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  il_handle_t **hs = malloc((size_t)n * sizeof(*hs));
  double t0 = now_s();
  for (long i = 0; i < n; i++)
    il_loop_call_later(loop, 10.0 + (double)(i % 1000) * 1e-6, timer_cb, NULL,
                       &hs[i]);
  for (long i = 0; i < n; i++) {
    il_handle_cancel(hs[i]);
    il_handle_release(hs[i]);
  }
  il_loop_run(loop, IL_RUN_NOWAIT);
  double dt = now_s() - t0;
  free(hs);
  il_loop_free(loop);
  return dt;
}

/* ---- thread-safe ping-pong
 * --------------------------------------------------- */
typedef struct pingpong {
  il_loop_t *loop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  long round, target;
  int turn; /* 0: thread's turn, 1: loop's */
  int done;
} pingpong_t;

static int pong_cb(il_loop_t *loop, void *arg) {
  pingpong_t *p = arg;
  pthread_mutex_lock(&p->mu);
  p->round++;
  p->turn = 0;
  if (p->round >= p->target) {
    p->done = 1;
    il_loop_stop(loop);
  }
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return 0;
}

static void *ping_thread(void *arg) {
  pingpong_t *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->done) {
    while (p->turn == 1 && !p->done)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->done)
      break;
    p->turn = 1;
    pthread_mutex_unlock(&p->mu);
    il_loop_call_soon_threadsafe(p->loop, pong_cb, p);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static double bench_pingpong(const char *backend, long n) {
  pingpong_t p;
  memset(&p, 0, sizeof(p));
  p.loop = bench_new_loop("loop_bench", backend);
  p.target = n;
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  pthread_t t;
  double t0 = now_s();
  pthread_create(&t, NULL, ping_thread, &p);
  il_loop_run(p.loop, IL_RUN_DEFAULT);
  pthread_join(t, NULL);
  double dt = now_s() - t0;
  il_loop_free(p.loop);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv);
  return (double)n / dt / 1e3;
}

/* ---- one workload, native-comparable output ------------------------------ */
static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int single(const char *backend, const char *workload, long n) {
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  double w, c;
  if (!strcmp(workload, "chain")) {
    chain_left = n;
    il_loop_call_soon(loop, chain_cb, NULL, NULL);
    w = now_s();
    c = cpu_s();
    il_loop_run(loop, IL_RUN_DEFAULT);
  } else if (!strcmp(workload, "timers")) {
    timers_fired = 0;
    timers_total = n;
    w = now_s();
    c = cpu_s();
    for (long i = 0; i < n; i++)
      il_loop_call_later(loop, (double)(1 + i / 1000) / 1000.0, timer_cb, NULL,
                         NULL);
    il_loop_run(loop, IL_RUN_DEFAULT);
    n = timers_fired;
  } else {
    fprintf(stderr, "unknown workload %s\n", workload);
    return 2;
  }
  printf("%s %.6f %.6f %ld\n", workload, now_s() - w, cpu_s() - c, n);
  il_loop_free(loop);
  return 0;
}

/* ---- driver
 * ------------------------------------------------------------------- */
typedef double (*bench_fn)(const char *, long);

static void report(const char *backend, const char *what, const char *unit,
                   bench_fn fn, long n, int runs) {
  double v[32];
  for (int i = 0; i < runs; i++)
    v[i] = fn(backend, n);
  qsort(v, (size_t)runs, sizeof(double), cmp_double);
  printf("%-12s %-22s %10.3f %-10s (%.3f..%.3f, %d runs)\n", backend, what,
         v[runs / 2], unit, v[0], v[runs - 1], runs);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *backends[16];
  int nb = 0, quick = 0, runs = 5;
  const char *workload = NULL;
  long single_n = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc && nb < 16)
      backends[nb++] = argv[++i];
    else if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--workload") && i + 2 < argc) {
      workload = argv[++i];
      single_n = atol(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: loop_bench [--backend NAME]... [--quick] [--runs N]\n"
              "       loop_bench --backend NAME --workload chain|timers N\n");
      return 2;
    }
  }
  if (workload)
    return single(nb ? backends[0] : "builtin", workload, single_n);
  if (runs < 1 || runs > 31)
    runs = 5;
  if (nb == 0) {
    size_t n = il_backend_names(backends, 16);
    nb = (int)(n > 16 ? 16 : n);
  }
  if (quick && runs > 3)
    runs = 3;
  long chain = quick ? 5000000 : 10000000;
  long timers = 1000000;
  long pings = quick ? 20000 : 100000;
  for (int b = 0; b < nb; b++) {
    report(backends[b], "call_soon_chain", "M/s", bench_chain, chain, runs);
    report(backends[b], "call_soon_batch", "M/s", bench_batch, chain, runs);
    report(backends[b], "timers_1M_fire", "s", bench_timers, timers, runs);
    report(backends[b], "timers_1M_cancel", "s", bench_timers_cancel, timers,
           runs);
    report(backends[b], "threadsafe_pingpong", "k/s", bench_pingpong, pings,
           runs);
  }
  return 0;
}
