/* bench/loop_bench.c — the loop's hot paths on any backend, one workload per
 * run, shaped as bench/native's programs (after libuv's own benchmarks):
 *   chain          each callback schedules the next with il_loop_call_soon
 *                  (loop_count)
 *   iteration      il_loop_run(IL_RUN_NOWAIT) N times with nothing ready and
 *                  one idle fd registered: the cost of one loop iteration
 *   timers         million_timers: N il_loop_call_later timers, 1 000 per
 *                  millisecond step, all fired
 *   timers_cancel  the same N timers scheduled, then cancelled and
 *                  released, then one NOWAIT pass (which drops them)
 *   threadsafe     T threads ping-pong with the loop: il_loop_call_soon_
 *                  threadsafe, the loop's callback answers (async1..N)
 *   timer_mem      RSS growth per pending il_loop_call_later timer
 *
 *   loop_bench --backend NAME --workload WORKLOAD N [--threads T]
 *
 * prints "<workload> <wall s> <cpu s> <count> [key=value ...]", the line of
 * bench/native/native.h, for bench/parts/loop.py. */
#include <interloop/interloop.h>

#include "bench_common.h"
#include "native/native.h"

/* ---- chain --------------------------------------------------------------- */
static long chain_left;

static int chain_cb(il_loop_t *loop, void *arg) {
  if (--chain_left == 0)
    return il_loop_stop(loop);
  return il_loop_call_soon(loop, chain_cb, arg, NULL);
}

static void chain(il_loop_t *loop, long n) {
  chain_left = n;
  il_loop_call_soon(loop, chain_cb, NULL, NULL);
  double w = nb_wall(), c = nb_cpu();
  il_loop_run(loop, IL_RUN_DEFAULT);
  nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
}

/* ---- iteration ----------------------------------------------------------- */
static int idle_cb(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (void)arg;
  return 0;
}

static void iteration(il_loop_t *loop, long n) {
  int fd = nb_idle_fd();
  il_loop_add_reader(loop, fd, idle_cb, NULL);
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    il_loop_run(loop, IL_RUN_NOWAIT);
  nb_report("iteration", nb_wall() - w, nb_cpu() - c, n);
  il_loop_remove_reader(loop, fd);
  close(fd);
}

/* ---- timers -------------------------------------------------------------- */
static long timers_fired, timers_total;

static int timer_cb(il_loop_t *loop, void *arg) {
  (void)arg;
  if (++timers_fired == timers_total)
    il_loop_stop(loop);
  return 0;
}

static void timers(il_loop_t *loop, long n) {
  timers_total = n;
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    il_loop_call_later(loop, nb_timer_ms(i) / 1000.0, timer_cb, NULL, NULL);
  il_loop_run(loop, IL_RUN_DEFAULT);
  nb_report("timers", nb_wall() - w, nb_cpu() - c, timers_fired);
}

static void timers_cancel(il_loop_t *loop, long n) {
  il_handle_t **hs = malloc((size_t)n * sizeof(*hs));
  timers_total = n;
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    il_loop_call_later(loop, nb_timer_ms(i) / 1000.0, timer_cb, NULL, &hs[i]);
  for (long i = 0; i < n; i++) {
    il_handle_cancel(hs[i]);
    il_handle_release(hs[i]);
  }
  il_loop_run(loop, IL_RUN_NOWAIT);
  nb_report("timers_cancel", nb_wall() - w, nb_cpu() - c, n - timers_fired);
  free(hs);
}

static void timer_mem(il_loop_t *loop, long n) {
  long rss = nb_rss();
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    il_loop_call_later(loop, nb_far_ms(i) / 1000.0, timer_cb, NULL, NULL);
  double dw = nb_wall() - w, dc = nb_cpu() - c;
  nb_report_mem(dw, dc, n, nb_rss() - rss);
}

/* ---- threadsafe ---------------------------------------------------------- */
static il_loop_t *the_loop;
static long answers_left;

static int answer_cb(il_loop_t *loop, void *arg) {
  nb_answer(arg);
  if (--answers_left == 0)
    il_loop_stop(loop);
  return 0;
}

static void send_threadsafe(nb_pinger_t *p) {
  il_loop_call_soon_threadsafe(the_loop, answer_cb, p);
}

static void threadsafe(il_loop_t *loop, long n, int threads) {
  nb_pinger_t p[64];
  nb_pingers_init(p, threads, n, send_threadsafe);
  the_loop = loop;
  answers_left = nb_pingers_total(p, threads);
  double w = nb_wall(), c = nb_cpu();
  nb_pingers_start(p, threads);
  il_loop_run(loop, IL_RUN_DEFAULT);
  nb_pingers_join(p, threads);
  nb_report_threads(nb_wall() - w, nb_cpu() - c, nb_pingers_total(p, threads),
                    threads);
}

/* ---- driver -------------------------------------------------------------- */
static int usage(void) {
  fprintf(stderr, "usage: loop_bench --backend NAME --workload "
                  "chain|iteration|timers|timers_cancel|timer_mem N\n"
                  "       loop_bench --backend NAME --workload threadsafe N "
                  "--threads T\n");
  return 2;
}

static int run(il_loop_t *loop, const char *wl, long n, int threads) {
  if (!strcmp(wl, "chain"))
    chain(loop, n);
  else if (!strcmp(wl, "iteration"))
    iteration(loop, n);
  else if (!strcmp(wl, "timers"))
    timers(loop, n);
  else if (!strcmp(wl, "timers_cancel"))
    timers_cancel(loop, n);
  else if (!strcmp(wl, "threadsafe") && threads >= 1 && threads <= 64)
    threadsafe(loop, n, threads);
  else if (!strcmp(wl, "timer_mem"))
    timer_mem(loop, n);
  else
    return usage();
  return 0;
}

int main(int argc, char **argv) {
  const char *backend = "builtin", *wl = NULL;
  long n = 0;
  int threads = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      backend = argv[++i];
    else if (!strcmp(argv[i], "--workload") && i + 2 < argc) {
      wl = argv[++i];
      n = atol(argv[++i]);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else
      return usage();
  }
  if (!wl || n < 1)
    return usage();
  il_loop_t *loop = bench_new_loop("loop_bench", backend);
  int rc = run(loop, wl, n, threads);
  il_loop_free(loop);
  return rc;
}
