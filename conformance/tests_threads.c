/* conformance/tests_threads.c — SPEC.md §4.5: call_soon_threadsafe and the
 * loop's thread. */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { THREADS = 8, CALLS = 10000 };

typedef struct ts_call {
  struct ts_state *st;
  int thread, index;
} ts_call_t;

typedef struct ts_state {
  il_loop_t *loop;
  ts_call_t *calls; /* THREADS * CALLS */
  int last[THREADS];
  long total;
  long out_of_order;
  pthread_t loop_thread;
  long wrong_thread;
  int push_errors;
} ts_state_t;

static int ts_cb(il_loop_t *loop, void *arg) {
  ts_call_t *c = arg;
  ts_state_t *st = c->st;
  if (!pthread_equal(pthread_self(), st->loop_thread))
    st->wrong_thread++;
  if (c->index != st->last[c->thread] + 1)
    st->out_of_order++;
  st->last[c->thread] = c->index;
  if (++st->total == THREADS * CALLS)
    il_loop_stop(loop);
  return 0;
}

typedef struct ts_worker {
  ts_state_t *st;
  int thread;
} ts_worker_t;

static void *ts_worker(void *arg) {
  ts_worker_t *w = arg;
  for (int i = 0; i < CALLS; i++) {
    ts_call_t *c = &w->st->calls[w->thread * CALLS + i];
    if (il_loop_call_soon_threadsafe(w->st->loop, ts_cb, c) != 0)
      __atomic_add_fetch(&w->st->push_errors, 1, __ATOMIC_RELAXED);
    if ((i & 1023) == 0)
      sched_yield();
  }
  return NULL;
}

static int start_workers(il_loop_t *loop, void *arg) {
  (void)loop;
  void **a = arg;
  pthread_t *threads = a[0];
  ts_worker_t *workers = a[1];
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&threads[t], NULL, ts_worker, &workers[t]),
                     0);
  return 0;
}

IL_CONFORMANCE_TEST(test_threadsafe_many_threads_none_lost) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ts_state_t *st = calloc(1, sizeof(*st));
  st->loop = ctx->loop;
  st->calls = calloc(THREADS * CALLS, sizeof(*st->calls));
  st->loop_thread = pthread_self();
  for (int t = 0; t < THREADS; t++) {
    st->last[t] = -1;
    for (int i = 0; i < CALLS; i++)
      st->calls[t * CALLS + i] = (ts_call_t){st, t, i};
  }
  pthread_t threads[THREADS];
  ts_worker_t workers[THREADS];
  for (int t = 0; t < THREADS; t++)
    workers[t] = (ts_worker_t){st, t};
  void *args[2] = {threads, workers};
  /* The threads start once the loop runs, so calls race with passes. */
  assert_int_equal(il_loop_call_soon(ctx->loop, start_workers, args, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 50.0));
  for (int t = 0; t < THREADS; t++)
    pthread_join(threads[t], NULL);
  assert_int_equal(st->push_errors, 0);
  assert_int_equal(st->total, THREADS * CALLS);
  assert_int_equal(st->out_of_order, 0);
  assert_int_equal(st->wrong_thread, 0);
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(st->last[t], CALLS - 1);
  free(st->calls);
  free(st);
}

typedef struct waker {
  il_loop_t *loop;
  double delay;
  int rc;
} waker_t;

static void *wake_later(void *arg) {
  waker_t *w = arg;
  il_test_sleep(w->delay);
  w->rc = il_loop_call_soon_threadsafe(w->loop, il_test_stop_cb, NULL);
  return NULL;
}

IL_CONFORMANCE_TEST(test_threadsafe_wakes_blocked_loop) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  waker_t w = {ctx->loop, 0.05, 1};
  pthread_t t;
  double t0 = il_loop_time(ctx->loop);
  assert_int_equal(pthread_create(&t, NULL, wake_later, &w), 0);
  /* Nothing else is scheduled but the 10 s safety timer: only the
   * thread-safe call can end this run early. */
  assert_true(il_test_run_bounded(ctx->loop, 10.0));
  pthread_join(t, NULL);
  assert_int_equal(w.rc, 0);
  double dt = il_loop_time(ctx->loop) - t0;
  assert_true(dt >= 0.04);
  assert_true(dt < 5.0);
}

/* Ping-pong: each thread posts one call and waits for the loop's answer
 * before the next, so every call finds the queue empty and needs its own
 * wake-up of a loop that has just gone back to sleep — the interleaving in
 * which a backend that coalesces wake-ups can lose one (libuv's
 * uv_async_send reads its flag with a plain load). A round trip that gets
 * no answer within 2 s is a stall: the loop slept through a call. */
enum { PP_THREADS = 2, PP_TRIPS = 10000 };

typedef struct pp_state {
  il_loop_t *loop;
  sem_t answer[PP_THREADS];
  long done;
  int stalls, push_errors;
} pp_state_t;

typedef struct pp_worker {
  pp_state_t *st;
  int thread;
} pp_worker_t;

static int pp_answer(il_loop_t *loop, void *arg) {
  pp_worker_t *w = arg;
  if (++w->st->done == PP_THREADS * PP_TRIPS)
    il_loop_stop(loop);
  sem_post(&w->st->answer[w->thread]);
  return 0;
}

static void *pp_thread(void *arg) {
  pp_worker_t *w = arg;
  for (int i = 0; i < PP_TRIPS; i++) {
    if (il_loop_call_soon_threadsafe(w->st->loop, pp_answer, w) != 0) {
      __atomic_add_fetch(&w->st->push_errors, 1, __ATOMIC_RELAXED);
      return NULL;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    while (sem_timedwait(&w->st->answer[w->thread], &until) != 0) {
      if (errno != EINTR) {
        __atomic_add_fetch(&w->st->stalls, 1, __ATOMIC_RELAXED);
        return NULL;
      }
    }
  }
  return NULL;
}

IL_CONFORMANCE_TEST(test_threadsafe_pingpong_never_stalls) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  pp_state_t st = {.loop = ctx->loop};
  pp_worker_t w[PP_THREADS];
  pthread_t t[PP_THREADS];
  for (int i = 0; i < PP_THREADS; i++) {
    assert_int_equal(sem_init(&st.answer[i], 0, 0), 0);
    w[i] = (pp_worker_t){&st, i};
    assert_int_equal(pthread_create(&t[i], NULL, pp_thread, &w[i]), 0);
  }
  int finished = il_test_run_bounded(ctx->loop, 50.0);
  for (int i = 0; i < PP_THREADS; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < PP_THREADS; i++)
    sem_destroy(&st.answer[i]);
  assert_int_equal(st.push_errors, 0);
  assert_int_equal(st.stalls, 0);
  assert_true(finished);
  assert_int_equal(st.done, PP_THREADS * PP_TRIPS);
}

static void *push_once(void *arg) {
  waker_t *w = arg;
  w->rc = il_loop_call_soon_threadsafe(w->loop, il_test_stop_cb, NULL);
  return NULL;
}

IL_CONFORMANCE_TEST(test_threadsafe_after_close_eclosed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  assert_int_equal(il_loop_close(ctx->loop), 0);
  assert_int_equal(
      il_loop_call_soon_threadsafe(ctx->loop, il_test_stop_cb, NULL),
      IL_ECLOSED);
  waker_t w = {ctx->loop, 0, 0};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, push_once, &w), 0);
  pthread_join(t, NULL);
  assert_int_equal(w.rc, IL_ECLOSED);
}

typedef struct intruder {
  il_loop_t *loop;
  int fd;
  int soon, later, reader, stop, close_rc, stats, threadsafe;
} intruder_t;

static int never(il_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  return 0;
}

static int never_io(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (void)arg;
  return 0;
}

static void *intrude(void *arg) {
  intruder_t *in = arg;
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  in->soon = il_loop_call_soon(in->loop, never, NULL, NULL);
  in->later = il_loop_call_later(in->loop, 0.1, never, NULL, NULL);
  in->reader = il_loop_add_reader(in->loop, in->fd, never_io, NULL);
  in->stop = il_loop_stop(in->loop);
  in->close_rc = il_loop_close(in->loop);
  in->stats = il_loop_get_stats(in->loop, &st);
  in->threadsafe =
      il_loop_call_soon_threadsafe(in->loop, il_test_stop_cb, NULL);
  return NULL;
}

static int spawn_intruder(il_loop_t *loop, void *arg) {
  (void)loop;
  void **a = arg;
  return pthread_create((pthread_t *)a[0], NULL, intrude, a[1]) ? IL_EAGAIN : 0;
}

IL_CONFORMANCE_TEST(test_wrong_thread_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  intruder_t in = {ctx->loop, fds[0], 1, 1, 1, 1, 1, 1, 1};
  pthread_t t;
  void *args[2] = {&t, &in};
  assert_int_equal(il_loop_call_soon(ctx->loop, spawn_intruder, args, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  pthread_join(t, NULL);
  assert_int_equal(in.soon, IL_EWRONGTHREAD);
  assert_int_equal(in.later, IL_EWRONGTHREAD);
  assert_int_equal(in.reader, IL_EWRONGTHREAD);
  assert_int_equal(in.stop, IL_EWRONGTHREAD);
  assert_int_equal(in.close_rc, IL_EWRONGTHREAD);
  assert_int_equal(in.stats, IL_EWRONGTHREAD);
  assert_int_equal(in.threadsafe, 0);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(ctx->loop, &st), 0);
  assert_int_equal(st.readers, 0);
  assert_int_equal(st.timers, 0);
  assert_int_equal(il_loop_is_closed(ctx->loop), 0);
  /* An adopted loop belongs to its adopting thread even between runs. */
  if (ctx->adopted) {
    in = (intruder_t){ctx->loop, fds[0], 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(pthread_create(&t, NULL, intrude, &in), 0);
    pthread_join(t, NULL);
    assert_int_equal(in.soon, IL_EWRONGTHREAD);
    assert_int_equal(in.close_rc, IL_EWRONGTHREAD);
    assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  }
  close(fds[0]);
  close(fds[1]);
}
