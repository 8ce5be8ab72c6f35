/* bench/native/native_uv.c — loop_bench's workloads written directly on
 * libuv, as a careful libuv user would:
 *   chain          an idle handle counting loop iterations (loop_count)
 *   iteration      uv_run(UV_RUN_NOWAIT) N times, one idle fd polled
 *   timers         million_timers: N uv_timer_t started, all fired
 *   timers_cancel  N timers started then stopped, then one NOWAIT pass
 *   threadsafe     T threads ping-pong with the loop through one
 *                  uv_async_t each (async1..N)
 *   timer_mem      RSS growth per pending timer, one malloc'd uv_timer_t each
 * Run: native_uv WORKLOAD N [THREADS]; prints native.h's line. */
#include "native.h"

#include <uv.h>

static long left, fired;

static void idle_cb(uv_idle_t *h) {
  if (--left == 0) {
    uv_idle_stop(h);
    uv_stop(h->loop);
  }
}

static void timer_cb(uv_timer_t *t) {
  (void)t;
  fired++;
}

static void chain(uv_loop_t *loop, long n) {
  uv_idle_t idle;
  uv_idle_init(loop, &idle);
  left = n;
  double w = nb_wall(), c = nb_cpu();
  uv_idle_start(&idle, idle_cb);
  uv_run(loop, UV_RUN_DEFAULT);
  nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
  uv_close((uv_handle_t *)&idle, NULL);
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
}

static void iteration(uv_loop_t *loop, long n) {
  int fd = nb_idle_fd();
  uv_poll_t poll;
  uv_poll_init(loop, &poll, fd);
  uv_poll_start(&poll, UV_READABLE, poll_cb);
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    uv_run(loop, UV_RUN_NOWAIT);
  nb_report("iteration", nb_wall() - w, nb_cpu() - c, n);
  uv_close((uv_handle_t *)&poll, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  close(fd);
}

static void close_timers(uv_loop_t *loop, uv_timer_t *t, long n) {
  for (long i = 0; i < n; i++)
    uv_close((uv_handle_t *)&t[i], NULL);
  uv_run(loop, UV_RUN_DEFAULT);
}

static void timers(uv_loop_t *loop, long n) {
  uv_timer_t *t = malloc((size_t)n * sizeof(*t));
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++) {
    uv_timer_init(loop, &t[i]);
    uv_timer_start(&t[i], timer_cb, nb_timer_ms(i), 0);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
  close_timers(loop, t, n);
  free(t);
}

static void timers_cancel(uv_loop_t *loop, long n) {
  uv_timer_t *t = malloc((size_t)n * sizeof(*t));
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++) {
    uv_timer_init(loop, &t[i]);
    uv_timer_start(&t[i], timer_cb, nb_timer_ms(i), 0);
  }
  for (long i = 0; i < n; i++)
    uv_timer_stop(&t[i]);
  uv_run(loop, UV_RUN_NOWAIT);
  nb_report("timers_cancel", nb_wall() - w, nb_cpu() - c, n - fired);
  close_timers(loop, t, n);
  free(t);
}

static void async_send(nb_pinger_t *p) {
  uv_async_send(p->watcher);
}

static void async_cb(uv_async_t *a) {
  nb_answer(a->data);
  if (--left == 0)
    uv_stop(a->loop);
}

static void threadsafe(uv_loop_t *loop, long n, int threads) {
  nb_pinger_t p[64];
  uv_async_t a[64];
  nb_pingers_init(p, threads, n, async_send);
  for (int i = 0; i < threads; i++) {
    uv_async_init(loop, &a[i], async_cb);
    a[i].data = &p[i];
    p[i].watcher = &a[i];
  }
  left = nb_pingers_total(p, threads);
  double w = nb_wall(), c = nb_cpu();
  nb_pingers_start(p, threads);
  uv_run(loop, UV_RUN_DEFAULT);
  nb_pingers_join(p, threads);
  nb_report_threads(nb_wall() - w, nb_cpu() - c, nb_pingers_total(p, threads),
                    threads);
  for (int i = 0; i < threads; i++)
    uv_close((uv_handle_t *)&a[i], NULL);
  uv_run(loop, UV_RUN_DEFAULT);
}

static void free_handle(uv_handle_t *h) {
  free(h);
}

static void timer_mem(uv_loop_t *loop, long n) {
  uv_timer_t **t = malloc((size_t)n * sizeof(*t));
  long rss = nb_rss();
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++) {
    t[i] = malloc(sizeof(**t));
    uv_timer_init(loop, t[i]);
    uv_timer_start(t[i], timer_cb, nb_far_ms(i), 0);
  }
  double dw = nb_wall() - w, dc = nb_cpu() - c;
  /* The pointer array is the benchmark's, not the timers': not counted. */
  nb_report_mem(dw, dc, n, nb_rss() - rss - (long)(n * sizeof(*t)));
  for (long i = 0; i < n; i++)
    uv_close((uv_handle_t *)t[i], free_handle);
  uv_run(loop, UV_RUN_DEFAULT);
  free(t);
}

int main(int argc, char **argv) {
  if (argc < 3)
    return nb_usage(argv[0]);
  const char *wl = argv[1];
  long n = atol(argv[2]);
  uv_loop_t loop;
  uv_loop_init(&loop);
  if (!strcmp(wl, "chain"))
    chain(&loop, n);
  else if (!strcmp(wl, "iteration"))
    iteration(&loop, n);
  else if (!strcmp(wl, "timers"))
    timers(&loop, n);
  else if (!strcmp(wl, "timers_cancel"))
    timers_cancel(&loop, n);
  else if (!strcmp(wl, "threadsafe") && nb_threads_arg(argc, argv))
    threadsafe(&loop, n, nb_threads_arg(argc, argv));
  else if (!strcmp(wl, "timer_mem"))
    timer_mem(&loop, n);
  else
    return nb_usage(argv[0]);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
