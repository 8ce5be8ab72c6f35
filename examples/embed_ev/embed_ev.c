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
 *   interloop-embed-ev
 *
 * The engine is fixed (this program is about libev): INTERLOOP_BACKEND plays
 * no part. Exit status 0 and a last line "RESULT embed ok ..." on success;
 * "FAIL: ..." on stderr and exit status 1 on the first check that fails. */
#include <interloop/interloop.h>
#include <interloop/ev.h> /* il_ev_adopt; includes <ev.h> */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK 0.02          /* the native timer's period, in seconds */
#define ALONE_TICKS 5      /* ticks the application runs after interloop */
#define GIVE_UP_TICKS 1500 /* 30 s: interloop's work is stuck, give up */
#define ROUNDS 4           /* echo round trips ... */
#define CHUNK 16384        /* ... of this many bytes each */

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
    if (il_future_done(a->client)) {
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
   * sockets and timers run inside this ev_run, next to the native watchers,
   * until the native timer sees the client task done and calls ev_break. */
  ev_run(a.ev, 0);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: ev_run returned; with interloop on the loop the native timer "
         "fired %ld times, the io watcher %ld times\n",
         ticks_with, reads_with);
  check(il_future_done(a.client), "the client task finished");
  rc = il_future_result(a.client, NULL);
  if (rc < 0)
    fprintf(stderr, "client task: %s\n", il_strerror(rc));
  check(rc == 0, "the client task succeeded");
  check(a.echoed == (long)ROUNDS * CHUNK, "every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native watchers fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and stops every watcher interloop started on the loop, touching none
   * of the application's. */
  leave_work_pending(&a);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  il_server_free(a.server); /* handles stay valid until released */
  il_future_unref(a.client);
  il_loop_free(a.loop);
  a.interloop_gone = 1;
  check(a.errors_seen == 0, "interloop reported no error");
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
         a.timer_ticks, a.fd_reads, a.echoed);
  return 0;
}
