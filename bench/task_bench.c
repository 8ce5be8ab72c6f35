/* bench/task_bench.c — futures and tasks, on any backend.
 *
 *   interloop-task-bench [--backend NAME]... [--quick] [--runs N]
 *
 * Workloads (the same shapes are in bench/py/asyncio_tasks.py):
 *   await_done    one task awaits an already-done future N times
 *   future_cycle  future_new, add_done_callback, set_result, unref, in
 *                 batches of 1 000 (--batch), each batch's callbacks run in
 *                 one pass
 *   spawn         tasks that return at once, spawned in batches of 1 000
 *                 (--batch), each batch run until every task finished
 *   switch        two tasks taking turns with il_yield (switch + loop pass)
 *   sleepers      N tasks (default 100 000) each il_sleep(0.5..1 s): time to
 *                 spawn, total time, RSS growth per task
 *   future_mem    RSS growth per future over 100 000 live futures
 *   task_mem      RSS growth per task over 10 000 tasks suspended in
 *                 il_await (the task and its touched stack pages)
 * Each figure is the median of --runs runs (default 5; sleepers: one run,
 * of 20 000 tasks with --quick); one line per figure per backend:
 * "backend workload value unit (min..max)". future_cycle and spawn stop
 * after 1 s (--quick: 0.25 s; --max-time) and report the rate so far.
 *
 *   interloop-task-bench --backend NAME --workload NAME [N] [--batch N]
 *                        [--max-time S] [--guard 0|1]
 * runs one workload once in this process and prints
 *   "<workload> <wall s> <cpu s> <count> [key=value]..."
 * (bench/run.py's machine-readable format, the first four fields as in
 * loop_bench). sleepers adds spawn_s, rss_per_task, virt_per_task, guard and
 * stack; future_mem adds bytes_per_future, task_mem bytes_per_task. --max-time ends future_cycle
 * and spawn after the batch that passes S seconds. --guard forces the sleepers'
 * guard pages on or off; by default they are on when vm.max_map_count
 * allows two mappings per task, off otherwise. */
#include <interloop/backend.h>
#include <interloop/interloop.h>

#include "bench_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Futures or tasks per batch in future_cycle and spawn (--batch). */
static long batch = 1000;
/* future_cycle and spawn stop after the batch that passes this many
 * seconds (--max-time; 0: none), so a slow path cannot stall a whole run:
 * the rate is of what was done. */
static double max_time = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Resident and virtual bytes of this process, from /proc/self/statm. */
static void mem_bytes(long *rss, long *virt) {
  long pages_virt = 0, pages_rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages_virt, &pages_rss) != 2)
      pages_virt = pages_rss = 0;
    fclose(f);
  }
  long page = sysconf(_SC_PAGESIZE);
  *rss = pages_rss * page;
  *virt = pages_virt * page;
}

/* The first number in a /proc file, or -1. */
static long read_proc_long(const char *path) {
  long v = -1;
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%ld", &v) != 1)
      v = -1;
    fclose(f);
  }
  return v;
}

/* Memory mappings this process has now. */
static long count_maps(void) {
  long n = 0;
  int c;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return 0;
  while ((c = getc(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "interloop-task-bench: %s: %s\n", what, il_strerror(rc));
  exit(1);
}

/* What one run measured: the timed interval and what it counted. */
typedef struct result {
  double wall, cpu;
  long count;
  char extra[256]; /* " key=value..." for the machine-readable line */
} result_t;

typedef struct bench {
  il_loop_t *loop;
  long n;
  long done;
  double t0, c0; /* start of the timed interval (wall, CPU) */
  result_t *res;
} bench_t;

static void start_clock(bench_t *b) {
  b->t0 = now_s();
  b->c0 = cpu_s();
}

static void stop_clock(bench_t *b) {
  b->res->wall = now_s() - b->t0;
  b->res->cpu = cpu_s() - b->c0;
}

/* Runs fn as a task and the loop until it is done. */
static void run_task(il_loop_t *loop, il_task_fn fn, void *arg) {
  il_task_t *t;
  int rc = il_task_spawn(loop, fn, arg, NULL, &t);
  if (rc < 0)
    die("il_task_spawn", rc);
  rc = il_loop_run_until_complete(loop, t, NULL);
  if (rc < 0)
    die("task", rc);
  il_future_unref(t);
}

/* ---- await_done --------------------------------------------------------
 * il_await of a done future returns at once: the cost of the call, its
 * checks and reading the result — no switch. */
static int await_done_task(il_task_t *self, void *arg) {
  (void)self;
  bench_t *b = arg;
  il_future_t *f;
  int rc = il_future_new(b->loop, &f);
  if (rc < 0)
    return rc;
  il_future_set_result(f, NULL, NULL);
  long i;
  start_clock(b);
  for (i = 0; i < b->n; i++) {
    rc = il_await(f, NULL);
    if (rc < 0)
      break;
  }
  stop_clock(b);
  il_future_unref(f);
  b->res->count = i;
  return rc;
}

static void bench_await_done(bench_t *b) {
  run_task(b->loop, await_done_task, b);
}

/* ---- future_cycle ------------------------------------------------------- */
static int cycle_cb(il_future_t *f, void *arg) {
  (void)f;
  ((bench_t *)arg)->done++;
  return 0;
}

static void bench_future_cycle(bench_t *b) {
  long rounds = b->n / batch;
  start_clock(b);
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < batch; i++) {
      il_future_t *f;
      int rc = il_future_new(b->loop, &f);
      if (rc < 0)
        die("il_future_new", rc);
      il_future_add_done_callback(f, cycle_cb, b);
      il_future_set_result(f, NULL, NULL);
      il_future_unref(f); /* the scheduled callback holds its own */
    }
    il_loop_run(b->loop, IL_RUN_NOWAIT);
    if (max_time > 0 && now_s() - b->t0 > max_time)
      rounds = r + 1;
  }
  stop_clock(b);
  b->res->count = b->done;
  if (b->done != rounds * batch)
    fprintf(stderr, "future_cycle: %ld of %ld callbacks ran\n", b->done,
            rounds * batch);
}

/* ---- spawn -------------------------------------------------------------- */
static int return_at_once(il_task_t *self, void *arg) {
  (void)self;
  ((bench_t *)arg)->done++;
  return 0;
}

static void bench_spawn(bench_t *b) {
  long rounds = b->n / batch;
  start_clock(b);
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < batch; i++) {
      int rc = il_task_spawn(b->loop, return_at_once, b, NULL, NULL);
      if (rc < 0)
        die("il_task_spawn", rc);
    }
    while (b->done < (r + 1) * batch)
      il_loop_run(b->loop, IL_RUN_NOWAIT);
    if (max_time > 0 && now_s() - b->t0 > max_time)
      break;
  }
  stop_clock(b);
  b->res->count = b->done;
}

/* ---- switch ------------------------------------------------------------- */
static int yielder(il_task_t *self, void *arg) {
  bench_t *b = arg;
  for (long i = 0; i < b->n / 2; i++) {
    int rc = il_yield(il_future_loop(self));
    if (rc < 0)
      return rc;
    b->done++;
  }
  return 0;
}

static void bench_switch(bench_t *b) {
  il_task_t *t1, *t2;
  int rc = il_task_spawn(b->loop, yielder, b, NULL, &t1);
  if (rc == 0)
    rc = il_task_spawn(b->loop, yielder, b, NULL, &t2);
  if (rc < 0)
    die("il_task_spawn", rc);
  start_clock(b);
  if ((rc = il_loop_run_until_complete(b->loop, t1, NULL)) < 0 ||
      (rc = il_loop_run_until_complete(b->loop, t2, NULL)) < 0)
    die("switch", rc);
  stop_clock(b);
  il_future_unref(t1);
  il_future_unref(t2);
  b->res->count = b->done;
}

/* ---- sleepers ----------------------------------------------------------
 * RSS is read when the last task has started, i.e. when all N are alive
 * and asleep: what each one costs (its struct, the touched part of its
 * stack, the kernel's page tables) while it waits. */
typedef struct sleepers {
  bench_t *b;
  long started;
  long rss0, virt0, rss1, virt1;
  uint64_t rng;
} sleepers_t;

static double next_delay(sleepers_t *s) {
  s->rng = s->rng * 6364136223846793005u + 1442695040888963407u;
  return 0.5 + 0.5 * (double)(s->rng >> 11) / 9007199254740992.0;
}

static int sleeper(il_task_t *self, void *arg) {
  sleepers_t *s = arg;
  if (++s->started == s->b->n)
    mem_bytes(&s->rss1, &s->virt1);
  int rc = il_sleep(il_future_loop(self), next_delay(s));
  if (++s->b->done == s->b->n)
    il_loop_stop(il_future_loop(self));
  return rc;
}

/* Guard pages when vm.max_map_count leaves room for two mappings per task
 * (guard + stack) besides what the process maps already, with a margin. */
static int guard_fits(long n) {
  long max = read_proc_long("/proc/sys/vm/max_map_count");
  return max < 0 || 2 * n + count_maps() + 1000 <= max;
}

static void bench_sleepers(bench_t *b, int guard) {
  sleepers_t s = {b, 0, 0, 0, 0, 0, 42};
  il_task_options_t opts = IL_TASK_OPTIONS_INIT;
  if (guard < 0)
    guard = guard_fits(b->n);
  opts.guard = guard;
  mem_bytes(&s.rss0, &s.virt0);
  start_clock(b);
  for (long i = 0; i < b->n; i++) {
    int rc = il_task_spawn(b->loop, sleeper, &s, &opts, NULL);
    if (rc < 0) {
      fprintf(stderr, "sleepers: task %ld of %ld: %s\n", i + 1, b->n,
              il_strerror(rc));
      exit(1);
    }
  }
  double spawn_s = now_s() - b->t0;
  il_loop_run(b->loop, IL_RUN_DEFAULT);
  stop_clock(b);
  b->res->count = b->done;
  snprintf(b->res->extra, sizeof(b->res->extra),
           " spawn_s=%.6f rss_per_task=%.0f virt_per_task=%.0f guard=%d "
           "stack=default max_map_count=%ld",
           spawn_s, (double)(s.rss1 - s.rss0) / (double)b->n,
           (double)(s.virt1 - s.virt0) / (double)b->n, guard,
           read_proc_long("/proc/sys/vm/max_map_count"));
}

/* ---- future_mem ----------------------------------------------------------
 * Measured, not sizeof: what 100 000 live futures add to the resident set,
 * allocator overhead included. */
static void bench_future_mem(bench_t *b) {
  il_future_t **fs = malloc((size_t)b->n * sizeof(*fs));
  if (!fs)
    die("malloc", IL_ENOMEM);
  /* Fault the array in first. Not with zeros: the compiler may turn
   * malloc + memset(0) into calloc, whose fresh pages stay untouched. */
  memset(fs, 0xff, (size_t)b->n * sizeof(*fs));
  long rss0, virt0, rss1, virt1;
  mem_bytes(&rss0, &virt0);
  start_clock(b);
  for (long i = 0; i < b->n; i++) {
    int rc = il_future_new(b->loop, &fs[i]);
    if (rc < 0)
      die("il_future_new", rc);
  }
  stop_clock(b);
  mem_bytes(&rss1, &virt1);
  for (long i = 0; i < b->n; i++)
    il_future_unref(fs[i]);
  free(fs);
  b->res->count = b->n;
  snprintf(b->res->extra, sizeof(b->res->extra), " bytes_per_future=%.1f",
           (double)(rss1 - rss0) / (double)b->n);
}

/* ---- task_mem ------------------------------------------------------------
 * RSS growth per live task: N tasks each suspended in il_await on one
 * pending future, read once the last one has suspended: the task object
 * and the stack pages it touched (the default stack, guard page as by
 * default), allocator and pool overhead included. */
typedef struct parked {
  bench_t *b;
  il_future_t *gate;
  long suspended;
  long rss1, virt1;
} parked_t;

static int parked_task(il_task_t *self, void *arg) {
  (void)self;
  parked_t *p = arg;
  if (++p->suspended == p->b->n)
    mem_bytes(&p->rss1, &p->virt1);
  return il_await(p->gate, NULL);
}

static void bench_task_mem(bench_t *b) {
  il_task_t **ts = malloc((size_t)b->n * sizeof(*ts));
  if (!ts)
    die("malloc", IL_ENOMEM);
  memset(ts, 0xff, (size_t)b->n * sizeof(*ts)); /* fault it in (not calloc) */
  parked_t p = {b, NULL, 0, 0, 0};
  int rc = il_future_new(b->loop, &p.gate);
  if (rc < 0)
    die("il_future_new", rc);
  long rss0, virt0;
  mem_bytes(&rss0, &virt0);
  start_clock(b);
  for (long i = 0; i < b->n; i++) {
    rc = il_task_spawn(b->loop, parked_task, &p, NULL, &ts[i]);
    if (rc < 0)
      die("il_task_spawn", rc);
  }
  /* One pass starts every task; each runs until its il_await suspends. */
  while (p.suspended < b->n)
    il_loop_run(b->loop, IL_RUN_ONCE);
  stop_clock(b);
  il_future_set_result(p.gate, NULL, NULL);
  for (long i = 0; i < b->n; i++) {
    rc = il_loop_run_until_complete(b->loop, ts[i], NULL);
    if (rc < 0)
      die("task", rc);
    il_future_unref(ts[i]);
  }
  il_future_unref(p.gate);
  free(ts);
  b->res->count = b->n;
  snprintf(b->res->extra, sizeof(b->res->extra),
           " bytes_per_task=%.1f virt_per_task=%.0f",
           (double)(p.rss1 - rss0) / (double)b->n,
           (double)(p.virt1 - virt0) / (double)b->n);
}

/* ---- one workload ------------------------------------------------------- */
typedef struct workload {
  const char *name;
  long n, n_quick;
} workload_t;

static const workload_t workloads[] = {
    {"await_done", 20000000, 5000000}, {"future_cycle", 2000000, 1000000},
    {"spawn", 1000000, 300000},        {"switch", 2000000, 500000},
    {"sleepers", 100000, 100000},      {"future_mem", 100000, 100000},
    {"task_mem", 10000, 10000},
};

static const workload_t *find_workload(const char *name) {
  for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
    if (!strcmp(workloads[i].name, name))
      return &workloads[i];
  return NULL;
}

static result_t run_one(const char *backend, const char *workload, long n,
                        int guard) {
  result_t res;
  memset(&res, 0, sizeof(res));
  bench_t b = {
      bench_new_loop("interloop-task-bench", backend), n, 0, 0, 0, &res};
  if (!strcmp(workload, "await_done"))
    bench_await_done(&b);
  else if (!strcmp(workload, "future_cycle"))
    bench_future_cycle(&b);
  else if (!strcmp(workload, "spawn"))
    bench_spawn(&b);
  else if (!strcmp(workload, "switch"))
    bench_switch(&b);
  else if (!strcmp(workload, "sleepers"))
    bench_sleepers(&b, guard);
  else if (!strcmp(workload, "task_mem"))
    bench_task_mem(&b);
  else
    bench_future_mem(&b);
  il_loop_free(b.loop);
  return res;
}

/* ---- driver ------------------------------------------------------------- */
static void report(const char *backend, const char *what, const char *unit,
                   double *v, int runs) {
  qsort(v, (size_t)runs, sizeof(double), cmp_double);
  printf("%-12s %-22s %10.3f %-10s (%.3f..%.3f, %d runs)\n", backend, what,
         v[runs / 2], unit, v[0], v[runs - 1], runs);
  fflush(stdout);
}

/* A number from "key=value" in a result's extra fields. */
static double extra_value(const result_t *r, const char *key) {
  const char *p = strstr(r->extra, key);
  return p ? atof(p + strlen(key) + 1) : 0.0;
}

static void matrix(const char *backend, int quick, int runs) {
  double v[32], w[32], x[32];
  static const char *rates[] = {"await_done", "future_cycle", "spawn",
                                "switch"};
  for (int k = 0; k < 4; k++) {
    const workload_t *wl = find_workload(rates[k]);
    long n = quick ? wl->n_quick : wl->n;
    for (int i = 0; i < runs; i++) {
      result_t r = run_one(backend, wl->name, n, -1);
      v[i] = (double)r.count / r.wall / 1e6;
    }
    report(backend, wl->name, "M/s", v, runs);
  }
  for (int i = 0; i < runs; i++) {
    result_t r = run_one(backend, "future_mem", 100000, -1);
    v[i] = extra_value(&r, "bytes_per_future");
  }
  report(backend, "future_mem", "B/future", v, runs);
  /* One run of sleepers: it takes seconds by design. */
  long n = quick ? 20000 : 100000;
  char name[3][32];
  result_t r = run_one(backend, "sleepers", n, -1);
  v[0] = extra_value(&r, "spawn_s");
  w[0] = r.wall;
  x[0] = extra_value(&r, "rss_per_task");
  snprintf(name[0], sizeof(name[0]), "sleepers_%ldk_spawn", n / 1000);
  snprintf(name[1], sizeof(name[1]), "sleepers_%ldk_total", n / 1000);
  snprintf(name[2], sizeof(name[2]), "sleepers_%ldk_rss", n / 1000);
  report(backend, name[0], "s", v, 1);
  report(backend, name[1], "s", w, 1);
  report(backend, name[2], "B/task", x, 1);
  printf("%-12s %-22s guard=%d (vm.max_map_count %ld; guard pages need 2 "
         "mappings per task)\n",
         backend, "sleepers_guard", (int)extra_value(&r, "guard"),
         read_proc_long("/proc/sys/vm/max_map_count"));
}

static void usage(void) {
  fprintf(stderr,
          "usage: interloop-task-bench [--backend NAME]... [--quick] "
          "[--runs N]\n"
          "       interloop-task-bench --backend NAME --workload "
          "await_done|future_cycle|spawn|switch|sleepers|future_mem|task_mem "
          "[N] "
          "[--batch N] [--max-time S] [--guard 0|1]\n");
}

int main(int argc, char **argv) {
  const char *backends[16];
  int nb = 0, quick = 0, runs = 5, guard = -1;
  const char *workload = NULL;
  long single_n = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc && nb < 16)
      backends[nb++] = argv[++i];
    else if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
      batch = atol(argv[++i]);
    else if (!strcmp(argv[i], "--max-time") && i + 1 < argc)
      max_time = atof(argv[++i]);
    else if (!strcmp(argv[i], "--guard") && i + 1 < argc)
      guard = atoi(argv[++i]) != 0;
    else if (!strcmp(argv[i], "--workload") && i + 1 < argc) {
      workload = argv[++i];
      if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
        single_n = atol(argv[++i]);
    } else {
      usage();
      return 2;
    }
  }
  if (batch < 1)
    batch = 1000;
  if (workload) {
    const workload_t *wl = find_workload(workload);
    if (!wl) {
      fprintf(stderr, "interloop-task-bench: unknown workload %s\n", workload);
      usage();
      return 2;
    }
    long n = single_n > 0 ? single_n : wl->n;
    result_t r = run_one(nb ? backends[0] : "builtin", wl->name, n, guard);
    printf("%s %.6f %.6f %ld%s\n", wl->name, r.wall, r.cpu, r.count, r.extra);
    return 0;
  }
  if (runs < 1 || runs > 31)
    runs = 5;
  if (quick && runs > 3)
    runs = 3;
  if (max_time <= 0)
    max_time = quick ? 0.25 : 1.0;
  if (nb == 0) {
    size_t n = il_backend_names(backends, 16);
    nb = (int)(n > 16 ? 16 : n);
  }
  for (int b = 0; b < nb; b++)
    matrix(backends[b], quick, runs);
  return 0;
}
