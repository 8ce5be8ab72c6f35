/* examples/demo/demo.c — a first look at interloop: a countdown of timers,
 * call_soon ordering, and a callback sent from another thread, on whichever
 * backend INTERLOOP_BACKEND names (default: builtin). */
#include <interloop/interloop.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct demo {
  il_loop_t *loop;
  double start;
  int countdown;
  int failures;
} demo_t;

static double elapsed(demo_t *d) {
  return il_loop_time(d->loop) - d->start;
}

static int say(il_loop_t *loop, void *arg) {
  (void)loop;
  printf("  call_soon: %s\n", (const char *)arg);
  return 0;
}

static int tick(il_loop_t *loop, void *arg) {
  demo_t *d = arg;
  if (d->countdown > 0) {
    printf("  [%5.3f s] countdown: %d\n", elapsed(d), d->countdown);
    d->countdown--;
    return il_loop_call_later(loop, 0.1, tick, d, NULL);
  }
  printf("  [%5.3f s] countdown: liftoff\n", elapsed(d));
  return il_loop_stop(loop);
}

static int from_thread(il_loop_t *loop, void *arg) {
  (void)loop;
  demo_t *d = arg;
  printf("  [%5.3f s] a callback sent by another thread ran on the loop "
         "thread\n",
         elapsed(d));
  return 0;
}

static void *worker(void *arg) {
  demo_t *d = arg;
  struct timespec ts = {0, 150 * 1000 * 1000};
  nanosleep(&ts, NULL);
  if (il_loop_call_soon_threadsafe(d->loop, from_thread, d) != 0)
    d->failures++;
  return NULL;
}

int main(void) {
  demo_t d = {0};
  int rc = il_loop_new(&d.loop, NULL);
  if (rc != 0) {
    fprintf(stderr, "demo: cannot create a loop: %s\n",
            il_loop_last_error_message());
    return 1;
  }
  printf("interloop %s on backend \"%s\" (%s)\n", il_version_string(),
         il_loop_backend_name(d.loop), il_loop_engine_version(d.loop));
  d.start = il_loop_time(d.loop);
  d.countdown = 3;

  printf("call_soon runs callbacks in the order they were scheduled:\n");
  il_loop_call_soon(d.loop, say, "first", NULL);
  il_loop_call_soon(d.loop, say, "second", NULL);
  il_loop_call_soon(d.loop, say, "third", NULL);
  il_loop_run(d.loop, IL_RUN_NOWAIT);

  printf("timers, and a thread-safe call 0.15 s in:\n");
  pthread_t t;
  pthread_create(&t, NULL, worker, &d);
  il_loop_call_later(d.loop, 0.1, tick, &d, NULL);
  rc = il_loop_run(d.loop, IL_RUN_DEFAULT);
  pthread_join(t, NULL);
  printf("done in %.3f s on %s\n", elapsed(&d), il_loop_backend_name(d.loop));
  il_loop_free(d.loop);
  if (rc != 0 || d.failures) {
    printf("FAILED\n");
    return 1;
  }
  return 0;
}
