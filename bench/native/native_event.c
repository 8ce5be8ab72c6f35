/* bench/native/native_event.c — loop_bench's workloads written directly on
 * libevent:
 *   chain          an event that re-activates itself from its callback
 *   iteration      event_base_loop(EVLOOP_NONBLOCK) N times, one idle fd
 *   timers         million_timers with evtimers (event_assign'd in one
 *                  array, as the benchmark owns them)
 *   timers_cancel  N evtimers added then deleted, then one NONBLOCK pass
 *   threadsafe     T threads ping-pong with the loop, each activating its
 *                  own event with event_active (evthread_use_pthreads)
 *   timer_mem      RSS growth per pending timer, one event_new each
 * Run: native_event WORKLOAD N [THREADS]; prints native.h's line. */
#include "native.h"

#include <event2/event.h>
#include <event2/thread.h>

static long left, fired;

static void chain_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  struct event *ev = arg;
  if (--left == 0)
    event_base_loopbreak(event_get_base(ev));
  else
    event_active(ev, EV_READ, 0);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  fired++;
}

static void nothing_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static void chain(struct event_base *base, long n) {
  struct event *ev = event_new(base, -1, 0, chain_cb, event_self_cbarg());
  left = n;
  double w = nb_wall(), c = nb_cpu();
  event_active(ev, EV_READ, 0);
  event_base_dispatch(base);
  nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
  event_free(ev);
}

static void iteration(struct event_base *base, long n) {
  int fd = nb_idle_fd();
  struct event *ev =
      event_new(base, fd, EV_READ | EV_PERSIST, nothing_cb, NULL);
  event_add(ev, NULL);
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    event_base_loop(base, EVLOOP_NONBLOCK);
  nb_report("iteration", nb_wall() - w, nb_cpu() - c, n);
  event_free(ev);
  close(fd);
}

static struct timeval ms_tv(unsigned ms) {
  struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
  return tv;
}

/* n evtimers on the million_timers schedule, in one array of `size`-byte
 * slots (libevent's struct event is opaque). */
static char *add_timers(struct event_base *base, long n, size_t size) {
  char *mem = malloc((size_t)n * size);
  for (long i = 0; i < n; i++) {
    struct event *ev = (struct event *)(mem + (size_t)i * size);
    struct timeval tv = ms_tv(nb_timer_ms(i));
    event_assign(ev, base, -1, 0, timer_cb, NULL);
    event_add(ev, &tv);
  }
  return mem;
}

static void timers(struct event_base *base, long n) {
  double w = nb_wall(), c = nb_cpu();
  char *mem = add_timers(base, n, event_get_struct_event_size());
  event_base_dispatch(base);
  nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
  free(mem);
}

static void timers_cancel(struct event_base *base, long n) {
  size_t size = event_get_struct_event_size();
  double w = nb_wall(), c = nb_cpu();
  char *mem = add_timers(base, n, size);
  for (long i = 0; i < n; i++)
    event_del((struct event *)(mem + (size_t)i * size));
  event_base_loop(base, EVLOOP_NONBLOCK);
  nb_report("timers_cancel", nb_wall() - w, nb_cpu() - c, n - fired);
  free(mem);
}

static void active_send(nb_pinger_t *p) {
  event_active(p->watcher, EV_READ, 0);
}

static void answer_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  nb_pinger_t *p = arg;
  nb_answer(p);
  if (--left == 0)
    event_base_loopbreak(event_get_base(p->watcher));
}

/* The base was made after evthread_use_pthreads(): event_active from
 * another thread takes its lock and wakes it. No event is added, so the
 * loop runs with EVLOOP_NO_EXIT_ON_EMPTY. */
static void threadsafe(struct event_base *base, long n, int threads) {
  nb_pinger_t p[64];
  nb_pingers_init(p, threads, n, active_send);
  for (int i = 0; i < threads; i++)
    p[i].watcher = event_new(base, -1, 0, answer_cb, &p[i]);
  left = nb_pingers_total(p, threads);
  double w = nb_wall(), c = nb_cpu();
  nb_pingers_start(p, threads);
  event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
  nb_pingers_join(p, threads);
  nb_report_threads(nb_wall() - w, nb_cpu() - c, nb_pingers_total(p, threads),
                    threads);
  for (int i = 0; i < threads; i++)
    event_free(p[i].watcher);
}

static void timer_mem(struct event_base *base, long n) {
  struct event **t = malloc((size_t)n * sizeof(*t));
  long rss = nb_rss();
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++) {
    struct timeval tv = ms_tv(nb_far_ms(i));
    t[i] = event_new(base, -1, 0, timer_cb, NULL);
    event_add(t[i], &tv);
  }
  double dw = nb_wall() - w, dc = nb_cpu() - c;
  /* The pointer array is the benchmark's, not the timers': not counted. */
  nb_report_mem(dw, dc, n, nb_rss() - rss - (long)(n * sizeof(*t)));
  for (long i = 0; i < n; i++)
    event_free(t[i]);
  free(t);
}

int main(int argc, char **argv) {
  if (argc < 3)
    return nb_usage(argv[0]);
  const char *wl = argv[1];
  long n = atol(argv[2]);
  if (!strcmp(wl, "threadsafe"))
    evthread_use_pthreads();
  struct event_base *base = event_base_new();
  if (!strcmp(wl, "chain"))
    chain(base, n);
  else if (!strcmp(wl, "iteration"))
    iteration(base, n);
  else if (!strcmp(wl, "timers"))
    timers(base, n);
  else if (!strcmp(wl, "timers_cancel"))
    timers_cancel(base, n);
  else if (!strcmp(wl, "threadsafe") && nb_threads_arg(argc, argv))
    threadsafe(base, n, nb_threads_arg(argc, argv));
  else if (!strcmp(wl, "timer_mem"))
    timer_mem(base, n);
  else
    return nb_usage(argv[0]);
  event_base_free(base);
  return 0;
}
