/* examples/embed_event/embed_event.c — interloop inside an application that
 * owns its libevent event_base.
 *
 * The application already has an event_base with two native events of its
 * own: a timer that fires every 20 ms and writes one byte into a pipe, and a
 * read event on the pipe. It adopts the base into interloop (il_event_adopt)
 * and, on it, runs an interloop echo server and an echo client (tasks and
 * streams over TCP on 127.0.0.1), while it keeps driving everything with its
 * own event_base_loop(). When the client is done it closes interloop (whose
 * server still listens, and with a timer still pending) and shows that the
 * base is as it was before: libevent counts and lists only the
 * application's two events, they keep firing, and once the application
 * deleted them no event is left on the base.
 *
 * The interloop part (the echo server and client) is not in this file: it is
 * examples/embed_common/echo_work.c, written once against interloop's API
 * and compiled once. embed_uv and embed_ev link the same code and run it
 * inside libuv and libev: code written against interloop runs inside any
 * engine's loop. What stays here is what is about libevent.
 *
 *   interloop-embed-event
 *
 * The engine is fixed (this program is about libevent): INTERLOOP_BACKEND
 * plays no part. Exit status 0 and a last line "RESULT embed ok ..." on
 * success; "FAIL: ..." on stderr and exit status 1 on the first check that
 * fails. */
#include <interloop/interloop.h>
#include <interloop/event.h> /* il_event_adopt; includes <event2/event.h> */

#include "echo_work.h" /* the interloop work, written once */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define TICK_MS 20         /* the native timer's period */
#define ALONE_TICKS 5      /* ticks the application runs after interloop */
#define GIVE_UP_TICKS 1500 /* 30 s: interloop's work is stuck, give up */

typedef struct app {
  /* The application's own: its base, its native events, their counts. */
  struct event_base *base;
  struct event *timer, *reader;
  int pipe_fds[2];
  long timer_ticks, fd_reads;
  int interloop_gone; /* set once interloop is closed */
  long alone_ticks;   /* timer ticks since then */
  /* What it runs with interloop. */
  il_loop_t *loop;
  echo_work_t *work;
} app_t;

#define check echo_work_check /* FAIL: ... and exit 1 unless ok */

/* ---- the application's native events --------------------------------------
 * Nothing here knows about interloop, except the timer asking, once per tick,
 * whether interloop's work is done yet (the application's own way of
 * deciding when to stop its event_base_loop). */

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  app_t *a = arg;
  (void)fd, (void)what;
  a->timer_ticks++;
  check(write(a->pipe_fds[1], "t", 1) == 1, "write to the pipe");
  if (!a->interloop_gone) {
    if (echo_work_done(a->work)) {
      printf("app: interloop's work is done after %ld native ticks; "
             "event_base_loopbreak()\n",
             a->timer_ticks);
      event_base_loopbreak(a->base);
    } else if (a->timer_ticks == GIVE_UP_TICKS) {
      fprintf(stderr, "FAIL: interloop's work did not finish\n");
      event_base_loopbreak(a->base);
    }
  } else if (++a->alone_ticks == ALONE_TICKS) {
    /* The application's work is done too: delete the timer; the read event
     * deletes itself once it has read the last byte. */
    event_del(a->timer);
  }
}

static void on_readable(evutil_socket_t fd, short what, void *arg) {
  app_t *a = arg;
  char buf[64];
  (void)what;
  if (read(fd, buf, sizeof(buf)) > 0)
    a->fd_reads++;
  if (!event_pending(a->timer, EV_TIMEOUT, NULL))
    event_del(a->reader);
}

/* event_base_foreach_event's callback: counts the events on the base, and
 * those that are not the application's. */
typedef struct walk {
  app_t *app;
  int total, foreign;
} walk_t;

static int count_event(const struct event_base *base, const struct event *ev,
                       void *arg) {
  walk_t *w = arg;
  (void)base;
  w->total++;
  if (ev != w->app->timer && ev != w->app->reader)
    w->foreign++;
  return 0; /* go on */
}

/* ---- main ---------------------------------------------------------------- */

int main(void) {
  static app_t a; /* zeroed */
  const struct timeval tick = {0, TICK_MS * 1000};

  /* 1. The application as it was before interloop: its base, a timer that
   * writes to a pipe, a read event that reads it. */
  a.base = event_base_new();
  check(a.base != NULL, "event_base_new");
  check(pipe2(a.pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
  a.timer = event_new(a.base, -1, EV_PERSIST, on_tick, &a);
  a.reader =
      event_new(a.base, a.pipe_fds[0], EV_READ | EV_PERSIST, on_readable, &a);
  check(a.timer && a.reader, "event_new");
  check(event_add(a.timer, &tick) == 0 && event_add(a.reader, NULL) == 0,
        "event_add");
  printf("app: libevent %s (%s); a native timer writes to a pipe every %d "
         "ms, a native read event reads it\n",
         event_get_version(), event_base_get_method(a.base), TICK_MS);

  /* 2. Adopt the base. interloop adds its own events to it; the base and
   * the events above stay the application's. */
  int rc = il_event_adopt(a.base, &a.loop);
  check(rc == 0, "il_event_adopt");
  printf("interloop: adopted the base (backend %s, %s)\n",
         il_loop_backend_name(a.loop), il_loop_engine_version(a.loop));

  /* On it, the interloop work: the same compiled code for every engine. It
   * watches the native timer's count to show that it keeps firing. */
  check(echo_work_start(a.loop, &a.timer_ticks, &a.work) == 0,
        "echo_work_start");

  /* 3. The application drives its base as it always did. interloop's
   * tasks, sockets and timers run inside this event_base_loop, next to the
   * native events, until the native timer sees the client task done and
   * calls event_base_loopbreak. */
  event_base_loop(a.base, 0);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: event_base_loop returned; with interloop on the base the "
         "native timer fired %ld times, the read event %ld times\n",
         ticks_with, reads_with);
  check(echo_work_succeeded(a.work),
        "the client task succeeded and every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native events fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and deletes every event interloop added to the base, touching none
   * of the application's. */
  echo_work_leave_pending(a.work);
  walk_t w = {&a, 0, 0};
  event_base_foreach_event(a.base, count_event, &w);
  printf("app: before il_loop_close libevent lists %d events, %d of them "
         "interloop's\n",
         w.total, w.foreign);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  check(echo_work_errors(a.work) == 0, "interloop reported no error");
  long echoed = echo_work_echoed(a.work);
  echo_work_free(a.work);
  il_loop_free(a.loop);
  a.interloop_gone = 1;

  w = (walk_t){&a, 0, 0};
  event_base_foreach_event(a.base, count_event, &w);
  int added = event_base_get_num_events(a.base, EVENT_BASE_COUNT_ADDED);
  printf("app: interloop closed; libevent counts %d events added, lists %d, "
         "%d not the application's\n",
         added, w.total, w.foreign);
  check(added == 2 && w.total == 2 && w.foreign == 0,
        "only the application's two events are left");

  /* 5. The application goes on alone: its events still work. After
   * ALONE_TICKS ticks it deletes them. */
  ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  while (event_pending(a.reader, EV_READ, NULL))
    event_base_loop(a.base, EVLOOP_ONCE);
  printf("app: without interloop the native timer fired %ld more times, the "
         "read event %ld more times\n",
         a.timer_ticks - ticks_with, a.fd_reads - reads_with);
  check(a.timer_ticks - ticks_with == ALONE_TICKS && a.fd_reads > reads_with,
        "the native events kept working after interloop was closed");

  /* 6. With the application's own events deleted, nothing is left. */
  int left = event_base_get_num_events(a.base, EVENT_BASE_COUNT_ADDED |
                                                   EVENT_BASE_COUNT_ACTIVE |
                                                   EVENT_BASE_COUNT_VIRTUAL);
  printf("app: deleted its events; libevent counts %d events on the base\n",
         left);
  check(left == 0, "no event is left on the base");
  event_free(a.timer);
  event_free(a.reader);
  event_base_free(a.base);
  close(a.pipe_fds[0]);
  close(a.pipe_fds[1]);

  printf("RESULT embed ok native_timer=%ld native_fd=%ld echo=%ld\n",
         a.timer_ticks, a.fd_reads, echoed);
  return 0;
}
