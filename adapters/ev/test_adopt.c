/* adapters/ev/test_adopt.c — an application that runs its own libev loop,
 * with its own native watchers, and adopts it with il_ev_adopt().
 *
 * The loop is driven only with ev_run(), never with il_loop_run() (except to
 * check that il_loop_run() refuses to run inside the application's
 * callbacks). Checks: interloop's call_soon / call_later / add_reader /
 * call_soon_threadsafe work run; interloop's ready work, timers, fd watchers
 * and signal handlers keep ev_run alive as native watchers would, while the
 * thread-safe wakeup alone does not; the application's own watchers keep
 * working after il_loop_close(); an application's own ev_signal keeps
 * working beside interloop's handler for the same signal; and after
 * il_loop_close() no watcher of interloop's is left on the loop.
 *
 * "No watcher left" is checked with the engine's own count: ev_run() returns
 * the number of active, referenced watchers. A prepare watcher that breaks
 * at once turns an ev_run() call into a query (the iteration stops before
 * the poll and before any other watcher is looked at). Interloop's one
 * unreferenced watcher (its wakeup ev_async) cannot show there; under ASan a
 * leftover watcher of any kind that libev touched would be a use after free.
 *
 * Plain checks, exit status 1 on the first failure. */
#include <interloop/ev.h>
#include <interloop/interloop.h>

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
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n", __FILE__,   \
              __LINE__, #expr, rc_, il_err_name(rc_), (int)(want));            \
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

static void make_pair(int fds[2]) {
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) == 0);
}

/* ---- the engine's count of active referenced watchers ----------------------
 */

static void probe_break(struct ev_loop *ev, ev_prepare *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(ev, EVBREAK_ONE);
}

static int active_watchers(struct ev_loop *ev) {
  ev_prepare probe;
  ev_prepare_init(&probe, probe_break);
  ev_prepare_start(ev, &probe);
  ev_unref(ev); /* the probe does not count itself */
  int n = ev_run(ev, EVRUN_NOWAIT);
  ev_ref(ev);
  ev_prepare_stop(ev, &probe);
  return n;
}

/* ---- helper threads
 * ------------------------------------------------------------ */

typedef struct later_write {
  int fd;
  double delay;
  const char *data;
} later_write_t;

static void *write_later(void *arg) {
  later_write_t *w = arg;
  sleep_s(w->delay);
  CHECK(write(w->fd, w->data, strlen(w->data)) == (ssize_t)strlen(w->data));
  return NULL;
}

/* ---- scenario 1: interloop work beside the application's own watchers -------
 */

enum { TS_CALLS = 1000 };

typedef struct app {
  struct ev_loop *ev;
  il_loop_t *loop;
  pthread_t main_thread;
  /* the application's own watchers */
  ev_timer tick;
  int ticks;
  ev_io in;
  int app_fds[2];
  int app_reads;
  int timed_out;
  int run_inside_rc;
  /* interloop's work */
  int soon_ran;
  int later_ran;
  double later_at, later_when;
  il_handle_t *later_h;
  int il_fds[2];
  char got[16];
  size_t got_len;
  int reader_done;
  int ts_ran, ts_out_of_order, ts_wrong_thread;
} app_t;

static int all_done(const app_t *a) {
  return a->soon_ran && a->later_ran && a->reader_done &&
         a->ts_ran == TS_CALLS && a->app_reads > 0;
}

static void on_tick(struct ev_loop *ev, ev_timer *w, int revents) {
  (void)revents;
  app_t *a = w->data;
  a->ticks++;
  if (a->ticks == 1) {
    /* Inside the application's callback: interloop must refuse to run the
     * engine re-entrantly. */
    a->run_inside_rc = il_loop_run(a->loop, IL_RUN_NOWAIT);
    CHECK(write(a->app_fds[1], "t", 1) == 1);
  }
  if (all_done(a))
    ev_break(ev, EVBREAK_ALL);
  else if (a->ticks > 2000) { /* 10 s */
    a->timed_out = 1;
    ev_break(ev, EVBREAK_ALL);
  }
}

static void on_app_in(struct ev_loop *ev, ev_io *w, int revents) {
  (void)ev;
  (void)revents;
  app_t *a = w->data;
  char buf[16];
  if (read(w->fd, buf, sizeof(buf)) > 0)
    a->app_reads++;
}

static int soon_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  app_t *a = arg;
  CHECK(pthread_equal(pthread_self(), a->main_thread));
  a->soon_ran++;
  return 0;
}

static int later_cb(il_loop_t *loop, void *arg) {
  app_t *a = arg;
  a->later_at = il_loop_time(loop);
  a->later_ran++;
  return 0;
}

static int reader_cb(il_loop_t *loop, int fd, void *arg) {
  app_t *a = arg;
  ssize_t n = read(fd, a->got + a->got_len, sizeof(a->got) - a->got_len - 1);
  if (n > 0)
    a->got_len += (size_t)n;
  if (a->got_len >= 4) {
    CHECK(il_loop_remove_reader(loop, fd) == 1);
    a->reader_done = 1;
  }
  return 0;
}

typedef struct ts_call {
  app_t *a;
  int index;
} ts_call_t;

static ts_call_t ts_calls[TS_CALLS];

static int ts_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  ts_call_t *c = arg;
  if (c->index != c->a->ts_ran)
    c->a->ts_out_of_order++;
  if (!pthread_equal(pthread_self(), c->a->main_thread))
    c->a->ts_wrong_thread++;
  c->a->ts_ran++;
  return 0;
}

static void *ts_thread(void *arg) {
  app_t *a = arg;
  sleep_s(0.01);
  for (int i = 0; i < TS_CALLS; i++) {
    ts_calls[i] = (ts_call_t){a, i};
    CHECK_RC(il_loop_call_soon_threadsafe(a->loop, ts_cb, &ts_calls[i]), 0);
    if ((i & 63) == 0)
      sched_yield();
  }
  return NULL;
}

static void scenario_native_watchers(void) {
  app_t *a = calloc(1, sizeof(*a));
  CHECK(a);
  a->main_thread = pthread_self();
  a->ev = ev_loop_new(EVFLAG_AUTO);
  CHECK(a->ev);
  make_pair(a->app_fds);
  make_pair(a->il_fds);

  /* The application's own watchers, started before adoption. */
  ev_timer_init(&a->tick, on_tick, 0.005, 0.005);
  a->tick.data = a;
  ev_timer_start(a->ev, &a->tick);
  ev_io_init(&a->in, on_app_in, a->app_fds[0], EV_READ);
  a->in.data = a;
  ev_io_start(a->ev, &a->in);

  CHECK_RC(il_ev_adopt(NULL, &a->loop), IL_EINVAL);
  CHECK_RC(il_ev_adopt(a->ev, NULL), IL_EINVAL);
  CHECK_RC(il_ev_adopt(a->ev, &a->loop), 0);
  CHECK(il_ev_loop_get(a->loop) == a->ev);
  CHECK(il_loop_is_adopted(a->loop) == 1);
  CHECK(strcmp(il_loop_backend_name(a->loop), "ev") == 0);
  CHECK(strncmp(il_loop_engine_version(a->loop), "libev ", 6) == 0);
  CHECK(il_loop_backend_ops(a->loop) == il_ev_backend());

  CHECK_RC(il_loop_call_soon(a->loop, soon_cb, a, NULL), 0);
  CHECK_RC(il_loop_call_later(a->loop, 0.03, later_cb, a, &a->later_h), 0);
  a->later_when = il_handle_when(a->later_h);
  CHECK_RC(il_loop_add_reader(a->loop, a->il_fds[0], reader_cb, a), 0);
  later_write_t lw = {a->il_fds[1], 0.02, "ping"};
  pthread_t writer, pusher;
  CHECK(pthread_create(&writer, NULL, write_later, &lw) == 0);
  CHECK(pthread_create(&pusher, NULL, ts_thread, a) == 0);

  /* Only the engine's own run call drives the loop from here. */
  ev_run(a->ev, 0);

  CHECK(pthread_join(writer, NULL) == 0);
  CHECK(pthread_join(pusher, NULL) == 0);
  CHECK(!a->timed_out);
  CHECK_RC(a->run_inside_rc, IL_ERUNNING);
  CHECK(a->soon_ran == 1);
  CHECK(a->later_ran == 1);
  CHECK(a->later_at >= a->later_when);
  CHECK(a->got_len == 4 && memcmp(a->got, "ping", 4) == 0);
  CHECK(a->ts_ran == TS_CALLS);
  CHECK(a->ts_out_of_order == 0);
  CHECK(a->ts_wrong_thread == 0);
  CHECK(a->app_reads > 0 && a->ticks > 0);
  il_handle_release(a->later_h);

  /* Interloop leaves; the application's loop carries on. */
  CHECK_RC(il_loop_close(a->loop), 0);
  CHECK_RC(il_loop_free(a->loop), 0);
  a->loop = NULL;
  CHECK(ev_pending_count(a->ev) == 0);
  CHECK(active_watchers(a->ev) == 2); /* tick and in: the application's */

  int ticks0 = a->ticks, reads0 = a->app_reads;
  CHECK(write(a->app_fds[1], "u", 1) == 1);
  for (int i = 0; i < 1000 && (a->ticks == ticks0 || a->app_reads == reads0);
       i++)
    ev_run(a->ev, EVRUN_ONCE);
  CHECK(a->ticks > ticks0);
  CHECK(a->app_reads > reads0);

  ev_timer_stop(a->ev, &a->tick);
  ev_io_stop(a->ev, &a->in);
  CHECK(active_watchers(a->ev) == 0);
  CHECK(ev_pending_count(a->ev) == 0);
  /* Nothing of anyone's keeps ev_run alive now. */
  double t0 = now_s();
  CHECK(ev_run(a->ev, 0) == 0);
  CHECK(now_s() - t0 < 0.5);
  ev_loop_destroy(a->ev);
  close(a->app_fds[0]);
  close(a->app_fds[1]);
  close(a->il_fds[0]);
  close(a->il_fds[1]);
  free(a);
}

/* ---- scenario 2: what keeps ev_run alive; closing from a native callback ----
 */

static int count_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  (*(int *)arg)++;
  return 0;
}

typedef struct once_reader {
  int calls;
} once_reader_t;

static int read_once(il_loop_t *loop, int fd, void *arg) {
  once_reader_t *r = arg;
  char buf[8];
  if (read(fd, buf, sizeof(buf)) > 0)
    r->calls++;
  il_loop_remove_reader(loop, fd);
  return 0;
}

typedef struct later_call {
  il_loop_t *loop;
  double delay;
  int *counter;
} later_call_t;

static void *call_later_thread(void *arg) {
  later_call_t *c = arg;
  sleep_s(c->delay);
  CHECK_RC(il_loop_call_soon_threadsafe(c->loop, count_cb, c->counter), 0);
  return NULL;
}

static void *kill_later(void *arg) {
  sleep_s(*(double *)arg);
  kill(getpid(), SIGUSR1);
  return NULL;
}

static int sig_cb(il_loop_t *loop, int signum, void *arg) {
  (*(int *)arg)++;
  CHECK(il_loop_remove_signal_handler(loop, signum) == 1);
  return 0;
}

typedef struct closer {
  il_loop_t *loop;
  int rc;
} closer_t;

static void on_close_timer(struct ev_loop *ev, ev_timer *w, int revents) {
  (void)ev;
  (void)revents;
  closer_t *c = w->data;
  /* Inside the application's own callback, while its ev_run runs. */
  c->rc = il_loop_close(c->loop);
}

static void scenario_keep_alive(void) {
  struct ev_loop *ev = ev_loop_new(EVFLAG_AUTO);
  CHECK(ev);
  il_loop_t *loop;
  CHECK_RC(il_ev_adopt(ev, &loop), 0);

  /* Nothing scheduled: the wakeup watcher alone does not keep it alive. */
  double t0 = now_s();
  CHECK(ev_run(ev, 0) == 0);
  CHECK(now_s() - t0 < 0.5);

  /* A ready callback does, until it ran. */
  int soon = 0;
  CHECK_RC(il_loop_call_soon(loop, count_cb, &soon, NULL), 0);
  ev_run(ev, 0);
  CHECK(soon == 1);

  /* A pending timer does, until it fired — never early. */
  int later = 0;
  il_handle_t *h;
  CHECK_RC(il_loop_call_later(loop, 0.05, count_cb, &later, &h), 0);
  double when = il_handle_when(h);
  t0 = now_s();
  ev_run(ev, 0);
  CHECK(later == 1);
  CHECK(il_loop_time(loop) >= when);
  CHECK(now_s() - t0 >= 0.05);
  il_handle_release(h);

  /* An fd watcher does, until it is removed. */
  int fds[2];
  make_pair(fds);
  once_reader_t r = {0};
  CHECK_RC(il_loop_add_reader(loop, fds[0], read_once, &r), 0);
  later_write_t lw = {fds[1], 0.03, "x"};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, write_later, &lw) == 0);
  t0 = now_s();
  ev_run(ev, 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(r.calls == 1);
  CHECK(now_s() - t0 >= 0.025);

  /* A signal handler does, as a native ev_signal would. */
  int sigs = 0;
  CHECK_RC(il_loop_add_signal_handler(loop, SIGUSR1, sig_cb, &sigs), 0);
  double delay = 0.03;
  CHECK(pthread_create(&t, NULL, kill_later, &delay) == 0);
  ev_run(ev, 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(sigs == 1);

  /* A pending thread-safe call alone does not keep it alive; it runs on
   * the next iteration the application makes. */
  int ts = 0;
  later_call_t lc = {loop, 0.05, &ts};
  CHECK(pthread_create(&t, NULL, call_later_thread, &lc) == 0);
  t0 = now_s();
  ev_run(ev, 0);
  CHECK(now_s() - t0 < 0.04);
  CHECK(ts == 0);
  CHECK(pthread_join(t, NULL) == 0);
  for (int i = 0; i < 100 && ts == 0; i++)
    ev_run(ev, EVRUN_NOWAIT);
  CHECK(ts == 1);

  /* Closing interloop from inside an application callback, with a reader,
   * a 10 s timer and a ready callback still pending: the application's
   * ev_run then ends with its own last watcher, long before 10 s. */
  int never = 0;
  CHECK_RC(il_loop_add_reader(loop, fds[0], read_once, &r), 0);
  CHECK_RC(il_loop_call_later(loop, 10.0, count_cb, &never, NULL), 0);
  CHECK_RC(il_loop_call_soon(loop, count_cb, &never, NULL), 0);
  closer_t c = {loop, 1};
  ev_timer closing;
  ev_timer_init(&closing, on_close_timer, 0., 0.);
  closing.data = &c;
  /* Higher priority than interloop's watchers: it runs before the ready
   * callback could be dispatched in the same iteration. */
  ev_set_priority(&closing, EV_MAXPRI);
  ev_timer_start(ev, &closing);
  sleep_s(0.002); /* due for certain at the first poll of the next ev_run */
  t0 = now_s();
  ev_run(ev, 0);
  CHECK(now_s() - t0 < 2.0);
  CHECK_RC(c.rc, 0);
  CHECK(never == 0);
  CHECK(il_loop_is_closed(loop) == 1);
  CHECK_RC(il_loop_free(loop), 0);

  CHECK(ev_pending_count(ev) == 0);
  CHECK(active_watchers(ev) == 0);
  ev_loop_destroy(ev);
  close(fds[0]);
  close(fds[1]);
}

/* ---- scenario 3: the application's own ev_signal beside interloop's ---------
 */

static void on_app_signal(struct ev_loop *ev, ev_signal *w, int revents) {
  (void)ev;
  (void)revents;
  (*(int *)w->data)++;
}

static int il_sig_count(il_loop_t *loop, int signum, void *arg) {
  (void)loop;
  (void)signum;
  (*(int *)arg)++;
  return 0;
}

static void scenario_app_signal(void) {
  struct ev_loop *ev = ev_loop_new(EVFLAG_AUTO);
  CHECK(ev);
  int app_calls = 0, il_calls = 0;
  ev_signal sw;
  ev_signal_init(&sw, on_app_signal, SIGUSR2);
  sw.data = &app_calls;
  ev_signal_start(ev, &sw); /* libev's own handler for SIGUSR2 */

  il_loop_t *loop;
  CHECK_RC(il_ev_adopt(ev, &loop), 0);
  CHECK_RC(il_loop_add_signal_handler(loop, SIGUSR2, il_sig_count, &il_calls),
           0);
  raise(SIGUSR2);
  for (int i = 0; i < 100 && (app_calls == 0 || il_calls == 0); i++)
    ev_run(ev, EVRUN_NOWAIT);
  CHECK(app_calls == 1); /* both were told */
  CHECK(il_calls == 1);

  /* interloop lets go: libev's handler is back, the application's watcher
   * still hears the signal. */
  CHECK(il_loop_remove_signal_handler(loop, SIGUSR2) == 1);
  raise(SIGUSR2);
  for (int i = 0; i < 100 && app_calls < 2; i++)
    ev_run(ev, EVRUN_NOWAIT);
  CHECK(app_calls == 2);
  CHECK(il_calls == 1);

  CHECK_RC(il_loop_close(loop), 0);
  CHECK_RC(il_loop_free(loop), 0);
  CHECK(active_watchers(ev) == 1); /* the application's ev_signal */
  ev_signal_stop(ev, &sw);
  CHECK(active_watchers(ev) == 0);
  ev_loop_destroy(ev);
}

/* ---- scenario 4: the plugin and this library are one adapter
 * ------------------ */

static void scenario_one_adapter(void) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = "ev";
  il_loop_t *loop;
  int rc = il_loop_new(&loop, &opts);
  if (rc != 0) {
    fprintf(stderr, "il_loop_new(ev): %s: %s\n", il_err_name(rc),
            il_loop_last_error_message());
    exit(1);
  }
  /* The plugin found this library in the process and served its ops: one
   * signal table, one registry. */
  CHECK(il_loop_backend_ops(loop) == il_ev_backend());
  CHECK(il_loop_is_adopted(loop) == 0);
  CHECK(il_ev_loop_get(loop) != NULL);
  int n = 0;
  CHECK_RC(il_loop_call_soon(loop, count_cb, &n, NULL), 0);
  CHECK_RC(il_loop_run(loop, IL_RUN_NOWAIT), 0);
  CHECK(n == 1);
  CHECK_RC(il_loop_free(loop), 0);

  il_loop_t *builtin;
  opts.backend = "builtin";
  CHECK_RC(il_loop_new(&builtin, &opts), 0);
  CHECK(il_ev_loop_get(builtin) == NULL);
  CHECK(il_ev_loop_get(NULL) == NULL);
  CHECK_RC(il_loop_free(builtin), 0);
}

int main(void) {
  scenario_native_watchers();
  printf("ev-adopt-native: native watchers beside interloop: ok\n");
  scenario_keep_alive();
  printf("ev-adopt-native: keep-alive and close from a callback: ok\n");
  scenario_app_signal();
  printf("ev-adopt-native: application ev_signal beside interloop: ok\n");
  scenario_one_adapter();
  printf("ev-adopt-native: plugin and library are one adapter: ok\n");
  return 0;
}
