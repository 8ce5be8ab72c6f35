/* adapters/event/test_adopt.c — an application that owns its event_base.
 *
 * It creates the base with its own native events (a timer and an fd
 * watcher), adopts it with il_event_adopt(), schedules interloop work
 * (call_soon, call_later, add_reader, a signal handler, call_soon_threadsafe
 * from a thread) and drives the base only with libevent's own run calls. It
 * checks that everything ran, that interloop's pending work keeps
 * event_base_dispatch() going while its idle wakeup does not, that a
 * thread-safe call wakes the blocked base, and that after il_loop_close()
 * the application's events still work and none of interloop's is left. */
#include <interloop/event.h>
#include <interloop/interloop.h>

#include <event2/event.h>

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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* ---- the application's own events ---------------------------------------- */

typedef struct app {
  struct event_base *base;
  struct event *timer, *reader;
  int pair[2];
  int timer_calls, reader_calls;
} app_t;

static void app_timer_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  ((app_t *)arg)->timer_calls++;
}

static void app_reader_cb(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  char buf[64];
  if (read(fd, buf, sizeof(buf)) > 0)
    ((app_t *)arg)->reader_calls++;
}

static void app_arm_timer(app_t *a, long usec) {
  struct timeval tv = {0, usec};
  CHECK(event_add(a->timer, &tv) == 0);
}

static int count_events(struct event_base *base) {
  return event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED |
                                             EVENT_BASE_COUNT_ACTIVE |
                                             EVENT_BASE_COUNT_VIRTUAL);
}

/* Every event on the base, internal ones included, must be the app's. */
typedef struct foreign_count {
  const app_t *app;
  int others;
} foreign_count_t;

static int count_others(const struct event_base *base, const struct event *ev,
                        void *arg) {
  (void)base;
  foreign_count_t *c = arg;
  if (ev != c->app->timer && ev != c->app->reader)
    c->others++;
  return 0;
}

static int others_on_base(const app_t *a) {
  foreign_count_t c = {a, 0};
  event_base_foreach_event(a->base, count_others, &c);
  return c.others;
}

/* ---- interloop's work ------------------------------------------------------
 */

typedef struct work {
  pthread_t main_thread;
  int soon, later, reader, signal, threadsafe;
  double later_scheduled, later_ran;
  int threadsafe_on_main;
  int break_base; /* the thread-safe callback breaks the app's loop */
  struct event_base *base;
} work_t;

static int soon_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  ((work_t *)arg)->soon++;
  return 0;
}

static int later_cb(il_loop_t *loop, void *arg) {
  work_t *w = arg;
  w->later++;
  w->later_ran = il_loop_time(loop);
  return 0;
}

static int reader_cb(il_loop_t *loop, int fd, void *arg) {
  char buf[64];
  if (read(fd, buf, sizeof(buf)) > 0)
    ((work_t *)arg)->reader++;
  return il_loop_remove_reader(loop, fd) == 1 ? 0 : IL_EIO;
}

static int signal_cb(il_loop_t *loop, int signum, void *arg) {
  (void)loop;
  if (signum == SIGUSR1)
    ((work_t *)arg)->signal++;
  return 0;
}

static int threadsafe_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  work_t *w = arg;
  w->threadsafe++;
  w->threadsafe_on_main = pthread_equal(pthread_self(), w->main_thread);
  if (w->break_base)
    event_base_loopbreak(w->base); /* the application's own code */
  return 0;
}

typedef struct poster {
  il_loop_t *loop;
  work_t *work;
  double delay;
  int rc;
} poster_t;

static void *post_later(void *arg) {
  poster_t *p = arg;
  sleep_s(p->delay);
  p->rc = il_loop_call_soon_threadsafe(p->loop, threadsafe_cb, p->work);
  return NULL;
}

/* The application closes interloop from its own timer callback (not inside
 * il_loop_run, not inside an interloop callback) and drops its reader. */
typedef struct closer {
  il_loop_t *loop;
  app_t *app;
  int rc;
} closer_t;

static void close_from_app_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  closer_t *c = arg;
  c->rc = il_loop_free(c->loop);
  event_del(c->app->reader);
}

int main(void) {
  alarm(30); /* a hang fails loudly (SIGALRM) before ctest's limit */
  app_t a = {0};
  work_t w = {0};
  w.main_thread = pthread_self();

  /* The application: a base, a native timer and a native fd watcher. */
  a.base = event_base_new();
  CHECK(a.base != NULL);
  w.base = a.base;
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   a.pair) == 0);
  a.timer = evtimer_new(a.base, app_timer_cb, &a);
  a.reader =
      event_new(a.base, a.pair[0], EV_READ | EV_PERSIST, app_reader_cb, &a);
  CHECK(a.timer && a.reader);
  app_arm_timer(&a, 10000);
  CHECK(event_add(a.reader, NULL) == 0);
  int app_events = count_events(a.base);
  CHECK(app_events == 2);

  /* Adopt it. */
  il_loop_t *loop = NULL;
  CHECK(il_event_adopt(NULL, &loop) == IL_EINVAL);
  CHECK(il_event_adopt(a.base, NULL) == IL_EINVAL);
  CHECK(il_event_adopt(a.base, &loop) == 0);
  CHECK(il_loop_is_adopted(loop) == 1);
  CHECK(il_event_loop_get(loop) == a.base);
  CHECK(il_event_loop_get(NULL) == NULL);
  CHECK(il_loop_backend_ops(loop) == il_event_backend());
  CHECK(strcmp(il_loop_backend_name(loop), "event") == 0);
  CHECK(strncmp(il_loop_engine_version(loop), "libevent ", 9) == 0);
  /* An idle interloop adds nothing that counts as pending work. */
  CHECK(count_events(a.base) == app_events);

  /* interloop's work. */
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   pair) == 0);
  CHECK(il_loop_call_soon(loop, soon_cb, &w, NULL) == 0);
  w.later_scheduled = il_loop_time(loop);
  CHECK(il_loop_call_later(loop, 0.03, later_cb, &w, NULL) == 0);
  CHECK(il_loop_add_reader(loop, pair[0], reader_cb, &w) == 0);
  CHECK(il_loop_add_signal_handler(loop, SIGUSR1, signal_cb, &w) == 0);
  CHECK(write(pair[1], "il", 2) == 2);
  CHECK(write(a.pair[1], "app", 3) == 3);
  CHECK(raise(SIGUSR1) == 0);
  poster_t p = {loop, &w, 0.02, 1};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, post_later, &p) == 0);

  /* Driven only by libevent's own run call. */
  double t0 = now();
  while (!(w.soon && w.later && w.reader && w.signal && w.threadsafe &&
           a.timer_calls && a.reader_calls) &&
         now() - t0 < 10.0)
    CHECK(event_base_loop(a.base, EVLOOP_ONCE) >= 0);
  pthread_join(t, NULL);
  CHECK(p.rc == 0);
  CHECK(w.soon == 1 && w.later == 1 && w.reader == 1 && w.signal == 1);
  CHECK(w.threadsafe == 1 && w.threadsafe_on_main);
  CHECK(a.timer_calls == 1 && a.reader_calls == 1);
  CHECK(w.later_ran - w.later_scheduled >= 0.03);
  CHECK(il_loop_remove_signal_handler(loop, SIGUSR1) == 1);

  /* interloop's pending timer keeps event_base_dispatch() running the way
   * a native timer would (the app's reader is taken off for this). */
  CHECK(event_del(a.reader) == 0);
  CHECK(count_events(a.base) == 0 + 0); /* nothing of the app's is left */
  w.later = 0;
  double t1 = il_loop_time(loop);
  CHECK(il_loop_call_later(loop, 0.05, later_cb, &w, NULL) == 0);
  CHECK(event_base_dispatch(a.base) == 1); /* 1: ran out of events */
  CHECK(w.later == 1);
  CHECK(w.later_ran - t1 >= 0.05);

  /* Idle, interloop keeps nothing alive: its wakeup is internal. */
  t1 = now();
  CHECK(event_base_dispatch(a.base) == 1);
  CHECK(now() - t1 < 1.0);

  /* A thread-safe call wakes the application's blocked dispatch. */
  CHECK(event_add(a.reader, NULL) == 0);
  w.break_base = 1;
  w.threadsafe = 0;
  p = (poster_t){loop, &w, 0.05, 1};
  CHECK(pthread_create(&t, NULL, post_later, &p) == 0);
  t1 = now();
  CHECK(event_base_dispatch(a.base) == 0); /* left through loopbreak */
  pthread_join(t, NULL);
  CHECK(p.rc == 0);
  CHECK(w.threadsafe == 1 && w.threadsafe_on_main);
  CHECK(now() - t1 >= 0.04);

  /* Close interloop from one of the application's own callbacks, with a
   * reader, a 60 s timer and a ready callback pending: nothing of
   * interloop's may remain, so the application's dispatch ends with its
   * own last event instead of waiting for interloop's timer. */
  CHECK(il_loop_add_reader(loop, pair[0], reader_cb, &w) == 0);
  CHECK(il_loop_call_later(loop, 60.0, later_cb, &w, NULL) == 0);
  CHECK(il_loop_call_soon(loop, soon_cb, &w, NULL) == 0);
  CHECK(write(pair[1], "x", 1) == 1); /* the reader is active too */
  closer_t c = {loop, &a, 1};
  struct event *closing = evtimer_new(a.base, close_from_app_cb, &c);
  CHECK(closing != NULL);
  struct timeval now_tv = {0, 0};
  CHECK(event_add(closing, &now_tv) == 0);
  t1 = now();
  CHECK(event_base_dispatch(a.base) == 1); /* ran out of events */
  CHECK(now() - t1 < 5.0);
  CHECK(c.rc == 0);
  event_free(closing);
  CHECK(count_events(a.base) == 0);
  CHECK(others_on_base(&a) == 0);
  CHECK(event_add(a.reader, NULL) == 0);
  CHECK(count_events(a.base) == 1);

  /* The application's own events still work. */
  app_arm_timer(&a, 10000);
  CHECK(write(a.pair[1], "again", 5) == 5);
  t0 = now();
  while ((a.timer_calls < 2 || a.reader_calls < 2) && now() - t0 < 5.0)
    CHECK(event_base_loop(a.base, EVLOOP_ONCE) >= 0);
  CHECK(a.timer_calls == 2 && a.reader_calls == 2);
  CHECK(w.later == 1); /* the 60 s timer was dropped at close */

  event_free(a.reader);
  event_free(a.timer);
  event_base_free(a.base);
  close(a.pair[0]);
  close(a.pair[1]);
  close(pair[0]);
  close(pair[1]);
  printf("event-adopt-native: interloop ran on the application's "
         "event_base and left it clean\n");
  return 0;
}
