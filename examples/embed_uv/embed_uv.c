/* examples/embed_uv/embed_uv.c — interloop inside an application that owns
 * its libuv loop.
 *
 * The application already has a uv_loop_t with two native handles of its
 * own: a timer that fires every 20 ms and writes one byte into a pipe, and a
 * poll watcher that reads the pipe. It adopts that loop into interloop
 * (il_uv_adopt) and, on it, runs an interloop echo server and an echo client
 * (tasks and streams over TCP on 127.0.0.1), while it keeps driving
 * everything with its own uv_run(). When the client is done it closes
 * interloop (whose server still listens, and with a timer still pending) and
 * shows that the uv loop is as it was before: uv_walk() sees only the
 * application's two handles, they keep firing, and uv_loop_close() returns 0
 * once the application closed them.
 *
 * The interloop part (the echo server and client) is not in this file: it is
 * examples/embed_common/echo_work.c, written once against interloop's API
 * and compiled once. embed_ev and embed_event link the same code and run it
 * inside libev and libevent: code written against interloop runs inside any
 * engine's loop. What stays here is what is about libuv.
 *
 *   interloop-embed-uv
 *
 * The engine is fixed (this program is about libuv): INTERLOOP_BACKEND plays
 * no part. Exit status 0 and a last line "RESULT embed ok ..." on success;
 * "FAIL: ..." on stderr and exit status 1 on the first check that fails. */
#include <interloop/interloop.h>
#include <interloop/uv.h> /* il_uv_adopt; includes <uv.h> */

#include "echo_work.h" /* the interloop work, written once */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define TICK_MS 20         /* the native timer's period */
#define ALONE_TICKS 5      /* ticks the application runs after interloop */
#define GIVE_UP_TICKS 1500 /* 30 s: interloop's work is stuck, give up */

typedef struct app {
  /* The application's own: its loop, its native handles, their counts. */
  uv_loop_t uv;
  uv_timer_t timer;
  uv_poll_t poll;
  int pipe_fds[2];
  long timer_ticks, fd_reads;
  int interloop_gone; /* set once interloop is closed */
  long alone_ticks;   /* timer ticks since then */
  /* What it runs with interloop. */
  il_loop_t *loop;
  echo_work_t *work;
} app_t;

#define check echo_work_check /* FAIL: ... and exit 1 unless ok */

/* ---- the application's native handles -------------------------------------
 * Nothing here knows about interloop, except the timer asking, once per tick,
 * whether interloop's work is done yet (the application's own way of
 * deciding when to stop its uv_run). */

static void on_tick(uv_timer_t *t) {
  app_t *a = t->data;
  a->timer_ticks++;
  check(write(a->pipe_fds[1], "t", 1) == 1, "write to the pipe");
  if (!a->interloop_gone) {
    if (echo_work_done(a->work)) {
      printf("app: interloop's work is done after %ld native ticks; "
             "uv_stop()\n",
             a->timer_ticks);
      uv_stop(&a->uv);
    } else if (a->timer_ticks == GIVE_UP_TICKS) {
      fprintf(stderr, "FAIL: interloop's work did not finish\n");
      uv_stop(&a->uv);
    }
  } else if (++a->alone_ticks == ALONE_TICKS) {
    /* The application's work is done too: close the timer; the poll
     * watcher closes itself once it has read the last byte. */
    uv_close((uv_handle_t *)t, NULL);
  }
}

static void on_readable(uv_poll_t *p, int status, int events) {
  app_t *a = p->data;
  char buf[64];
  (void)events;
  check(status == 0, "the native poll watcher reported an error");
  if (read(a->pipe_fds[0], buf, sizeof(buf)) > 0)
    a->fd_reads++;
  if (uv_is_closing((uv_handle_t *)&a->timer))
    uv_close((uv_handle_t *)p, NULL);
}

/* uv_walk's callback: counts the handles on the loop, and those that are
 * not the application's. */
typedef struct walk {
  app_t *app;
  int total, foreign;
} walk_t;

static void count_handle(uv_handle_t *h, void *arg) {
  walk_t *w = arg;
  w->total++;
  if (h != (uv_handle_t *)&w->app->timer && h != (uv_handle_t *)&w->app->poll)
    w->foreign++;
}

/* ---- main ---------------------------------------------------------------- */

int main(void) {
  static app_t a; /* zeroed */

  /* 1. The application as it was before interloop: its loop, a timer that
   * writes to a pipe, a poll watcher that reads it. */
  check(uv_loop_init(&a.uv) == 0, "uv_loop_init");
  check(pipe2(a.pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
  check(uv_timer_init(&a.uv, &a.timer) == 0, "uv_timer_init");
  check(uv_poll_init(&a.uv, &a.poll, a.pipe_fds[0]) == 0, "uv_poll_init");
  a.timer.data = a.poll.data = &a;
  check(uv_timer_start(&a.timer, on_tick, TICK_MS, TICK_MS) == 0,
        "uv_timer_start");
  check(uv_poll_start(&a.poll, UV_READABLE, on_readable) == 0, "uv_poll_start");
  printf("app: libuv %s; a native timer writes to a pipe every %d ms, a "
         "native poll watcher reads it\n",
         uv_version_string(), TICK_MS);

  /* 2. Adopt the loop. interloop adds its own handles to it; the loop and
   * the handles above stay the application's. */
  int rc = il_uv_adopt(&a.uv, &a.loop);
  check(rc == 0, "il_uv_adopt");
  printf("interloop: adopted the loop (backend %s, %s)\n",
         il_loop_backend_name(a.loop), il_loop_engine_version(a.loop));

  /* On it, the interloop work: the same compiled code for every engine. It
   * watches the native timer's count to show that it keeps firing. */
  check(echo_work_start(a.loop, &a.timer_ticks, &a.work) == 0,
        "echo_work_start");

  /* 3. The application drives its loop as it always did. interloop's tasks,
   * sockets and timers run inside this uv_run, next to the native handles,
   * until the native timer sees the client task done and calls uv_stop. */
  uv_run(&a.uv, UV_RUN_DEFAULT);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: uv_run returned; with interloop on the loop the native timer "
         "fired %ld times, the poll watcher %ld times\n",
         ticks_with, reads_with);
  check(echo_work_succeeded(a.work),
        "the client task succeeded and every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native handles fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and closes every handle interloop started on the loop. libuv
   * completes a close only inside uv_run, so the application lets its loop
   * run once, as for any handle it closes itself. */
  echo_work_leave_pending(a.work);
  walk_t w = {&a, 0, 0};
  uv_walk(&a.uv, count_handle, &w);
  printf("app: before il_loop_close uv_walk sees %d handles, %d of them "
         "interloop's\n",
         w.total, w.foreign);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  check(echo_work_errors(a.work) == 0, "interloop reported no error");
  long echoed = echo_work_echoed(a.work);
  echo_work_free(a.work);
  il_loop_free(a.loop);
  a.interloop_gone = 1;
  uv_run(&a.uv, UV_RUN_NOWAIT);

  w = (walk_t){&a, 0, 0};
  uv_walk(&a.uv, count_handle, &w);
  printf("app: interloop closed; uv_walk sees %d handles, %d not the "
         "application's\n",
         w.total, w.foreign);
  check(w.total == 2 && w.foreign == 0,
        "only the application's two handles are left");

  /* 5. The application goes on alone: its handles still work. After
   * ALONE_TICKS ticks it closes them, and uv_run returns because nothing is
   * left on the loop. */
  ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  uv_run(&a.uv, UV_RUN_DEFAULT);
  printf("app: without interloop the native timer fired %ld more times, the "
         "poll watcher %ld more times\n",
         a.timer_ticks - ticks_with, a.fd_reads - reads_with);
  check(a.timer_ticks - ticks_with == ALONE_TICKS && a.fd_reads > reads_with,
        "the native handles kept working after interloop was closed");
  close(a.pipe_fds[0]);
  close(a.pipe_fds[1]);
  rc = uv_loop_close(&a.uv);
  printf("app: closed its handles; uv_loop_close returned %d\n", rc);
  check(rc == 0, "uv_loop_close found the loop clean");

  printf("RESULT embed ok native_timer=%ld native_fd=%ld echo=%ld\n",
         a.timer_ticks, a.fd_reads, echoed);
  return 0;
}
