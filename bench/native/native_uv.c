/* bench/native/native_uv.c — the loop_bench workloads written directly on
 * libuv, as a careful libuv user would. chain: an idle handle counting loop
 * iterations (libuv's loop_count); timers: million_timers. */
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

int main(int argc, char **argv) {
  if (argc != 3)
    return nb_usage(argv[0]);
  long n = atol(argv[2]);
  uv_loop_t loop;
  uv_loop_init(&loop);
  if (!strcmp(argv[1], "chain")) {
    uv_idle_t idle;
    uv_idle_init(&loop, &idle);
    left = n;
    double w = nb_wall(), c = nb_cpu();
    uv_idle_start(&idle, idle_cb);
    uv_run(&loop, UV_RUN_DEFAULT);
    nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
    uv_close((uv_handle_t *)&idle, NULL);
  } else if (!strcmp(argv[1], "timers")) {
    uv_timer_t *t = malloc((size_t)n * sizeof(*t));
    double w = nb_wall(), c = nb_cpu();
    for (long i = 0; i < n; i++) {
      uv_timer_init(&loop, &t[i]);
      uv_timer_start(&t[i], timer_cb, nb_timer_ms(i), 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
    for (long i = 0; i < n; i++)
      uv_close((uv_handle_t *)&t[i], NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    free(t);
  } else {
    return nb_usage(argv[0]);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
