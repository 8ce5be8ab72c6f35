/* bench/echo_server.c — interloop's echo servers for the network
 * benchmarks, on any backend:
 *
 *   bench_echo_server [--backend NAME] [--style protocol|streams] [--port N]
 *                     [--once] [--heap]
 *
 * protocol: il_create_server with one static protocol; data_received writes
 *   the bytes back with il_transport_write; pause_writing / resume_writing
 *   pause and resume reading (so a connection stops reading while more than
 *   64 KiB wait to be written, as the native servers do).
 * streams: il_start_server; each connection's task loops il_stream_read (up
 *   to 64 KiB) → il_stream_write → il_stream_drain.
 *
 * Listens on 127.0.0.1, prints "port N", serves until killed, or with
 * --once until its last connection is gone (see bench/net_common.h).
 * With --heap, each SIGUSR1 prints "heap N" on stdout: the bytes malloc has
 * handed out (mallinfo2's uordblks + hblkhd, chunk headers included), so
 * bench/parts/net.py can take the heap's growth per idle connection (held
 * open by bench_echo_client idle --hold). The signal watcher is only there
 * with --heap, out of the ping-pong's way. */
#include <interloop/interloop.h>

#include <malloc.h>
#include <signal.h>

#include "bench_common.h"
#include "net_common.h"

static il_loop_t *loop;
static il_server_t *server;
static long live;
static int once;

/* The last connection is gone: with --once, end the run. */
static void conn_gone(void) {
  if (--live == 0 && once) {
    il_server_close(server);
    il_loop_stop(loop);
  }
}

/* ---- protocol style ------------------------------------------------------ */

static void proto_data(il_transport_t *t, const void *data, size_t len,
                       void *ud) {
  (void)ud;
  if (il_transport_write(t, data, len) < 0)
    il_transport_abort(t);
}

static void proto_pause(il_transport_t *t, void *ud) {
  (void)ud;
  il_transport_pause_reading(t);
}

static void proto_resume(il_transport_t *t, void *ud) {
  (void)ud;
  il_transport_resume_reading(t);
}

static void proto_lost(il_transport_t *t, int error, void *ud) {
  (void)t, (void)error, (void)ud;
  conn_gone();
}

static const il_protocol_t echo_protocol = {
    .size = sizeof(il_protocol_t),
    .data_received = proto_data,
    .connection_lost = proto_lost,
    .pause_writing = proto_pause,
    .resume_writing = proto_resume,
};

static int proto_factory(il_server_t *s, void *server_ud,
                         const il_protocol_t **proto, void **ud) {
  (void)s, (void)server_ud;
  *proto = &echo_protocol;
  *ud = NULL;
  live++;
  return 0;
}

/* ---- streams style ------------------------------------------------------- */

static int stream_echo(il_stream_reader_t *r, il_stream_writer_t *w, void *ud) {
  (void)ud;
  char buf[NET_READ_BUF];
  size_t n;
  live++;
  while (il_stream_read(r, buf, sizeof(buf), &n) == 0 && n > 0) {
    if (il_stream_write(w, buf, n) < 0 || il_stream_drain(w) < 0)
      break;
  }
  conn_gone();
  return 0; /* a reset or an error is the end of this client, no more */
}

/* ---- the heap, on request ------------------------------------------------ */

static int report_heap(il_loop_t *l, int signum, void *arg) {
  (void)l, (void)signum, (void)arg;
  struct mallinfo2 mi = mallinfo2();
  printf("heap %zu\n", mi.uordblks + mi.hblkhd);
  fflush(stdout);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  int streams = !strcmp(a.style, "streams");
  if (!streams && strcmp(a.style, "protocol"))
    return net_usage(argv[0]);
  once = a.once;
  loop = bench_new_loop("bench_echo_server", a.backend);

  il_server_options_t so = IL_SERVER_OPTIONS_INIT;
  so.backlog = NET_BACKLOG;
  int rc;
  if (streams) {
    il_stream_options_t opts = IL_STREAM_OPTIONS_INIT;
    opts.server = &so;
    rc = il_start_server(loop, "127.0.0.1", a.port, &opts, stream_echo, NULL,
                         &server);
  } else {
    rc = il_create_server(loop, "127.0.0.1", a.port, &so, proto_factory, NULL,
                          &server);
  }
  if (rc < 0) {
    fprintf(stderr, "bench_echo_server: cannot listen: %s\n", il_strerror(rc));
    il_loop_free(loop);
    return 1;
  }
  if (a.heap && il_loop_add_signal_handler(loop, SIGUSR1, report_heap, NULL))
    fprintf(stderr, "bench_echo_server: no SIGUSR1 handler: no heap figures\n");
  net_announce(il_server_port(server));
  rc = il_loop_run(loop, IL_RUN_DEFAULT);
  il_server_free(server);
  il_loop_free(loop);
  return rc < 0 ? 1 : 0;
}
