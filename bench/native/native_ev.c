/* bench/native/native_ev.c — loop_bench's workloads written directly on
 * libev:
 *   chain          an ev_idle counting loop iterations (loop_count)
 *   iteration      ev_run(EVRUN_NOWAIT) N times, one idle fd watched
 *   timers         million_timers: N ev_timer started, all fired
 *   timers_cancel  N timers started then stopped, then one NOWAIT pass
 *   threadsafe     T threads ping-pong with the loop through one ev_async
 *                  each (async1..N)
 *   timer_mem      RSS growth per pending timer, one malloc'd ev_timer each
 * Run: native_ev WORKLOAD N [THREADS]; prints native.h's line. */
#include "native.h"

#include <ev.h>

static long left, fired;

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents) {
  (void)revents;
  if (--left == 0) {
    ev_idle_stop(loop, w);
    ev_break(loop, EVBREAK_ALL);
  }
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  fired++;
}

static void chain(struct ev_loop *loop, long n) {
  ev_idle idle;
  ev_idle_init(&idle, idle_cb);
  left = n;
  double w = nb_wall(), c = nb_cpu();
  ev_idle_start(loop, &idle);
  ev_run(loop, 0);
  nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void iteration(struct ev_loop *loop, long n) {
  int fd = nb_idle_fd();
  ev_io io;
  ev_io_init(&io, io_cb, fd, EV_READ);
  ev_io_start(loop, &io);
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    ev_run(loop, EVRUN_NOWAIT);
  nb_report("iteration", nb_wall() - w, nb_cpu() - c, n);
  ev_io_stop(loop, &io);
  close(fd);
}

static void start_timers(struct ev_loop *loop, ev_timer *t, long n) {
  for (long i = 0; i < n; i++) {
    ev_timer_init(&t[i], timer_cb, nb_timer_ms(i) / 1000.0, 0.);
    ev_timer_start(loop, &t[i]);
  }
}

static void timers(struct ev_loop *loop, long n) {
  ev_timer *t = malloc((size_t)n * sizeof(*t));
  double w = nb_wall(), c = nb_cpu();
  start_timers(loop, t, n);
  ev_run(loop, 0);
  nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
  free(t);
}

static void timers_cancel(struct ev_loop *loop, long n) {
  ev_timer *t = malloc((size_t)n * sizeof(*t));
  double w = nb_wall(), c = nb_cpu();
  start_timers(loop, t, n);
  for (long i = 0; i < n; i++)
    ev_timer_stop(loop, &t[i]);
  ev_run(loop, EVRUN_NOWAIT);
  nb_report("timers_cancel", nb_wall() - w, nb_cpu() - c, n - fired);
  free(t);
}

static struct ev_loop *the_loop;

static void async_send(nb_pinger_t *p) {
  ev_async_send(the_loop, p->watcher);
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents) {
  (void)revents;
  nb_answer(w->data);
  if (--left == 0)
    ev_break(loop, EVBREAK_ALL);
}

static void threadsafe(struct ev_loop *loop, long n, int threads) {
  nb_pinger_t p[64];
  ev_async a[64];
  nb_pingers_init(p, threads, n, async_send);
  the_loop = loop;
  for (int i = 0; i < threads; i++) {
    ev_async_init(&a[i], async_cb);
    a[i].data = &p[i];
    p[i].watcher = &a[i];
    ev_async_start(loop, &a[i]);
  }
  left = nb_pingers_total(p, threads);
  double w = nb_wall(), c = nb_cpu();
  nb_pingers_start(p, threads);
  ev_run(loop, 0);
  nb_pingers_join(p, threads);
  nb_report_threads(nb_wall() - w, nb_cpu() - c, nb_pingers_total(p, threads),
                    threads);
  for (int i = 0; i < threads; i++)
    ev_async_stop(loop, &a[i]);
}

static void timer_mem(struct ev_loop *loop, long n) {
  ev_timer **t = malloc((size_t)n * sizeof(*t));
  long rss = nb_rss();
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++) {
    t[i] = malloc(sizeof(**t));
    ev_timer_init(t[i], timer_cb, nb_far_ms(i) / 1000.0, 0.);
    ev_timer_start(loop, t[i]);
  }
  double dw = nb_wall() - w, dc = nb_cpu() - c;
  /* The pointer array is the benchmark's, not the timers': not counted. */
  nb_report_mem(dw, dc, n, nb_rss() - rss - (long)(n * sizeof(*t)));
  for (long i = 0; i < n; i++) {
    ev_timer_stop(loop, t[i]);
    free(t[i]);
  }
  free(t);
}

int main(int argc, char **argv) {
  if (argc < 3)
    return nb_usage(argv[0]);
  const char *wl = argv[1];
  long n = atol(argv[2]);
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (!strcmp(wl, "chain"))
    chain(loop, n);
  else if (!strcmp(wl, "iteration"))
    iteration(loop, n);
  else if (!strcmp(wl, "timers"))
    timers(loop, n);
  else if (!strcmp(wl, "timers_cancel"))
    timers_cancel(loop, n);
  else if (!strcmp(wl, "threadsafe") && nb_threads_arg(argc, argv))
    threadsafe(loop, n, nb_threads_arg(argc, argv));
  else if (!strcmp(wl, "timer_mem"))
    timer_mem(loop, n);
  else
    return nb_usage(argv[0]);
  ev_loop_destroy(loop);
  return 0;
}
