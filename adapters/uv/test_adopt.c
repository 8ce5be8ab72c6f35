/* adapters/uv/test_adopt.c — uv-adopt-native: an application that owns a
 * libuv loop with its own handles adopts it with il_uv_adopt() and keeps
 * driving it with uv_run() only.
 *
 * 1. drive: a native repeating timer and a native fd watcher run alongside
 *    interloop's call_soon, call_later, add_reader, a signal handler and
 *    call_soon_threadsafe from another thread, all driven by uv_run(ONCE).
 *    After il_loop_close the native handles still work and, once the loop
 *    has run once (UV_RUN_NOWAIT) for the close callbacks libuv requires of
 *    any closed handle, only the application's two handles are left;
 *    uv_loop_close() then returns 0.
 * 2. keep-alive: with nothing of the application's active, uv_run(DEFAULT)
 *    goes on exactly while interloop has a pending timer, ready callback, fd
 *    watcher or signal handler; the wakeup alone does not keep it, and a
 *    thread-safe call sent while nothing keeps the loop runs on the next
 *    iteration the application makes. il_loop_stop() never ends the
 *    application's uv_run; il_loop_run() works between uv_runs.
 * 3. close from a native callback, with interloop work still pending: the
 *    application's uv_run then ends with its own last handle.
 * 4. the API: argument errors, il_uv_loop_get() on other backends, and the
 *    plugin serving this library's ops when both are in the process.
 *
 * Plain asserts (CHECK) and a non-zero exit on failure; alarm() turns a
 * hang into a failure. */
#include <interloop/interloop.h>
#include <interloop/uv.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_RC(expr, want)                                                   \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_ != (want)) {                                                       \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__,        \
              __LINE__, #expr, il_err_name(rc_), il_err_name(want));           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void pair(int fds[2]) {
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) == 0);
}

/* ---- the application's own handles --------------------------------------- */

typedef struct app {
  uv_loop_t uv;
  uv_timer_t timer;
  uv_poll_t poll;
  int fds[2]; /* the timer writes to fds[1], the poll reads fds[0] */
  int ticks, reads;
  int stop_after; /* the timer stops itself after this many ticks (0: never) */
  il_loop_t *close_me; /* the timer closes this interloop loop */
  int close_rc;
} app_t;

static void app_tick(uv_timer_t *t) {
  app_t *a = t->data;
  a->ticks++;
  CHECK(write(a->fds[1], "t", 1) == 1);
  if (a->close_me) {
    a->close_rc = il_loop_close(a->close_me);
    a->close_me = NULL;
  }
  if (a->stop_after && a->ticks >= a->stop_after)
    uv_timer_stop(t);
}

static void app_read(uv_poll_t *p, int status, int events) {
  app_t *a = p->data;
  char buf[64];
  CHECK(status == 0);
  CHECK(events & UV_READABLE);
  ssize_t n = read(a->fds[0], buf, sizeof(buf));
  if (n > 0)
    a->reads += (int)n;
}

static void app_init(app_t *a) {
  memset(a, 0, sizeof(*a));
  CHECK(uv_loop_init(&a->uv) == 0);
  pair(a->fds);
  CHECK(uv_timer_init(&a->uv, &a->timer) == 0);
  CHECK(uv_poll_init(&a->uv, &a->poll, a->fds[0]) == 0);
  a->timer.data = a->poll.data = a;
}

static void app_start(app_t *a, uint64_t every_ms) {
  CHECK(uv_timer_start(&a->timer, app_tick, every_ms, every_ms) == 0);
  CHECK(uv_poll_start(&a->poll, UV_READABLE, app_read) == 0);
}

static void app_stop(app_t *a) {
  uv_timer_stop(&a->timer);
  uv_poll_stop(&a->poll);
}

typedef struct walk {
  int total, active, closing, ours;
  app_t *a;
} walk_t;

static void walk_cb(uv_handle_t *h, void *arg) {
  walk_t *w = arg;
  w->total++;
  w->active += uv_is_active(h) != 0;
  w->closing += uv_is_closing(h) != 0;
  w->ours +=
      h == (uv_handle_t *)&w->a->timer || h == (uv_handle_t *)&w->a->poll;
}

static walk_t census(app_t *a) {
  walk_t w = {0, 0, 0, 0, a};
  uv_walk(&a->uv, walk_cb, &w);
  return w;
}

/* After il_loop_close: the application's handles still work, and once the
 * loop ran for the close callbacks only they are left on it. */
static void app_check_after_close(app_t *a) {
  int ticks = a->ticks, reads = a->reads;
  a->stop_after = 0;
  app_start(a, 2);
  double t0 = now_s();
  while ((a->ticks < ticks + 3 || a->reads < reads + 3) && now_s() - t0 < 5)
    uv_run(&a->uv, UV_RUN_ONCE);
  CHECK(a->ticks >= ticks + 3);
  CHECK(a->reads >= reads + 3);
  app_stop(a);
  /* libuv calls close callbacks only from uv_run: one non-blocking run, as
   * for any handle the application closes itself. */
  uv_run(&a->uv, UV_RUN_NOWAIT);
  walk_t w = census(a);
  CHECK(w.total == 2 && w.ours == 2); /* nothing of interloop's is left */
  uv_close((uv_handle_t *)&a->timer, NULL);
  uv_close((uv_handle_t *)&a->poll, NULL);
  uv_run(&a->uv, UV_RUN_NOWAIT);
  CHECK(uv_loop_close(&a->uv) == 0);
  close(a->fds[0]);
  close(a->fds[1]);
}

/* ---- interloop callbacks ------------------------------------------------- */

typedef struct work {
  int soon, later, reader, threadsafe, signal;
  double later_when;
  int later_early;
  pthread_t loop_thread;
  int wrong_thread;
} work_t;

static int on_soon(il_loop_t *loop, void *arg) {
  (void)loop;
  work_t *w = arg;
  w->soon++;
  return 0;
}

static int on_later(il_loop_t *loop, void *arg) {
  work_t *w = arg;
  w->later++;
  if (il_loop_time(loop) < w->later_when)
    w->later_early = 1;
  return 0;
}

static int on_read(il_loop_t *loop, int fd, void *arg) {
  work_t *w = arg;
  char buf[16];
  if (read(fd, buf, sizeof(buf)) > 0)
    w->reader++;
  CHECK(il_loop_remove_reader(loop, fd) == 1);
  return 0;
}

static int on_threadsafe(il_loop_t *loop, void *arg) {
  (void)loop;
  work_t *w = arg;
  w->threadsafe++;
  if (!pthread_equal(pthread_self(), w->loop_thread))
    w->wrong_thread = 1;
  return 0;
}

static int on_signal(il_loop_t *loop, int signum, void *arg) {
  work_t *w = arg;
  CHECK(signum == SIGUSR2);
  w->signal++;
  CHECK(il_loop_remove_signal_handler(loop, SIGUSR2) == 1);
  return 0;
}

static int on_stop(il_loop_t *loop, void *arg) {
  (void)arg;
  return il_loop_stop(loop);
}

typedef struct later_action {
  il_loop_t *loop;
  double delay;
  work_t *work;
  int fd;     /* >= 0: write to it */
  int signum; /* > 0: send it */
  int rc;
} later_action_t;

static void *act_later(void *arg) {
  later_action_t *l = arg;
  sleep_s(l->delay);
  if (l->fd >= 0)
    CHECK(write(l->fd, "x", 1) == 1);
  else if (l->signum > 0)
    kill(getpid(), l->signum);
  else
    l->rc = il_loop_call_soon_threadsafe(l->loop, on_threadsafe, l->work);
  return NULL;
}

static later_action_t action(il_loop_t *loop, double delay, work_t *w) {
  later_action_t l = {loop, delay, w, -1, 0, 0};
  return l;
}

/* ---- 1. interloop work driven by the application's uv_run ---------------- */

static void scenario_drive(void) {
  app_t a;
  app_init(&a);
  app_start(&a, 5);
  il_loop_t *loop;
  CHECK_RC(il_uv_adopt(&a.uv, &loop), 0);
  CHECK(il_uv_loop_get(loop) == &a.uv);
  CHECK(il_loop_is_adopted(loop) == 1);
  CHECK(strcmp(il_loop_backend_name(loop), "uv") == 0);
  CHECK(strncmp(il_loop_engine_version(loop), "libuv ", 6) == 0);

  work_t w = {0};
  w.loop_thread = pthread_self();
  int fds[2];
  pair(fds);
  CHECK_RC(il_loop_call_soon(loop, on_soon, &w, NULL), 0);
  w.later_when = il_loop_time(loop) + 0.03;
  CHECK_RC(il_loop_call_later(loop, 0.03, on_later, &w, NULL), 0);
  CHECK_RC(il_loop_add_reader(loop, fds[0], on_read, &w), 0);
  CHECK_RC(il_loop_add_signal_handler(loop, SIGUSR2, on_signal, &w), 0);
  CHECK(write(fds[1], "ping", 4) == 4);
  later_action_t ts = action(loop, 0.02, &w);
  later_action_t sig = action(loop, 0.01, &w);
  sig.signum = SIGUSR2;
  pthread_t t1, t2;
  CHECK(pthread_create(&t1, NULL, act_later, &ts) == 0);
  CHECK(pthread_create(&t2, NULL, act_later, &sig) == 0);

  double t0 = now_s();
  while ((!w.soon || !w.later || !w.reader || !w.threadsafe || !w.signal) &&
         now_s() - t0 < 5.0)
    uv_run(&a.uv, UV_RUN_ONCE);
  CHECK(pthread_join(t1, NULL) == 0);
  CHECK(pthread_join(t2, NULL) == 0);
  CHECK_RC(ts.rc, 0);
  CHECK(w.soon == 1 && w.later == 1 && w.reader == 1 && w.threadsafe == 1 &&
        w.signal == 1);
  CHECK(!w.later_early && !w.wrong_thread);
  CHECK(a.ticks >= 3 && a.reads >= 3); /* the application's own handles ran */

  /* A few more iterations: nothing of interloop's runs twice. */
  for (int i = 0; i < 5; i++)
    uv_run(&a.uv, UV_RUN_ONCE);
  CHECK(w.soon == 1 && w.later == 1 && w.reader == 1 && w.threadsafe == 1);

  CHECK_RC(il_loop_close(loop), 0);
  CHECK(il_uv_loop_get(loop) == NULL);
  CHECK_RC(il_loop_free(loop), 0);
  /* Until the loop runs, interloop's handles are closing, none active. */
  walk_t c = census(&a);
  CHECK(c.total - c.ours == c.closing);
  app_check_after_close(&a);
  close(fds[0]);
  close(fds[1]);
}

/* ---- 2. what keeps the application's uv_run going ------------------------ */

static void scenario_keep_alive(void) {
  app_t a;
  app_init(&a);
  il_loop_t *loop;
  CHECK_RC(il_uv_adopt(&a.uv, &loop), 0);
  work_t w = {0};
  w.loop_thread = pthread_self();
  int fds[2];
  pair(fds);

  /* Nothing scheduled: interloop's handles alone do not keep it. */
  double t0 = now_s();
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(now_s() - t0 < 0.5);

  /* A pending timer does, until it ran. */
  w.later_when = il_loop_time(loop) + 0.03;
  CHECK_RC(il_loop_call_later(loop, 0.03, on_later, &w, NULL), 0);
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(w.later == 1 && !w.later_early);

  /* A ready callback does. */
  CHECK_RC(il_loop_call_soon(loop, on_soon, &w, NULL), 0);
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(w.soon == 1);

  /* An fd watcher does: the data comes 30 ms later, from another thread. */
  CHECK_RC(il_loop_add_reader(loop, fds[0], on_read, &w), 0);
  later_action_t wr = action(loop, 0.03, &w);
  wr.fd = fds[1];
  pthread_t t;
  CHECK(pthread_create(&t, NULL, act_later, &wr) == 0);
  t0 = now_s();
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(w.reader == 1);
  CHECK(now_s() - t0 >= 0.025);

  /* A signal handler does, as a native uv_signal_t would. */
  CHECK_RC(il_loop_add_signal_handler(loop, SIGUSR2, on_signal, &w), 0);
  later_action_t sig = action(loop, 0.03, &w);
  sig.signum = SIGUSR2;
  CHECK(pthread_create(&t, NULL, act_later, &sig) == 0);
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(w.signal == 1);

  /* A thread-safe call alone does not keep it: uv_run has returned long
   * before the call is made, and the call runs on the next iteration the
   * application makes — here one its own timer causes. */
  later_action_t ts = action(loop, 0.05, &w);
  CHECK(pthread_create(&t, NULL, act_later, &ts) == 0);
  t0 = now_s();
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(now_s() - t0 < 0.04);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK_RC(ts.rc, 0);
  CHECK(w.threadsafe == 0);
  a.stop_after = a.ticks + 1;
  CHECK(uv_timer_start(&a.timer, app_tick, 1, 0) == 0);
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(w.threadsafe == 1 && !w.wrong_thread);

  /* il_loop_stop() ends il_loop_run() only: the application's uv_run goes
   * on until its own timer has ticked five times. */
  CHECK_RC(il_loop_call_soon(loop, on_stop, NULL, NULL), 0);
  a.stop_after = a.ticks + 5;
  CHECK(uv_timer_start(&a.timer, app_tick, 2, 2) == 0);
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(a.ticks == a.stop_after);
  /* ... and the stop request waits for il_loop_run: one pass, then it
   * returns, blocking for nothing. */
  t0 = now_s();
  CHECK_RC(il_loop_run(loop, IL_RUN_DEFAULT), 0);
  CHECK(now_s() - t0 < 0.5);
  /* il_loop_run between the application's runs, until interloop's stop. */
  CHECK_RC(il_loop_call_later(loop, 0.02, on_stop, NULL, NULL), 0);
  t0 = now_s();
  CHECK_RC(il_loop_run(loop, IL_RUN_DEFAULT), 0);
  CHECK(now_s() - t0 >= 0.02);

  /* 3. Closed from inside the application's own callback, with a reader, a
   * 10 s timer and a ready callback still pending: the application's
   * uv_run then ends with its own last handle, long before 10 s. */
  int never = 0;
  w.reader = 0;
  CHECK_RC(il_loop_add_reader(loop, fds[0], on_read, &w), 0);
  CHECK_RC(il_loop_call_later(loop, 10.0, on_soon, &never, NULL), 0);
  CHECK_RC(il_loop_call_soon(loop, on_soon, &never, NULL), 0);
  a.close_me = loop;
  a.close_rc = 1;
  a.stop_after = a.ticks + 3;
  CHECK(uv_timer_start(&a.timer, app_tick, 0, 2) == 0);
  t0 = now_s();
  uv_run(&a.uv, UV_RUN_DEFAULT);
  CHECK(now_s() - t0 < 2.0);
  CHECK_RC(a.close_rc, 0);
  CHECK(il_loop_is_closed(loop));
  CHECK(never <= 1); /* the ready callback may have run before the close */
  CHECK_RC(il_loop_free(loop), 0);
  app_check_after_close(&a);
  close(fds[0]);
  close(fds[1]);
}

/* ---- 4. the API ---------------------------------------------------------- */

static void scenario_api(void) {
  il_loop_t *loop = (il_loop_t *)0x1;
  uv_loop_t uv;
  CHECK(uv_loop_init(&uv) == 0);
  CHECK_RC(il_uv_adopt(NULL, &loop), IL_EINVAL);
  CHECK(loop == NULL);
  CHECK_RC(il_uv_adopt(&uv, NULL), IL_EINVAL);
  CHECK(il_uv_loop_get(NULL) == NULL);
  CHECK(uv_loop_close(&uv) == 0);

  const il_backend_ops_t *ops = il_uv_backend();
  CHECK(ops && strcmp(ops->name, "uv") == 0);
  CHECK(ops->features & IL_BACKEND_F_ADOPT);

  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = "builtin";
  CHECK_RC(il_loop_new(&loop, &opts), 0);
  CHECK(il_uv_loop_get(loop) == NULL);
  CHECK_RC(il_loop_free(loop), 0);

  /* By name, through the plugin: it serves this library's ops (one adapter
   * per process), on a loop it owns. */
  opts.backend = "uv";
  CHECK_RC(il_loop_new(&loop, &opts), 0);
  CHECK(il_loop_backend_ops(loop) == ops);
  CHECK(il_loop_is_adopted(loop) == 0);
  CHECK(il_uv_loop_get(loop) != NULL);
  work_t w = {0};
  CHECK_RC(il_loop_call_later(loop, 0.005, on_soon, &w, NULL), 0);
  CHECK_RC(il_loop_run(loop, IL_RUN_ONCE), 0);
  CHECK(w.soon == 1);
  CHECK_RC(il_loop_free(loop), 0);
}

int main(void) {
  alarm(60); /* a hang fails the test instead of stalling ctest */
  signal(SIGPIPE, SIG_IGN);
  scenario_drive();
  printf("uv-adopt-native: interloop driven by uv_run beside native handles: "
         "ok\n");
  scenario_keep_alive();
  printf("uv-adopt-native: keep-alive, stop, close from a native callback: "
         "ok\n");
  scenario_api();
  printf("uv-adopt-native: API and plugin: ok\n");
  return 0;
}
