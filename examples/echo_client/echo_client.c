/* examples/echo_client/echo_client.c — an interactive echo client: it sends
 * what you type (stdin) to an echo server and prints what comes back.
 * Written twice, with the protocol API and with a task and streams.
 *
 *   interloop-echo-client [--tasks] HOST PORT
 *   interloop-echo-client [--tasks] --unix PATH
 *
 * At the end of stdin it half-closes the connection, prints the rest of the
 * echo and exits when the server closes. The backend comes from
 * $INTERLOOP_BACKEND (builtin, uv, ev, event). */
#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exit_code = 1;

/* ---- protocol style -------------------------------------------------------
 * stdin is watched with add_reader (a terminal or a pipe). Everything read
 * goes to the transport; everything received goes to stdout. While the
 * transport's write buffer is above its high-water mark (pause_writing),
 * stdin is not read. */
static int stdin_is_file; /* add_reader refuses regular files (IL_EPERM) */
static int input_done;    /* stdin ended; write_eof was called */
static int input_paused;

static int stdin_readable(il_loop_t *loop, int fd, void *arg) {
  il_transport_t *t = arg;
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n > 0)
    return il_transport_write(t, buf, (size_t)n);
  il_loop_remove_reader(loop, fd); /* end of input (or an error) */
  input_done = 1;
  return il_transport_write_eof(t);
}

/* Takes input until paused. A regular file never blocks: read it in a loop
 * instead of waiting for readiness. */
static void resume_input(il_transport_t *t, void *ud) {
  (void)ud;
  il_loop_t *loop = il_transport_loop(t);
  input_paused = 0;
  if (input_done)
    return;
  if (!stdin_is_file &&
      il_loop_add_reader(loop, STDIN_FILENO, stdin_readable, t) == IL_EPERM)
    stdin_is_file = 1;
  while (stdin_is_file && !input_paused && !input_done &&
         stdin_readable(loop, STDIN_FILENO, t) == 0)
    ;
}

static void pause_input(il_transport_t *t, void *ud) {
  (void)ud;
  input_paused = 1;
  il_loop_remove_reader(il_transport_loop(t), STDIN_FILENO);
}

static void received(il_transport_t *t, const void *data, size_t len,
                     void *ud) {
  (void)t, (void)ud;
  fwrite(data, 1, len, stdout);
  fflush(stdout);
}

static void lost(il_transport_t *t, int error, void *ud) {
  (void)ud;
  il_loop_remove_reader(il_transport_loop(t), STDIN_FILENO);
  if (error)
    fprintf(stderr, "connection lost: %s\n", il_strerror(error));
  else
    exit_code = 0;
  il_loop_stop(il_transport_loop(t));
}

static const il_protocol_t client_protocol = {
    .size = sizeof(il_protocol_t),
    .connection_made = resume_input,
    .data_received = received,
    .connection_lost = lost,
    .pause_writing = pause_input,
    .resume_writing = resume_input,
    /* eof_received NULL: when the server is done, close. */
};

/* ---- task style -----------------------------------------------------------
 * One task: wait until stdin has input, send it, read back exactly as many
 * bytes, print them; repeat until the end of stdin. */
typedef struct client {
  il_loop_t *loop;
  const char *host, *path;
  int port;
} client_t;

static int stdin_ready(il_loop_t *loop, int fd, void *arg) {
  il_loop_remove_reader(loop, fd);
  return il_future_set_result(arg, NULL, NULL);
}

/* Waits in the task until stdin is readable: a reader callback completes a
 * future the task awaits. A regular file is always readable. */
static int wait_stdin(il_loop_t *loop) {
  il_future_t *f;
  int rc = il_future_new(loop, &f);
  if (rc < 0)
    return rc;
  rc = il_loop_add_reader(loop, STDIN_FILENO, stdin_ready, f);
  if (rc == 0 && (rc = il_await(f, NULL)) < 0)
    il_loop_remove_reader(loop, STDIN_FILENO); /* cancelled */
  il_future_unref(f);
  return rc == IL_EPERM ? 0 : rc;
}

static int client_task(il_task_t *self, void *arg) {
  (void)self;
  client_t *c = arg;
  il_stream_reader_t *r;
  il_stream_writer_t *w;
  int rc = c->path ? il_open_unix_connection(c->loop, c->path, NULL, &r, &w)
                   : il_open_connection(c->loop, c->host, c->port, NULL, &r, &w);
  if (rc < 0) {
    fprintf(stderr, "cannot connect: %s\n", il_strerror(rc));
    return rc;
  }
  char buf[4096];
  ssize_t n;
  while ((rc = wait_stdin(c->loop)) == 0 &&
         (n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
    size_t got;
    if ((rc = il_stream_write(w, buf, (size_t)n)) < 0 ||
        (rc = il_stream_drain(w)) < 0 ||
        (rc = il_stream_readexactly(r, buf, (size_t)n, &got)) < 0)
      break;
    fwrite(buf, 1, got, stdout);
    fflush(stdout);
  }
  if (rc == 0) { /* end of stdin: half-close, print what is left */
    size_t got;
    il_stream_write_eof(w);
    while ((rc = il_stream_read(r, buf, sizeof(buf), &got)) == 0 && got > 0)
      fwrite(buf, 1, got, stdout);
  }
  il_stream_release(r, w);
  if (rc < 0)
    fprintf(stderr, "connection lost: %s\n", il_strerror(rc));
  else
    exit_code = 0;
  return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
  fprintf(stderr, "usage: interloop-echo-client [--tasks] HOST PORT | "
                  "[--tasks] --unix PATH\n");
  return 2;
}

int main(int argc, char **argv) {
  client_t c = {NULL, NULL, NULL, 0};
  int tasks = 0, i = 1;
  if (i < argc && !strcmp(argv[i], "--tasks"))
    tasks = 1, i++;
  if (i + 1 < argc && !strcmp(argv[i], "--unix"))
    c.path = argv[i + 1];
  else if (i + 1 < argc)
    c.host = argv[i], c.port = atoi(argv[i + 1]);
  else
    return usage();

  if (il_loop_new(&c.loop, NULL) < 0) {
    fprintf(stderr, "il_loop_new: %s\n", il_loop_last_error_message());
    return 1;
  }
  if (tasks) {
    il_task_t *task;
    if (il_task_spawn(c.loop, client_task, &c, NULL, &task) == 0) {
      il_loop_run_until_complete(c.loop, task, NULL);
      il_future_unref(task);
    }
  } else {
    il_future_t *f;
    int rc = c.path ? il_create_unix_connection(c.loop, c.path, NULL,
                                                &client_protocol, NULL, &f)
                    : il_create_connection(c.loop, c.host, c.port, NULL,
                                           &client_protocol, NULL, &f);
    if (rc == 0) {
      rc = il_loop_run_until_complete(c.loop, f, NULL); /* connected? */
      if (rc == 0)
        il_loop_run(c.loop, IL_RUN_DEFAULT); /* until connection_lost */
      else
        fprintf(stderr, "cannot connect: %s\n", il_strerror(rc));
      il_future_unref(f);
    }
  }
  il_loop_free(c.loop);
  return exit_code;
}
