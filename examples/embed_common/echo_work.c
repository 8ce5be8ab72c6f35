/* examples/embed_common/echo_work.c — see echo_work.h. Plain interloop: no
 * engine header, no question about the backend. */
#include "echo_work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct echo_work {
  il_loop_t *loop;
  il_server_t *server;
  il_task_t *client;
  const long *native_ticks; /* the application's counter, read only */
  long echoed;              /* bytes that came back intact */
  int errors_seen;          /* calls of the loop's error handler */
};

void echo_work_check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what);
    exit(1);
  }
}

/* One handler task per accepted connection: send back what arrives. */
static int echo_handler(il_stream_reader_t *r, il_stream_writer_t *w,
                        void *ud) {
  char buf[ECHO_WORK_CHUNK];
  size_t n;
  int rc;
  (void)ud;
  while ((rc = il_stream_read(r, buf, sizeof(buf), &n)) == 0 && n > 0)
    if ((rc = il_stream_write(w, buf, n)) < 0 || (rc = il_stream_drain(w)) < 0)
      break;
  return rc; /* 0 at EOF: the core then closes the connection */
}

/* The client: a sleep, then ECHO_WORK_ROUNDS round trips and a clean close. */
static int client_task(il_task_t *self, void *arg) {
  echo_work_t *work = arg;
  il_stream_reader_t *r;
  il_stream_writer_t *w;
  char out[ECHO_WORK_CHUNK], in[ECHO_WORK_CHUNK];
  size_t got;
  int rc;
  (void)self;

  /* 1. While this task sleeps, the application's native timer and fd
   * watcher keep firing. */
  long ticks = *work->native_ticks;
  if ((rc = il_sleep(work->loop, 0.1)) < 0)
    return rc;
  printf("task: slept 0.1 s with il_sleep; meanwhile the native timer fired "
         "%ld times\n",
         *work->native_ticks - ticks);
  echo_work_check(*work->native_ticks > ticks,
                  "the native timer fired during il_sleep");

  /* 2. Round trips through the server, each a different pattern. */
  if ((rc = il_open_connection(work->loop, "127.0.0.1",
                               il_server_port(work->server), NULL, &r, &w)) < 0)
    return rc;
  for (int round = 1; round <= ECHO_WORK_ROUNDS && rc == 0; round++) {
    for (size_t i = 0; i < sizeof(out); i++)
      out[i] = (char)('a' + (i * 7 + (size_t)round) % 26);
    if ((rc = il_stream_write(w, out, sizeof(out))) < 0 ||
        (rc = il_stream_drain(w)) < 0 ||
        (rc = il_stream_readexactly(r, in, sizeof(in), &got)) < 0)
      break;
    echo_work_check(memcmp(in, out, sizeof(in)) == 0,
                    "the echo equals what was sent");
    work->echoed += (long)got;
    printf("task: round trip %d: %zu bytes echoed\n", round, got);
    rc = il_sleep(work->loop, 0.02); /* give the native handles a turn */
  }

  /* 3. Half-close: the server's handler sees EOF and ends, closing its side;
   * we see that as EOF too. */
  if (rc == 0 && (rc = il_stream_write_eof(w)) == 0 &&
      (rc = il_stream_read(r, in, sizeof(in), &got)) == 0)
    echo_work_check(got == 0, "EOF from the server after the half-close");
  il_stream_release(r, w);
  if (rc == 0)
    printf("task: done, %ld bytes echoed in all\n", work->echoed);
  else
    fprintf(stderr, "client task: %s\n", il_strerror(rc));
  return rc;
}

/* Errors interloop could give to nobody else: there should be none. */
static void on_il_error(il_loop_t *loop, const il_error_context_t *ctx,
                        void *ud) {
  echo_work_t *work = ud;
  (void)loop;
  work->errors_seen++;
  fprintf(stderr, "interloop error: %s (%s)\n", ctx->message,
          il_err_name(ctx->code));
}

int echo_work_start(il_loop_t *loop, const long *native_ticks,
                    echo_work_t **out) {
  if (!loop || !native_ticks || !out)
    return IL_EINVAL;
  echo_work_t *work = calloc(1, sizeof(*work));
  if (!work)
    return IL_ENOMEM;
  work->loop = loop;
  work->native_ticks = native_ticks;
  il_loop_set_error_handler(loop, on_il_error, work);

  int rc = il_start_server(loop, "127.0.0.1", 0, NULL, echo_handler, NULL,
                           &work->server);
  if (rc < 0)
    goto fail;
  printf("interloop: echo server on 127.0.0.1 port %d\n",
         il_server_port(work->server));
  if ((rc = il_task_spawn(loop, client_task, work, NULL, &work->client)) < 0)
    goto fail;
  *out = work;
  return 0;

fail:
  il_server_free(work->server); /* NULL is a no-op */
  il_loop_set_error_handler(loop, NULL, NULL);
  free(work);
  return rc;
}

int echo_work_done(const echo_work_t *work) {
  return il_future_done(work->client);
}

int echo_work_succeeded(const echo_work_t *work) {
  return il_future_done(work->client) &&
         il_future_result(work->client, NULL) == 0 &&
         work->echoed == (long)ECHO_WORK_ROUNDS * ECHO_WORK_CHUNK;
}

long echo_work_echoed(const echo_work_t *work) {
  return work->echoed;
}

int echo_work_errors(const echo_work_t *work) {
  return work->errors_seen;
}

/* A timer the application leaves pending when it closes interloop. */
static int never_runs(il_loop_t *loop, void *arg) {
  (void)loop, (void)arg;
  echo_work_check(0, "a timer dropped by il_loop_close() never runs");
  return 0;
}

void echo_work_leave_pending(echo_work_t *work) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  echo_work_check(
      il_loop_call_later(work->loop, 3600.0, never_runs, NULL, NULL) == 0,
      "il_loop_call_later");
  echo_work_check(il_loop_get_stats(work->loop, &st) == 0, "il_loop_get_stats");
  printf("app: closing interloop while it has %llu server listening, %llu "
         "timer pending, %llu fd watched\n",
         (unsigned long long)st.servers, (unsigned long long)st.timers,
         (unsigned long long)st.readers);
  echo_work_check(st.servers == 1 && st.timers >= 1 && st.readers >= 1,
                  "interloop still has work when it is closed");
}

void echo_work_free(echo_work_t *work) {
  if (!work)
    return;
  il_server_free(work->server); /* handles stay valid until released */
  il_future_unref(work->client);
  free(work);
}
