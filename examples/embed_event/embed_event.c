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
 *   interloop-embed-event
 *
 * The engine is fixed (this program is about libevent): INTERLOOP_BACKEND
 * plays no part. Exit status 0 and a last line "RESULT embed ok ..." on
 * success; "FAIL: ..." on stderr and exit status 1 on the first check that
 * fails. */
#include <interloop/interloop.h>
#include <interloop/event.h> /* il_event_adopt; includes <event2/event.h> */

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
  /* The application's own: its base, its native events, their counts. */
  struct event_base *base;
  struct event *timer, *reader;
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
    if (il_future_done(a->client)) {
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
  il_loop_set_error_handler(a.loop, on_il_error, &a);
  printf("interloop: adopted the base (backend %s, %s)\n",
         il_loop_backend_name(a.loop), il_loop_engine_version(a.loop));

  rc = il_start_server(a.loop, "127.0.0.1", 0, NULL, echo_handler, NULL,
                       &a.server);
  check(rc == 0, "il_start_server");
  printf("interloop: echo server on 127.0.0.1 port %d\n",
         il_server_port(a.server));
  check(il_task_spawn(a.loop, client_task, &a, NULL, &a.client) == 0,
        "il_task_spawn");

  /* 3. The application drives its base as it always did. interloop's
   * tasks, sockets and timers run inside this event_base_loop, next to the
   * native events, until the native timer sees the client task done and
   * calls event_base_loopbreak. */
  event_base_loop(a.base, 0);
  long ticks_with = a.timer_ticks, reads_with = a.fd_reads;
  printf("app: event_base_loop returned; with interloop on the base the "
         "native timer fired %ld times, the read event %ld times\n",
         ticks_with, reads_with);
  check(il_future_done(a.client), "the client task finished");
  rc = il_future_result(a.client, NULL);
  if (rc < 0)
    fprintf(stderr, "client task: %s\n", il_strerror(rc));
  check(rc == 0, "the client task succeeded");
  check(a.echoed == (long)ROUNDS * CHUNK, "every byte came back");
  check(ticks_with > 0 && reads_with > 0,
        "the native events fired while interloop worked");

  /* 4. Close interloop, although it still has work: il_loop_close() drops
   * it and deletes every event interloop added to the base, touching none
   * of the application's. */
  leave_work_pending(&a);
  walk_t w = {&a, 0, 0};
  event_base_foreach_event(a.base, count_event, &w);
  printf("app: before il_loop_close libevent lists %d events, %d of them "
         "interloop's\n",
         w.total, w.foreign);
  check(il_loop_close(a.loop) == 0, "il_loop_close");
  il_server_free(a.server); /* handles stay valid until released */
  il_future_unref(a.client);
  il_loop_free(a.loop);
  a.interloop_gone = 1;
  check(a.errors_seen == 0, "interloop reported no error");

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
         a.timer_ticks, a.fd_reads, a.echoed);
  return 0;
}
