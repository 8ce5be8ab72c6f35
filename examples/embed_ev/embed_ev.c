/* examples/embed_ev/embed_ev.c — interloop inside an application that owns
 * its libev loop.
 *
 * The application already has a libev loop with two native watchers of its
 * own: a timer that fires every 20 ms and writes one byte into a pipe, and an
 * io watcher that reads the pipe. It adopts that loop into interloop
 * (il_ev_adopt) and, on it, runs an interloop echo server and an echo client
 * (tasks and streams over TCP on 127.0.0.1), while it keeps driving
 * everything with its own ev_run(). When the client is done it closes
 * interloop (whose server still listens, and with a timer still pending) and
 * shows that the ev loop is as it was before: nothing pending, its own two
 * watchers still active and firing, and, once it stopped them, no active
 * watcher left on the loop.
 *
 * The interloop part (the echo server and client) is not in this file: it is
 * examples/embed_common/echo_work.c, written once against interloop's API
 * and compiled once. embed_uv and embed_event link the same code and run it
 * inside libuv and libevent: code written against interloop runs inside any
 * engine's loop. What stays here is what is about libev.
 *
 *   interloop-embed-ev
 *
 * The engine is fixed (this program is about libev): INTERLOOP_BACKEND plays
 * no part. Exit status 0 and a last line "RESULT embed ok ..." on success;
 * "FAIL: ..." on stderr and exit status 1 on the first check that fails. */
#include <interloop/interloop.h>
#include <interloop/ev.h> /* il_ev_adopt; includes <ev.h> */

#include "echo_work.h" /* the interloop work, written once */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define TICK 0.02          /* the native timer's period, in seconds */
#define ALONE_TICKS 5      /* ticks the application runs after interloop */
#define GIVE_UP_TICKS 1500 /* 30 s: interloop's work is stuck, give up */

typedef struct app {
  /* The application's own: its loop, its native watchers, their counts. */
  struct ev_loop *ev;
  ev_timer timer;
  ev_io io;
  int pipe_fds[2];
  long timer_ticks, fd_reads;
  int interloop_gone; /* set once interloop is closed */
  long alone_ticks;   /* timer ticks since then */
  /* What it runs with interloop. */
  il_loop_t *loop;
  echo_work_t *work;
} app_t;

#define check echo_work_check /* FAIL: ... and exit 1 unless ok */

/* ---- the application's native watchers ------------------------------------
 * Nothing here knows about interloop, except the timer asking, once per tick,
 * whether interloop's work is done yet (the application's own way of
 * deciding when to stop its ev_run). */

static void on_tick(struct ev_loop *ev, ev_timer *t, int revents) {
  app_t *a = t->data;
  (void)revents;
  a->timer_ticks++;
  check(write(a->pipe_fds[1], "t", 1) == 1, "write to the pipe");
  if (!a->interloop_gone) {
    if (echo_work_done(a->work)) {
      printf("app: interloop's work is done after %ld native ticks; "
             "ev_break()\n",
             a->timer_ticks);
      ev_break(ev, EVBREAK_ALL);
    } else if (a->timer_ticks == GIVE_UP_TICKS) {
      fprintf(stderr, "FAIL: interloop's work did not finish\n");
      ev_break(ev, EVBREAK_ALL);
    }
  } else if (++a->alone_ticks == ALONE_TICKS) {
    /* The application's work is done too: stop the timer; the io watcher
     * stops itself once it has read the last byte. */
    ev_timer_stop(ev, t);
  }
}

static void on_readable(struct ev_loop *ev, ev_io *w, int revents) {
  app_t *a = w->data;
  char buf[64];
  (void)revents;
  if (read(a->pipe_fds[0], buf, sizeof(buf)) > 0)
    a->fd_reads++;
  if (!ev_is_active(&a->timer))
    ev_io_stop(ev, w);
}

/* ---- main ---------------------------------------------------------------- */

int main(void) {
  static app_t a; /* zeroed */

  /* 1. The application as it was before interloop: its loop, a timer that
   * writes to a pipe, an io watcher that reads it. */
  a.ev = ev_loop_new(EVFLAG_AUTO);
  check(a.ev != NULL, "ev_loop_new");
  check(pipe2(a.pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
  ev_timer_init(&a.timer, on_tick, TICK, TICK);
  ev_io_init(&a.io, on_readable, a.pipe_fds[0], EV_READ);
  a.timer.data = a.io.data = &a;
  ev_timer_start(a.ev, &a.timer);
  ev_io_start(a.ev, &a.io);
  printf("app: libev %d.%d; a native timer writes to a pipe every %.0f ms, "
         "a native io watcher reads it\n",
         ev_version_major(), ev_version_minor(), TICK * 1000);

  /* 2. Adopt the loop. interloop adds its own watchers to it; the loop and
   * the watchers above stay the application's. */
  int rc = il_ev_adopt(a.ev, &a.loop);
  check(rc == 0, "il_ev_adopt");
  printf("interloop: adopted the loop (backend %s, %s)\n",
         il_loop_backend_name(a.loop), il_loop_engine_version(a.loop));

  /* On it, the interloop work: the same compiled code for every engine. It
   * watches the native timer's count to show that it keeps firing. */
  check(echo_work_start(a.loop, &a.timer_ticks, &a.work) == 0,
        "echo_work_start");

  /* 3. The application drives its loop as it always did. interloop's tasks,
   * sockets and timers run inside this ev_run, next to the native watchers,
   * until the native timer sees the client task done and calls ev_break. */
  ev_run(a.ev, 0);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: ev_run returned; with interloop on the loop the native timer "
         "fired %ld times, the io watcher %ld times\n",
         ticks_with, reads_with);
  check(echo_work_succeeded(a.work),
        "the client task succeeded and every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native watchers fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and stops every watcher interloop started on the loop, touching none
   * of the application's. */
  echo_work_leave_pending(a.work);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  check(echo_work_errors(a.work) == 0, "interloop reported no error");
  long echoed = echo_work_echoed(a.work);
  echo_work_free(a.work);
  il_loop_free(a.loop);
  a.interloop_gone = 1;
  printf("app: interloop closed; %u events pending, our timer %s, our io "
         "watcher %s\n",
         ev_pending_count(a.ev), ev_is_active(&a.timer) ? "active" : "stopped",
         ev_is_active(&a.io) ? "active" : "stopped");
  check(ev_pending_count(a.ev) == 0, "nothing pending");
  check(ev_is_active(&a.timer) && ev_is_active(&a.io),
        "the application's watchers are untouched");

  /* 5. The application goes on alone: its watchers still work. After
   * ALONE_TICKS ticks it stops them. */
  ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  while (ev_is_active(&a.io))
    ev_run(a.ev, EVRUN_ONCE);
  printf("app: without interloop the native timer fired %ld more times, the "
         "io watcher %ld more times\n",
         a.timer_ticks - ticks_with, a.fd_reads - reads_with);
  check(a.timer_ticks - ticks_with == ALONE_TICKS && a.fd_reads > reads_with,
        "the native watchers kept working after interloop was closed");

  /* 6. libev cannot list watchers, but ev_run says whether any active one
   * is left: with the application's stopped, a non-blocking run returning
   * false means interloop left nothing running on the loop. (It counts
   * referenced watchers only: interloop's wakeup watcher, which is not
   * referenced, would not show here.) */
  int active = ev_run(a.ev, EVRUN_NOWAIT);
  printf("app: stopped its watchers; ev_run(EVRUN_NOWAIT) returned %d, "
         "%u events pending\n",
         active, ev_pending_count(a.ev));
  check(active == 0 && ev_pending_count(a.ev) == 0,
        "no watcher is left on the loop");
  ev_loop_destroy(a.ev);
  close(a.pipe_fds[0]);
  close(a.pipe_fds[1]);

  printf("RESULT embed ok native_timer=%ld native_fd=%ld echo=%ld\n",
         a.timer_ticks, a.fd_reads, echoed);
  return 0;
}
