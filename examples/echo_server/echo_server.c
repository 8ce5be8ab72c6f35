/* examples/echo_server/echo_server.c — a TCP (or Unix-socket) echo server
 * that serves many clients at once, written twice: with the protocol API
 * (callbacks) and with tasks and streams.
 *
 *   interloop-echo-server [--tasks] [--host ADDR] [--port N]
 *   interloop-echo-server [--tasks] --unix PATH
 *
 * It prints one line saying where it listens (port 0, the default, picks a
 * free one), then echoes every byte back until SIGINT or SIGTERM. The
 * backend comes from $INTERLOOP_BACKEND (builtin, uv, ev, event). */
#include <interloop/interloop.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clients_served;

/* ---- protocol style -------------------------------------------------------
 * One static protocol for every connection: write back what arrives. When
 * the client does not read fast enough, the write buffer goes above its
 * high-water mark and pause_writing is called: stop reading from that
 * client until the buffer has drained (resume_writing). */
static void echo_data(il_transport_t *t, const void *data, size_t len,
                      void *ud) {
  (void)ud;
  il_transport_write(t, data, len);
}

static void echo_pause(il_transport_t *t, void *ud) {
  (void)ud;
  il_transport_pause_reading(t);
}

static void echo_resume(il_transport_t *t, void *ud) {
  (void)ud;
  il_transport_resume_reading(t);
}

static void echo_lost(il_transport_t *t, int error, void *ud) {
  (void)t, (void)ud;
  clients_served++;
  if (error && error != IL_ECONNRESET && error != IL_ECLOSED)
    fprintf(stderr, "client lost: %s\n", il_strerror(error));
}

static const il_protocol_t echo_protocol = {
    .size = sizeof(il_protocol_t),
    .data_received = echo_data,
    .connection_lost = echo_lost,
    .pause_writing = echo_pause,
    .resume_writing = echo_resume,
    /* eof_received NULL: when the client stops sending, the transport
     * flushes what is left and closes. */
};

/* Each accepted connection asks for its protocol. */
static int echo_factory(il_server_t *server, void *server_ud,
                        const il_protocol_t **proto, void **ud) {
  (void)server, (void)server_ud;
  *proto = &echo_protocol;
  *ud = NULL;
  return 0;
}

/* ---- task style -----------------------------------------------------------
 * One task per connection, reading and writing in plain sequence. drain()
 * waits while the client is slow, which is the same flow control as above. */
static int echo_task(il_stream_reader_t *r, il_stream_writer_t *w, void *ud) {
  (void)ud;
  char buf[16384];
  for (;;) {
    size_t n;
    int rc = il_stream_read(r, buf, sizeof(buf), &n);
    if (rc < 0 || n == 0) { /* an error, or EOF: the client is done */
      clients_served++;
      return rc == IL_ECONNRESET ? 0 : rc;
    }
    if ((rc = il_stream_write(w, buf, n)) < 0 || (rc = il_stream_drain(w)) < 0)
      return rc;
  }
}

/* ---- main ---------------------------------------------------------------- */

static il_server_t *server;

/* SIGINT / SIGTERM: stop listening and let the loop end. */
static int on_signal(il_loop_t *loop, int signum, void *arg) {
  (void)signum, (void)arg;
  il_server_close(server);
  il_loop_stop(loop);
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: interloop-echo-server [--tasks] "
                  "[--host ADDR] [--port N] | [--tasks] --unix PATH\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *path = NULL;
  int port = 0, tasks = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tasks"))
      tasks = 1;
    else if (!strcmp(argv[i], "--host") && i + 1 < argc)
      host = argv[++i];
    else if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--unix") && i + 1 < argc)
      path = argv[++i];
    else
      return usage();
  }

  il_loop_t *loop;
  int rc = il_loop_new(&loop, NULL);
  if (rc < 0) {
    fprintf(stderr, "il_loop_new: %s\n", il_loop_last_error_message());
    return 1;
  }
  if (tasks && path)
    rc = il_start_unix_server(loop, path, NULL, echo_task, NULL, &server);
  else if (tasks)
    rc = il_start_server(loop, host, port, NULL, echo_task, NULL, &server);
  else if (path)
    rc = il_create_unix_server(loop, path, NULL, echo_factory, NULL, &server);
  else
    rc = il_create_server(loop, host, port, NULL, echo_factory, NULL, &server);
  if (rc < 0) {
    fprintf(stderr, "cannot listen: %s\n", il_strerror(rc));
    il_loop_free(loop);
    return 1;
  }
  il_loop_add_signal_handler(loop, SIGINT, on_signal, NULL);
  il_loop_add_signal_handler(loop, SIGTERM, on_signal, NULL);

  if (path)
    printf("echo server (%s) on unix:%s, backend %s\n",
           tasks ? "tasks" : "protocol", path, il_loop_backend_name(loop));
  else
    printf("echo server (%s) on %s port %d, backend %s\n",
           tasks ? "tasks" : "protocol", host, il_server_port(server),
           il_loop_backend_name(loop));
  fflush(stdout);

  rc = il_loop_run(loop, IL_RUN_DEFAULT);
  printf("served %d clients\n", clients_served);
  il_server_free(server);
  il_loop_remove_signal_handler(loop, SIGINT);
  il_loop_remove_signal_handler(loop, SIGTERM);
  il_loop_free(loop); /* closes the connections still open */
  return rc < 0 ? 1 : 0;
}
