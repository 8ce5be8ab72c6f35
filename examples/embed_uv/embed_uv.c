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
 *   interloop-embed-uv
 *
 * The engine is fixed (this program is about libuv): INTERLOOP_BACKEND plays
 * no part. Exit status 0 and a last line "RESULT embed ok ..." on success;
 * "FAIL: ..." on stderr and exit status 1 on the first check that fails. */
#include <interloop/interloop.h>
#include <interloop/uv.h> /* il_uv_adopt; includes <uv.h> */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS 20         /* the native timer's period */
#define ALONE_TICKS 5      /* ticks the application runs after interloop */
#define GIVE_UP_TICKS 1500 /* 30 s: interloop's work is stuck, give up */
#define ROUNDS 4           /* echo round trips ... */
#define CHUNK 16384        /* ... of this many bytes each */

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
  il_server_t *server;
  il_task_t *client;
  long echoed;     /* bytes that came back intact */
  int errors_seen; /* calls of the loop's error handler */
} app_t;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what);
    exit(1);
  }
}

/* ---- the application's native handles -------------------------------------
 * Nothing here knows about interloop, except the timer asking, once per tick,
 * whether interloop's work is done yet (the application's own way of
 * deciding when to stop its uv_run). */

static void on_tick(uv_timer_t *t) {
  app_t *a = t->data;
  a->timer_ticks++;
  check(write(a->pipe_fds[1], "t", 1) == 1, "write to the pipe");
  if (!a->interloop_gone) {
    if (il_future_done(a->client)) {
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

/* ---- interloop inside it: an echo server and client, as tasks -------------
 * This part is plain interloop: the same code runs on any backend. */

/* One handler task per accepted connection: send back what arrives. */
static int echo_handler(il_stream_reader_t *r, il_stream_writer_t *w,
                        void *ud) {
  char buf[CHUNK];
  size_t n;
  int rc;
  (void)ud;
  while ((rc = il_stream_read(r, buf, sizeof(buf), &n)) == 0 && n > 0)
    if ((rc = il_stream_write(w, buf, n)) < 0 || (rc = il_stream_drain(w)) < 0)
      break;
  return rc; /* 0 at EOF: the core then closes the connection */
}

/* The client: a sleep, then ROUNDS round trips and a clean close. */
static int client_task(il_task_t *self, void *arg) {
  app_t *a = arg;
  il_stream_reader_t *r;
  il_stream_writer_t *w;
  char out[CHUNK], in[CHUNK];
  size_t got;
  int rc;
  (void)self;

  /* 1. While this task sleeps, the application's native timer and fd
   * watcher keep firing. */
  long ticks = a->timer_ticks;
  if ((rc = il_sleep(a->loop, 0.1)) < 0)
    return rc;
  printf("task: slept 0.1 s with il_sleep; meanwhile the native timer fired "
         "%ld times\n",
         a->timer_ticks - ticks);
  check(a->timer_ticks > ticks, "the native timer fired during il_sleep");

  /* 2. Round trips through the server, each a different pattern. */
  if ((rc = il_open_connection(a->loop, "127.0.0.1", il_server_port(a->server),
                               NULL, &r, &w)) < 0)
    return rc;
  for (int round = 1; round <= ROUNDS && rc == 0; round++) {
    for (size_t i = 0; i < sizeof(out); i++)
      out[i] = (char)('a' + (i * 7 + (size_t)round) % 26);
    if ((rc = il_stream_write(w, out, sizeof(out))) < 0 ||
        (rc = il_stream_drain(w)) < 0 ||
        (rc = il_stream_readexactly(r, in, sizeof(in), &got)) < 0)
      break;
    check(memcmp(in, out, sizeof(in)) == 0, "the echo equals what was sent");
    a->echoed += (long)got;
    printf("task: round trip %d: %zu bytes echoed\n", round, got);
    rc = il_sleep(a->loop, 0.02); /* give the native handles a turn */
  }

  /* 3. Half-close: the server's handler sees EOF and ends, closing its side;
   * we see that as EOF too. */
  if (rc == 0 && (rc = il_stream_write_eof(w)) == 0 &&
      (rc = il_stream_read(r, in, sizeof(in), &got)) == 0)
    check(got == 0, "EOF from the server after the half-close");
  il_stream_release(r, w);
  if (rc == 0)
    printf("task: done, %ld bytes echoed in all\n", a->echoed);
  return rc;
}

/* A timer the application leaves pending when it closes interloop. */
static int never_runs(il_loop_t *loop, void *arg) {
  (void)loop, (void)arg;
  check(0, "a timer dropped by il_loop_close() never runs");
  return 0;
}

/* The application will close interloop while interloop still has work: its
 * echo server still listens, and a timer is an hour away. Shows what is
 * there, from interloop's side. */
static void leave_work_pending(app_t *a) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  check(il_loop_call_later(a->loop, 3600.0, never_runs, NULL, NULL) == 0,
        "il_loop_call_later");
  check(il_loop_get_stats(a->loop, &st) == 0, "il_loop_get_stats");
  printf("app: closing interloop while it has %llu server listening, %llu "
         "timer pending, %llu fd watched\n",
         (unsigned long long)st.servers, (unsigned long long)st.timers,
         (unsigned long long)st.readers);
  check(st.servers == 1 && st.timers >= 1 && st.readers >= 1,
        "interloop still has work when it is closed");
}

/* Errors interloop could give to nobody else: there should be none. */
static void on_il_error(il_loop_t *loop, const il_error_context_t *ctx,
                        void *ud) {
  app_t *a = ud;
  (void)loop;
  a->errors_seen++;
  fprintf(stderr, "interloop error: %s (%s)\n", ctx->message,
          il_err_name(ctx->code));
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
  il_loop_set_error_handler(a.loop, on_il_error, &a);
  printf("interloop: adopted the loop (backend %s, %s)\n",
         il_loop_backend_name(a.loop), il_loop_engine_version(a.loop));

  rc = il_start_server(a.loop, "127.0.0.1", 0, NULL, echo_handler, NULL,
                       &a.server);
  check(rc == 0, "il_start_server");
  printf("interloop: echo server on 127.0.0.1 port %d\n",
         il_server_port(a.server));
  check(il_task_spawn(a.loop, client_task, &a, NULL, &a.client) == 0,
        "il_task_spawn");

  /* 3. The application drives its loop as it always did. interloop's tasks,
   * sockets and timers run inside this uv_run, next to the native handles,
   * until the native timer sees the client task done and calls uv_stop. */
  uv_run(&a.uv, UV_RUN_DEFAULT);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: uv_run returned; with interloop on the loop the native timer "
         "fired %ld times, the poll watcher %ld times\n",
         ticks_with, reads_with);
  check(il_future_done(a.client), "the client task finished");
  rc = il_future_result(a.client, NULL);
  if (rc < 0)
    fprintf(stderr, "client task: %s\n", il_strerror(rc));
  check(rc == 0, "the client task succeeded");
  check(a.echoed == (long)ROUNDS * CHUNK, "every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native handles fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and closes every handle interloop started on the loop. libuv
   * completes a close only inside uv_run, so the application lets its loop
   * run once, as for any handle it closes itself. */
  leave_work_pending(&a);
  walk_t w = {&a, 0, 0};
  uv_walk(&a.uv, count_handle, &w);
  printf("app: before il_loop_close uv_walk sees %d handles, %d of them "
         "interloop's\n",
         w.total, w.foreign);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  il_server_free(a.server); /* handles stay valid until released */
  il_future_unref(a.client);
  il_loop_free(a.loop);
  a.interloop_gone = 1;
  uv_run(&a.uv, UV_RUN_NOWAIT);
  check(a.errors_seen == 0, "interloop reported no error");

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
         a.timer_ticks, a.fd_reads, a.echoed);
  return 0;
}
