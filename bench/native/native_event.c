/* bench/native/native_event.c — the loop_bench workloads written directly
 * on libevent. chain: an event that re-activates itself; timers:
 * million_timers with evtimers. */
#include "native.h"

#include <event2/event.h>

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

int main(int argc, char **argv) {
  if (argc != 3)
    return nb_usage(argv[0]);
  long n = atol(argv[2]);
  struct event_base *base = event_base_new();
  if (!strcmp(argv[1], "chain")) {
    struct event *ev = event_new(base, -1, 0, chain_cb, event_self_cbarg());
    left = n;
    double w = nb_wall(), c = nb_cpu();
    event_active(ev, EV_READ, 0);
    event_base_dispatch(base);
    nb_report("chain", nb_wall() - w, nb_cpu() - c, n);
    event_free(ev);
  } else if (!strcmp(argv[1], "timers")) {
    size_t size = event_get_struct_event_size();
    char *mem = malloc((size_t)n * size);
    double w = nb_wall(), c = nb_cpu();
    for (long i = 0; i < n; i++) {
      struct event *ev = (struct event *)(mem + (size_t)i * size);
      unsigned ms = nb_timer_ms(i);
      struct timeval tv = {(time_t)(ms / 1000),
                           (suseconds_t)(ms % 1000) * 1000};
      event_assign(ev, base, -1, 0, timer_cb, NULL);
      event_add(ev, &tv);
    }
    event_base_dispatch(base);
    nb_report("timers", nb_wall() - w, nb_cpu() - c, fired);
    free(mem);
  } else {
    return nb_usage(argv[0]);
  }
  event_base_free(base);
  return 0;
}
