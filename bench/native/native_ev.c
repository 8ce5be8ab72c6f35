/* bench/native/native_ev.c — the loop_bench workloads written directly on
 * libev. chain: an ev_idle counting iterations; timers: million_timers. */
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

int main(int argc, char **argv) {
  if (argc != 3)
    return nb_usage(argv[0]);
  long n = atol(argv[2]);
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  if (!strcmp(argv[1], "chain")) {
    ev_idle idle;
    ev_idle_init(&idle, idle_cb);
    left = n;
    double w = nb_wall(), c = nb_cpu();
    ev_idle_start(loop, &idle);
    ev_run(loop, 0);
    nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
  } else if (!strcmp(argv[1], "timers")) {
    ev_timer *t = malloc((size_t)n * sizeof(*t));
    double w = nb_wall(), c = nb_cpu();
    for (long i = 0; i < n; i++) {
      ev_timer_init(&t[i], timer_cb, nb_timer_ms(i) / 1000.0, 0.);
      ev_timer_start(loop, &t[i]);
    }
    ev_run(loop, 0);
    nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
    free(t);
  } else {
    return nb_usage(argv[0]);
  }
  ev_loop_destroy(loop);
  return 0;
}
