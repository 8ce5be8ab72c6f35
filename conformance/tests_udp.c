/* conformance/tests_udp.c — SPEC.md §10 (datagram endpoints): UDP on
 * loopback, every port picked by the kernel. */
#include "task_checks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a recording protocol ------------------------------------------------ */

/* What one endpoint's protocol saw. */
typedef struct ep {
  il_transport_t *t; /* the test's reference (taken from the future) */
  il_future_t *fut;  /* the creation future, while the test holds it */
  int made, lost, lost_error;
  int lost_before_made; /* connection_lost without connection_made first */
  int fut_done_at_made; /* the creation future was done in connection_made */
  int in_api;           /* the test is inside an API call ... */
  int sync_calls;       /* ... and a callback ran during it */
  int errors, last_error;
  int nrecv;
  size_t last_len;
  unsigned char *last; /* a copy of the last datagram (64 KiB) */
  struct sockaddr_storage from;
  socklen_t fromlen;
  int paused, resumed; /* pause_writing / resume_writing calls */
  int echo;            /* send every datagram back to its sender */
  size_t seq[32];      /* sizes and first bytes of the first 32 datagrams */
  unsigned char seqb[32];
  int nseq;
  /* The round trip: the datagram it checks next, and how it ended. */
  int next, bad, limit;
  struct sockaddr_storage peer;
  socklen_t peerlen;
} ep_t;

static void ep_init(ep_t *e) {
  memset(e, 0, sizeof(*e));
  e->last = malloc(65536);
  assert_non_null(e->last);
}

static void on_made(il_transport_t *t, void *ud) {
  ep_t *e = ud;
  e->made++;
  e->fut_done_at_made = e->fut ? il_future_done(e->fut) : 0;
  e->sync_calls += e->in_api;
  (void)t;
}

static void on_lost(il_transport_t *t, int error, void *ud) {
  ep_t *e = ud;
  (void)t;
  if (!e->made)
    e->lost_before_made++;
  e->lost++;
  e->lost_error = error;
  e->sync_calls += e->in_api;
}

static void on_error(il_transport_t *t, int error, void *ud) {
  ep_t *e = ud;
  (void)t;
  e->errors++;
  e->last_error = error;
}

/* The n-th datagram of a round trip: its size and its bytes. */
static const size_t sizes[] = {0,    1,    60000, 7,     512,  1472, 1473,
                               0,    9000, 32768, 60000, 3,    100,  30000,
                               1024, 2,    0,     4096,  8192, 59999};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static size_t size_of(int n) {
  return sizes[(size_t)n % NSIZES];
}

static unsigned char byte_of(int n, size_t j) {
  return (unsigned char)(n * 131 + (int)j * 7 + (int)(j >> 8));
}

static void fill(unsigned char *buf, int n) {
  for (size_t j = 0; j < size_of(n); j++)
    buf[j] = byte_of(n, j);
}

static int matches(const unsigned char *data, size_t len, int n) {
  if (len != size_of(n))
    return 0;
  for (size_t j = 0; j < len; j++)
    if (data[j] != byte_of(n, j))
      return 0;
  return 1;
}

static void on_dgram(il_transport_t *t, const void *data, size_t len,
                     const struct sockaddr *addr, socklen_t addrlen, void *ud) {
  ep_t *e = ud;
  e->nrecv++;
  e->last_len = len;
  memcpy(e->last, data, len);
  if (e->nseq < 32) {
    e->seq[e->nseq] = len;
    e->seqb[e->nseq++] = len ? *(const unsigned char *)data : 0;
  }
  if (addrlen <= sizeof(e->from)) {
    memcpy(&e->from, addr, addrlen);
    e->fromlen = addrlen;
  }
  if (e->limit) {
    /* A round-trip side: check the datagram it expects next. */
    if (!matches(data, len, e->next))
      e->bad++;
    e->next++;
  }
  if (e->echo && il_transport_sendto(t, data, len, addr, addrlen) != 0)
    e->bad++;
  if (e->limit && !e->echo && e->next < e->limit) {
    /* The pinging side sends the next one once the echo is back. */
    unsigned char *buf = malloc(65536);
    if (!buf) {
      e->bad++;
      return;
    }
    fill(buf, e->next);
    if (il_transport_sendto(t, buf, size_of(e->next),
                            (struct sockaddr *)&e->peer, e->peerlen) != 0)
      e->bad++;
    free(buf);
  }
}

static void on_pause(il_transport_t *t, void *ud) {
  ep_t *e = ud;
  (void)t;
  e->paused++;
  e->sync_calls += e->in_api;
}

static void on_resume(il_transport_t *t, void *ud) {
  ep_t *e = ud;
  (void)t;
  e->resumed++;
}

static const il_protocol_t proto = {
    .size = sizeof(il_protocol_t),
    .connection_made = on_made,
    .connection_lost = on_lost,
    .datagram_received = on_dgram,
    .error_received = on_error,
    .pause_writing = on_pause,
    .resume_writing = on_resume,
};

/* ---- helpers ------------------------------------------------------------- */

/* Runs the loop until pred(arg) holds or `seconds` pass. */
static int wait_for(il_loop_t *loop, int (*pred)(void *), void *arg,
                    double seconds) {
  volatile int expired = 0;
  il_handle_t *guard = NULL;
  assert_int_equal(il_loop_call_later(loop, seconds, il_test_count_cb,
                                      (void *)&expired, &guard),
                   0);
  while (!pred(arg) && !expired)
    assert_int_equal(il_loop_run(loop, IL_RUN_ONCE), 0);
  il_handle_cancel(guard);
  il_handle_release(guard);
  return pred(arg);
}

static int has_lost(void *arg) {
  return ((ep_t *)arg)->lost > 0;
}
static int has_error(void *arg) {
  return ((ep_t *)arg)->errors > 0;
}
static int has_recv(void *arg) {
  return ((ep_t *)arg)->nrecv > 0;
}

/* Creates an endpoint and runs the loop until its future completes; returns
 * the future's result (e->t holds a reference of the test's on success). */
static int open_ep(il_loop_t *loop, const il_datagram_options_t *o, ep_t *e) {
  il_future_t *f = NULL;
  e->in_api = 1;
  int rc = il_create_datagram_endpoint(loop, o, &proto, e, &f);
  e->in_api = 0;
  assert_int_equal(rc, 0);
  assert_non_null(f);
  e->fut = f;
  void *value = NULL;
  rc = run_until_done(loop, f, 5.0, &value);
  if (rc == 0) {
    e->t = il_transport_ref(value);
    assert_non_null(e->t);
  }
  e->fut = NULL;
  il_future_unref(f);
  return rc;
}

static void open_ok(il_loop_t *loop, const il_datagram_options_t *o, ep_t *e) {
  assert_int_equal(open_ep(loop, o, e), 0);
  assert_int_equal(e->made, 1);
  assert_int_equal(e->sync_calls, 0);
}

/* An endpoint bound to host:0. */
static void open_bound(il_loop_t *loop, const char *host, ep_t *e) {
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = host;
  open_ok(loop, &o, e);
}

static socklen_t sockname(il_transport_t *t, struct sockaddr_storage *ss) {
  size_t len = sizeof(*ss);
  assert_int_equal(il_transport_get_extra_info(t, IL_INFO_SOCKNAME, ss, &len),
                   0);
  return (socklen_t)len;
}

static int port_of(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET
             ? ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port)
             : ntohs(
                   ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
}

static int fd_of(il_transport_t *t) {
  int fd = -1;
  size_t len = sizeof(fd);
  assert_int_equal(il_transport_get_extra_info(t, IL_INFO_FD, &fd, &len), 0);
  return fd;
}

/* Closes the endpoint (unless lost), runs the loop until connection_lost, drops
 * the test's reference. */
static void close_ep(il_loop_t *loop, ep_t *e) {
  if (e->t) {
    if (!e->lost) {
      assert_int_equal(il_transport_close(e->t), 0);
      assert_true(wait_for(loop, has_lost, e, 5.0));
    }
    assert_int_equal(e->lost, 1);
    il_transport_unref(e->t);
    e->t = NULL;
  }
  free(e->last);
  e->last = NULL;
}

/* Two endpoints bound on `host`; returns the length of b's address, put in
 * *bs. */
static socklen_t open_two(il_loop_t *loop, const char *host, ep_t *a, ep_t *b,
                          struct sockaddr_storage *bs) {
  ep_init(a);
  ep_init(b);
  open_bound(loop, host, a);
  open_bound(loop, host, b);
  return sockname(b->t, bs);
}

static void close_two(il_loop_t *loop, ep_t *a, ep_t *b) {
  close_ep(loop, a);
  close_ep(loop, b);
}

/* srv bound on 127.0.0.1, cli connected to it; returns the length of srv's
 * address, put in *ss. */
static socklen_t open_connected(il_loop_t *loop, ep_t *srv, ep_t *cli,
                                struct sockaddr_storage *ss) {
  ep_init(srv);
  ep_init(cli);
  open_bound(loop, "127.0.0.1", srv);
  socklen_t sl = sockname(srv->t, ss);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.remote_host = "127.0.0.1";
  o.remote_port = port_of(ss);
  open_ok(loop, &o, cli);
  return sl;
}

/* A loopback port nothing listens on (bound, then closed again). */
static int closed_port(il_loop_t *loop, const char *host) {
  ep_t e;
  ep_init(&e);
  open_bound(loop, host, &e);
  struct sockaddr_storage ss;
  sockname(e.t, &ss);
  close_ep(loop, &e);
  return port_of(&ss);
}

static int round_trip_done(void *arg) {
  ep_t *e = arg;
  return e->next >= e->limit || e->bad;
}

static int burst_done(void *arg) {
  return ((ep_t *)arg)->nrecv >= 20;
}
static int has_five(void *arg) {
  return ((ep_t *)arg)->nrecv >= 5;
}

/* Ping-pong of `n` datagrams of varied sizes (0 to 60000 bytes) between two
 * endpoints on `host`, each checked on both sides, then a burst of 20 small
 * ones that must arrive in order. */
static void round_trip(il_loop_t *loop, const char *host, int n) {
  ep_t a, b;
  a.peerlen = open_two(loop, host, &a, &b, &a.peer);
  b.echo = 1;
  b.limit = n;
  a.limit = n;

  unsigned char *buf = malloc(65536);
  fill(buf, 0);
  assert_int_equal(il_transport_sendto(a.t, buf, size_of(0),
                                       (struct sockaddr *)&a.peer, a.peerlen),
                   0);
  assert_true(wait_for(loop, round_trip_done, &a, 20.0));
  assert_int_equal(a.bad, 0);
  assert_int_equal(b.bad, 0);
  assert_int_equal(a.next, n);
  assert_int_equal(b.next, n);
  /* The echo came from b's address. */
  assert_int_equal(a.fromlen, a.peerlen);
  assert_memory_equal(&a.from, &a.peer, a.peerlen);

  /* A burst keeps its order on loopback. */
  b.echo = 0;
  b.limit = 0;
  b.nrecv = 0;
  b.nseq = 0;
  a.limit = 0;
  for (int i = 0; i < 20; i++) {
    memset(buf, i, 120);
    assert_int_equal(il_transport_sendto(a.t, buf, 100 + (size_t)i,
                                         (struct sockaddr *)&a.peer, a.peerlen),
                     0);
  }
  assert_true(wait_for(loop, burst_done, &b, 5.0));
  assert_int_equal(b.nseq, 20);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(b.seq[i], 100 + i);
    assert_int_equal(b.seqb[i], i);
  }
  free(buf);
  close_two(loop, &a, &b);
}

static int count_transports(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return (int)st.transports;
}

/* Loopback UDP never blocks a sender, so the queue is reached by putting one
 * end of an AF_UNIX datagram socketpair (a tiny send buffer) at the
 * endpoint's fd number: sends then block until the test reads the other
 * end, returned in *peer. The endpoint must be connected (it sends without
 * an address) and not reading (no watcher on the old socket). */
static void swap_in_unix_pair(il_transport_t *t, int *peer) {
  int sp[2];
  assert_int_equal(
      socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
  int one = 1;
  assert_int_equal(setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)),
                   0);
  int fd = fd_of(t);
  assert_int_equal(dup2(sp[0], fd), fd);
  assert_int_equal(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
  close(sp[0]);
  *peer = sp[1];
}

/* A connected endpoint (to a silent loopback endpoint) with its socket
 * swapped as above, limits 4000/1000. */
static void open_blocking(il_loop_t *loop, ep_t *sink, ep_t *e, int *peer) {
  struct sockaddr_storage ss;
  open_connected(loop, sink, e, &ss);
  assert_int_equal(il_transport_pause_reading(e->t), 0);
  swap_in_unix_pair(e->t, peer);
  assert_int_equal(il_transport_set_write_buffer_limits(e->t, 4000, 1000), 0);
}

/* Sends datagrams first..first+n-1 (1000 bytes, each filled with its
 * number) through the endpoint. */
static void send_numbered(ep_t *e, int first, int n) {
  char buf[1000];
  for (int i = first; i < first + n; i++) {
    memset(buf, i, sizeof(buf));
    e->in_api = 1;
    assert_int_equal(il_transport_sendto(e->t, buf, sizeof(buf), NULL, 0), 0);
    e->in_api = 0;
  }
}

/* Reads what reached the test's end, checking the numbers follow. */
typedef struct drain {
  ep_t *e;
  int fd;
  int n, bad, want;
} drain_t;

static void drain_peer(drain_t *d) {
  char buf[2048];
  ssize_t r;
  while ((r = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
    if (r != 1000 || buf[0] != (char)d->n || buf[999] != (char)d->n)
      d->bad++;
    d->n++;
  }
}

static int all_drained(void *arg) {
  drain_t *d = arg;
  drain_peer(d);
  return d->n >= d->want && il_transport_get_write_buffer_size(d->e->t) == 0;
}

static int drained_and_lost(void *arg) {
  drain_t *d = arg;
  drain_peer(d);
  return d->n >= d->want && d->e->lost;
}

static unsigned long long writers(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return (unsigned long long)st.writers;
}

/* ---- tests --------------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_udp_round_trip_ipv4) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  round_trip(ctx->loop, "127.0.0.1", 120);
}

IL_CONFORMANCE_TEST(test_udp_round_trip_ipv6) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  round_trip(ctx->loop, "::1", 120);
}

/* The creation future completes after connection_made ran, and neither runs
 * inside il_create_datagram_endpoint. */
IL_CONFORMANCE_TEST(test_udp_made_before_future) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t e;
  ep_init(&e);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  il_future_t *f = NULL;
  e.in_api = 1;
  assert_int_equal(il_create_datagram_endpoint(ctx->loop, &o, &proto, &e, &f),
                   0);
  e.in_api = 0;
  e.fut = f;
  assert_int_equal(e.made, 0);
  assert_int_equal(il_future_done(f), 0);
  void *value = NULL;
  assert_int_equal(run_until_done(ctx->loop, f, 5.0, &value), 0);
  assert_int_equal(e.made, 1);
  assert_int_equal(e.fut_done_at_made, 0);
  assert_int_equal(e.sync_calls, 0);
  e.t = il_transport_ref(value);
  e.fut = NULL;
  il_future_unref(f); /* the test's reference keeps the transport */
  assert_int_equal(il_transport_is_closing(e.t), 0);
  assert_int_equal(il_transport_is_reading(e.t), 1);
  assert_ptr_equal(il_transport_loop(e.t), ctx->loop);
  close_ep(ctx->loop, &e);
}

/* A connected endpoint sends with addr NULL (or its remote address) and
 * reports its peer. */
IL_CONFORMANCE_TEST(test_udp_connected_sendto_null) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t srv, cli;
  struct sockaddr_storage ss;
  socklen_t sl = open_connected(ctx->loop, &srv, &cli, &ss);
  srv.echo = 1;

  struct sockaddr_storage peer;
  size_t plen = sizeof(peer);
  assert_int_equal(
      il_transport_get_extra_info(cli.t, IL_INFO_PEERNAME, &peer, &plen), 0);
  assert_int_equal(plen, sl);
  assert_memory_equal(&peer, &ss, sl);

  assert_int_equal(il_transport_sendto(cli.t, "hello", 5, NULL, 0), 0);
  assert_true(wait_for(ctx->loop, has_recv, &cli, 5.0));
  assert_int_equal(cli.last_len, 5);
  assert_memory_equal(cli.last, "hello", 5);
  assert_int_equal(cli.fromlen, sl);
  assert_memory_equal(&cli.from, &ss, sl);
  /* The server saw the client's own address. */
  struct sockaddr_storage cs;
  socklen_t cl = sockname(cli.t, &cs);
  assert_int_equal(srv.fromlen, cl);
  assert_memory_equal(&srv.from, &cs, cl);

  /* Its own remote address given explicitly is the same thing. */
  cli.nrecv = 0;
  assert_int_equal(
      il_transport_sendto(cli.t, "again", 5, (struct sockaddr *)&ss, sl), 0);
  assert_true(wait_for(ctx->loop, has_recv, &cli, 5.0));
  assert_memory_equal(cli.last, "again", 5);
  close_two(ctx->loop, &cli, &srv);
}

/* An unconnected endpoint needs an address. */
IL_CONFORMANCE_TEST(test_udp_sendto_edestaddrreq) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t e;
  ep_init(&e);
  open_bound(ctx->loop, "127.0.0.1", &e);
  assert_int_equal(il_transport_sendto(e.t, "x", 1, NULL, 0), IL_EDESTADDRREQ);
  assert_int_equal(il_transport_sendto(e.t, "", 0, NULL, 0), IL_EDESTADDRREQ);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), 0);
  close_ep(ctx->loop, &e);
  assert_int_equal(e.errors, 0);
}

/* A connected endpoint refuses another destination. */
IL_CONFORMANCE_TEST(test_udp_sendto_eisconn) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t srv, other, cli;
  struct sockaddr_storage ss, os;
  open_connected(ctx->loop, &srv, &cli, &ss);
  ep_init(&other);
  open_bound(ctx->loop, "127.0.0.1", &other);
  socklen_t ol = sockname(other.t, &os);
  assert_int_equal(
      il_transport_sendto(cli.t, "x", 1, (struct sockaddr *)&os, ol),
      IL_EISCONN);
  /* Nothing was sent: the other endpoint stays silent. */
  assert_int_equal(il_transport_sendto(cli.t, "y", 1, NULL, 0), 0);
  assert_true(wait_for(ctx->loop, has_recv, &srv, 5.0));
  assert_int_equal(srv.last[0], 'y');
  assert_int_equal(other.nrecv, 0);
  close_ep(ctx->loop, &cli);
  close_ep(ctx->loop, &other);
  close_ep(ctx->loop, &srv);
}

/* Sending to a closed port from a connected endpoint: error_received
 * (IL_ECONNREFUSED), and the endpoint goes on working. */
IL_CONFORMANCE_TEST(test_udp_unreachable_error_received) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int port = closed_port(ctx->loop, "127.0.0.1");
  ep_t cli;
  ep_init(&cli);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.remote_host = "127.0.0.1";
  o.remote_port = port;
  open_ok(ctx->loop, &o, &cli);
  /* The ICMP answer may come a little later: send a few times, bounded. */
  for (int i = 0; i < 20 && !cli.errors; i++) {
    assert_int_equal(il_transport_sendto(cli.t, "ping", 4, NULL, 0), 0);
    wait_for(ctx->loop, has_error, &cli, 0.25);
  }
  assert_true(cli.errors > 0);
  assert_int_equal(cli.last_error, IL_ECONNREFUSED);
  assert_int_equal(il_transport_is_closing(cli.t), 0);
  assert_int_equal(cli.lost, 0);

  /* Someone listens there now: the same endpoint reaches it. */
  ep_t srv;
  ep_init(&srv);
  il_datagram_options_t so = IL_DATAGRAM_OPTIONS_INIT;
  so.local_host = "127.0.0.1";
  so.local_port = port;
  if (open_ep(ctx->loop, &so, &srv) != 0) {
    /* The port was taken in between by another process: nothing to say. */
    close_ep(ctx->loop, &cli);
    free(srv.last);
    return;
  }
  srv.echo = 1;
  cli.errors = 0;
  for (int i = 0; i < 20 && !cli.nrecv; i++) {
    assert_int_equal(il_transport_sendto(cli.t, "pong", 4, NULL, 0), 0);
    wait_for(ctx->loop, has_recv, &cli, 0.25);
  }
  assert_true(cli.nrecv > 0);
  assert_memory_equal(cli.last, "pong", 4);
  close_two(ctx->loop, &cli, &srv);
}

/* pause_reading stops datagram_received; resume_reading brings the
 * datagrams that waited. */
IL_CONFORMANCE_TEST(test_udp_pause_reading_stops_datagrams) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  struct sockaddr_storage bs;
  socklen_t bl = open_two(ctx->loop, "127.0.0.1", &a, &b, &bs);
  assert_int_equal(il_transport_pause_reading(b.t), 0);
  assert_int_equal(il_transport_pause_reading(b.t), 0); /* idempotent */
  assert_int_equal(il_transport_is_reading(b.t), 0);
  for (int i = 0; i < 5; i++)
    assert_int_equal(il_transport_sendto(a.t, "abcde", 1 + (size_t)i,
                                         (struct sockaddr *)&bs, bl),
                     0);
  volatile int never = 0;
  il_test_run_until(ctx->loop, &never, 0.2);
  assert_int_equal(b.nrecv, 0);
  assert_int_equal(il_transport_resume_reading(b.t), 0);
  assert_int_equal(il_transport_resume_reading(b.t), 0);
  assert_int_equal(il_transport_is_reading(b.t), 1);
  assert_true(wait_for(ctx->loop, has_five, &b, 5.0));
  il_test_run_until(ctx->loop, &never, 0.05);
  assert_int_equal(b.nrecv, 5);
  for (int i = 0; i < 5; i++)
    assert_int_equal(b.seq[i], 1 + (size_t)i);
  close_two(ctx->loop, &a, &b);
}

/* Nothing is buffered while the socket takes every datagram; the limits are
 * those of stream transports. */
IL_CONFORMANCE_TEST(test_udp_write_buffer_idle_zero) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  struct sockaddr_storage bs;
  socklen_t bl = open_two(ctx->loop, "127.0.0.1", &a, &b, &bs);
  assert_int_equal(il_transport_get_write_buffer_size(a.t), 0);
  size_t high = 0, low = 0;
  assert_int_equal(il_transport_get_write_buffer_limits(a.t, &high, &low), 0);
  assert_int_equal(high, IL_WRITE_HIGH_DEFAULT);
  assert_int_equal(low, IL_WRITE_HIGH_DEFAULT / 4);
  assert_int_equal(il_transport_set_write_buffer_limits(a.t, 1000, 10), 0);
  assert_int_equal(il_transport_get_write_buffer_limits(a.t, &high, &low), 0);
  assert_int_equal(high, 1000);
  assert_int_equal(low, 10);
  assert_int_equal(il_transport_set_write_buffer_limits(a.t, 10, 1000),
                   IL_EINVAL);
  assert_int_equal(
      il_transport_sendto(a.t, "abc", 3, (struct sockaddr *)&bs, bl), 0);
  assert_true(wait_for(ctx->loop, has_recv, &b, 5.0));
  assert_int_equal(il_transport_get_write_buffer_size(a.t), 0);
  close_two(ctx->loop, &a, &b);
}

/* close: connection_lost(0) once, from the loop; later calls IL_ECLOSED. */
IL_CONFORMANCE_TEST(test_udp_close_lost_once) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  struct sockaddr_storage bs;
  socklen_t bl = open_two(ctx->loop, "127.0.0.1", &a, &b, &bs);
  /* What was sent before close is sent. */
  assert_int_equal(
      il_transport_sendto(a.t, "last", 4, (struct sockaddr *)&bs, bl), 0);
  a.in_api = 1;
  assert_int_equal(il_transport_close(a.t), 0);
  assert_int_equal(il_transport_close(a.t), 0);
  a.in_api = 0;
  assert_int_equal(a.lost, 0);
  assert_int_equal(il_transport_is_closing(a.t), 1);
  assert_int_equal(il_transport_is_reading(a.t), 0);
  assert_int_equal(
      il_transport_sendto(a.t, "more", 4, (struct sockaddr *)&bs, bl),
      IL_ECLOSED);
  assert_true(wait_for(ctx->loop, has_lost, &a, 5.0));
  assert_true(wait_for(ctx->loop, has_recv, &b, 5.0));
  assert_memory_equal(b.last, "last", 4);
  volatile int never = 0;
  il_test_run_until(ctx->loop, &never, 0.05);
  assert_int_equal(a.lost, 1);
  assert_int_equal(a.lost_error, 0);
  assert_int_equal(a.sync_calls, 0);
  assert_int_equal(il_transport_close(a.t), IL_ECLOSED);
  assert_int_equal(il_transport_abort(a.t), IL_ECLOSED);
  assert_int_equal(il_transport_pause_reading(a.t), IL_ECLOSED);
  assert_int_equal(
      il_transport_sendto(a.t, "more", 4, (struct sockaddr *)&bs, bl),
      IL_ECLOSED);
  int fd = -1;
  size_t len = sizeof(fd);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, &fd, &len),
                   IL_ECLOSED);
  il_transport_unref(a.t);
  a.t = NULL;
  close_two(ctx->loop, &a, &b);
}

/* abort: connection_lost(IL_ECANCELED) once, from the loop; abort after
 * close is allowed and reports nothing more. */
IL_CONFORMANCE_TEST(test_udp_abort_lost_ecanceled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  ep_init(&a);
  ep_init(&b);
  open_bound(ctx->loop, "127.0.0.1", &a);
  open_bound(ctx->loop, "::1", &b);
  a.in_api = 1;
  assert_int_equal(il_transport_abort(a.t), 0);
  assert_int_equal(il_transport_abort(a.t), 0);
  assert_int_equal(il_transport_close(a.t), 0);
  a.in_api = 0;
  assert_int_equal(a.lost, 0);
  assert_true(wait_for(ctx->loop, has_lost, &a, 5.0));
  assert_int_equal(a.lost_error, IL_ECANCELED);
  /* close, then abort: still exactly one connection_lost. */
  assert_int_equal(il_transport_close(b.t), 0);
  assert_int_equal(il_transport_abort(b.t), 0);
  assert_true(wait_for(ctx->loop, has_lost, &b, 5.0));
  volatile int never = 0;
  il_test_run_until(ctx->loop, &never, 0.05);
  assert_int_equal(a.lost, 1);
  assert_int_equal(b.lost, 1);
  assert_int_equal(b.lost_error, 0); /* its close had finished */
  assert_int_equal(a.sync_calls + b.sync_calls, 0);
  il_transport_unref(a.t);
  il_transport_unref(b.t);
  a.t = b.t = NULL;
  close_two(ctx->loop, &a, &b);
}

/* A datagram endpoint has no byte stream: write, writev and write_eof
 * return IL_ENOTSUP. */
IL_CONFORMANCE_TEST(test_udp_write_enotsup) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t e;
  ep_init(&e);
  open_bound(ctx->loop, "127.0.0.1", &e);
  assert_int_equal(il_transport_write(e.t, "x", 1), IL_ENOTSUP);
  struct iovec iov = {(void *)"x", 1};
  assert_int_equal(il_transport_writev(e.t, &iov, 1), IL_ENOTSUP);
  assert_int_equal(il_transport_write_eof(e.t), IL_ENOTSUP);
  assert_int_equal(il_transport_can_write_eof(e.t), 0);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), 0);
  close_ep(ctx->loop, &e);
}

/* IL_DGRAM_BROADCAST sets SO_BROADCAST. */
IL_CONFORMANCE_TEST(test_udp_broadcast_flag) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  ep_init(&a);
  ep_init(&b);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  o.flags = IL_DGRAM_BROADCAST;
  open_ok(ctx->loop, &o, &a);
  open_bound(ctx->loop, "127.0.0.1", &b);
  int v = 0;
  socklen_t vl = sizeof(v);
  assert_int_equal(getsockopt(fd_of(a.t), SOL_SOCKET, SO_BROADCAST, &v, &vl),
                   0);
  assert_int_not_equal(v, 0);
  v = 1;
  assert_int_equal(getsockopt(fd_of(b.t), SOL_SOCKET, SO_BROADCAST, &v, &vl),
                   0);
  assert_int_equal(v, 0);
  close_two(ctx->loop, &a, &b);
}

/* IL_DGRAM_REUSEPORT lets two endpoints bind one port; without it the
 * second gets IL_EADDRINUSE through its future. */
IL_CONFORMANCE_TEST(test_udp_reuseport_shared_port) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b, c;
  ep_init(&a);
  ep_init(&b);
  ep_init(&c);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  o.flags = IL_DGRAM_REUSEPORT;
  open_ok(ctx->loop, &o, &a);
  struct sockaddr_storage as;
  sockname(a.t, &as);
  o.local_port = port_of(&as);
  open_ok(ctx->loop, &o, &b);
  struct sockaddr_storage bs;
  sockname(b.t, &bs);
  assert_int_equal(port_of(&bs), port_of(&as));
  o.flags = 0;
  assert_int_equal(open_ep(ctx->loop, &o, &c), IL_EADDRINUSE);
  assert_int_equal(c.made, 0);
  assert_int_equal(c.lost, 0);
  close_two(ctx->loop, &a, &b);
  close_ep(ctx->loop, &c);
}

/* get_extra_info: sockname, fd, peername (IL_ENOTCONN when unconnected),
 * IL_ERANGE with *len the size needed. */
IL_CONFORMANCE_TEST(test_udp_extra_info) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t e;
  ep_init(&e);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.family = AF_INET6;
  o.local_host = "::1";
  open_ok(ctx->loop, &o, &e);
  struct sockaddr_storage ss;
  size_t len = sizeof(ss);
  assert_int_equal(
      il_transport_get_extra_info(e.t, IL_INFO_SOCKNAME, &ss, &len), 0);
  assert_int_equal(len, sizeof(struct sockaddr_in6));
  assert_int_equal(ss.ss_family, AF_INET6);
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
  assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
  assert_int_not_equal(port_of(&ss), 0);
  len = 4;
  assert_int_equal(
      il_transport_get_extra_info(e.t, IL_INFO_SOCKNAME, &ss, &len), IL_ERANGE);
  assert_int_equal(len, sizeof(struct sockaddr_in6));
  len = sizeof(ss);
  assert_int_equal(
      il_transport_get_extra_info(e.t, IL_INFO_PEERNAME, &ss, &len),
      IL_ENOTCONN);
  int fd = fd_of(e.t);
  int type = 0;
  socklen_t tl = sizeof(type);
  assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
  assert_int_equal(type, SOCK_DGRAM);
  assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close_ep(ctx->loop, &e);
}

/* An endpoint made with a family only is not bound until it sends; replies
 * reach it. */
IL_CONFORMANCE_TEST(test_udp_family_only_unbound) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t srv, cli;
  ep_init(&srv);
  ep_init(&cli);
  open_bound(ctx->loop, "127.0.0.1", &srv);
  srv.echo = 1;
  struct sockaddr_storage ss;
  socklen_t sl = sockname(srv.t, &ss);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.family = AF_INET;
  open_ok(ctx->loop, &o, &cli);
  assert_int_equal(
      il_transport_sendto(cli.t, "hi", 2, (struct sockaddr *)&ss, sl), 0);
  assert_true(wait_for(ctx->loop, has_recv, &cli, 5.0));
  assert_memory_equal(cli.last, "hi", 2);
  /* A local port alone binds the wildcard address. */
  ep_t w;
  ep_init(&w);
  int port = closed_port(ctx->loop, "0.0.0.0");
  il_datagram_options_t wo = IL_DATAGRAM_OPTIONS_INIT;
  wo.local_port = port;
  if (open_ep(ctx->loop, &wo, &w) == 0) {
    struct sockaddr_storage ws;
    sockname(w.t, &ws);
    assert_int_equal(ws.ss_family, AF_INET);
    assert_int_equal(port_of(&ws), port);
    assert_int_equal(((struct sockaddr_in *)(void *)&ws)->sin_addr.s_addr,
                     htonl(INADDR_ANY));
  } /* else the port was taken in between by another process */
  close_ep(ctx->loop, &w);
  close_two(ctx->loop, &cli, &srv);
}

/* Datagrams above the protocol's largest payload: IL_EMSGSIZE, nothing
 * queued. */
IL_CONFORMANCE_TEST(test_udp_sendto_emsgsize) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  struct sockaddr_storage bs;
  socklen_t bl = open_two(ctx->loop, "127.0.0.1", &a, &b, &bs);
  char *big = calloc(1, 70000);
  assert_non_null(big);
  assert_int_equal(
      il_transport_sendto(a.t, big, 65508, (struct sockaddr *)&bs, bl),
      IL_EMSGSIZE);
  assert_int_equal(
      il_transport_sendto(a.t, big, 70000, (struct sockaddr *)&bs, bl),
      IL_EMSGSIZE);
  assert_int_equal(il_transport_get_write_buffer_size(a.t), 0);
  assert_int_equal(
      il_transport_sendto(a.t, big, 65507, (struct sockaddr *)&bs, bl), 0);
  assert_true(wait_for(ctx->loop, has_recv, &b, 5.0));
  assert_int_equal(b.last_len, 65507);
  free(big);
  assert_int_equal(a.errors, 0);
  close_two(ctx->loop, &a, &b);
}

/* A remote host name is resolved (il_getaddrinfo) and connected to. */
IL_CONFORMANCE_TEST(test_udp_remote_name_resolved) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t srv, cli;
  ep_init(&srv);
  ep_init(&cli);
  open_bound(ctx->loop, "127.0.0.1", &srv);
  srv.echo = 1;
  struct sockaddr_storage ss;
  socklen_t sl = sockname(srv.t, &ss);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.family = AF_INET;
  o.remote_host = "localhost";
  o.remote_port = port_of(&ss);
  open_ok(ctx->loop, &o, &cli);
  struct sockaddr_storage peer;
  size_t plen = sizeof(peer);
  assert_int_equal(
      il_transport_get_extra_info(cli.t, IL_INFO_PEERNAME, &peer, &plen), 0);
  assert_int_equal(plen, sl);
  assert_memory_equal(&peer, &ss, sl);
  assert_int_equal(il_transport_sendto(cli.t, "name", 4, NULL, 0), 0);
  assert_true(wait_for(ctx->loop, has_recv, &cli, 5.0));
  assert_memory_equal(cli.last, "name", 4);
  close_two(ctx->loop, &cli, &srv);
}

/* No endpoint left and no lookup running. */
static int loop_idle(void *arg) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats((il_loop_t *)arg, &st), 0);
  return st.transports == 0 && st.executor_jobs == 0;
}

/* Cancelling the creation future stops the attempt: while the name is
 * resolved nothing reaches the protocol; once connection_made was queued the
 * endpoint is aborted (connection_lost(IL_ECANCELED)). */
IL_CONFORMANCE_TEST(test_udp_cancel_creation) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t a, b;
  ep_init(&a);
  ep_init(&b);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.remote_host = "localhost";
  o.remote_port = 9;
  il_future_t *f = NULL;
  assert_int_equal(il_create_datagram_endpoint(ctx->loop, &o, &proto, &a, &f),
                   0);
  assert_int_equal(il_future_cancel(f, "changed my mind"), 1);
  assert_int_equal(run_until_done(ctx->loop, f, 5.0, NULL), IL_ECANCELED);
  il_future_unref(f);
  assert_true(wait_for(ctx->loop, loop_idle, ctx->loop, 5.0));
  assert_int_equal(a.made + a.lost, 0);

  o.remote_host = "127.0.0.1";
  assert_int_equal(il_create_datagram_endpoint(ctx->loop, &o, &proto, &b, &f),
                   0);
  assert_int_equal(il_future_cancel(f, NULL), 1);
  assert_int_equal(run_until_done(ctx->loop, f, 5.0, NULL), IL_ECANCELED);
  il_future_unref(f);
  assert_true(wait_for(ctx->loop, has_lost, &b, 5.0));
  assert_int_equal(b.made, 1);
  assert_int_equal(b.lost_error, IL_ECANCELED);
  assert_true(wait_for(ctx->loop, loop_idle, ctx->loop, 5.0));
  close_two(ctx->loop, &a, &b);
}

/* Closing the loop with endpoints open: connection_lost(IL_ECLOSED) during
 * il_loop_close, sockets closed, the transports answer IL_ECLOSED and are
 * freed with their last reference. A creation still queued is cancelled
 * and its protocol hears nothing. */
IL_CONFORMANCE_TEST(test_udp_loop_close_lost_eclosed) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = il_test_loop_new(ctx);
  ep_t a, b, c, d;
  ep_init(&a);
  ep_init(&b);
  ep_init(&c);
  ep_init(&d);
  open_bound(loop, "127.0.0.1", &a);
  open_bound(loop, "::1", &b);
  int fda = fd_of(a.t), fdb = fd_of(b.t);
  /* b is closing with its connection_lost(0) queued. */
  assert_int_equal(il_transport_close(b.t), 0);
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  il_future_t *fc = NULL, *fd = NULL;
  assert_int_equal(il_create_datagram_endpoint(loop, &o, &proto, &c, &fc), 0);
  o.local_host = NULL;
  o.remote_host = "localhost";
  o.remote_port = 9;
  assert_int_equal(il_create_datagram_endpoint(loop, &o, &proto, &d, &fd), 0);

  assert_int_equal(il_loop_close(loop), 0);
  assert_int_equal(a.lost, 1);
  assert_int_equal(a.lost_error, IL_ECLOSED);
  assert_int_equal(b.lost, 1);
  assert_int_equal(b.lost_error, 0); /* its close had finished */
  assert_int_equal(c.made + c.lost + d.made + d.lost, 0);
  assert_int_equal(il_future_cancelled(fc), 1);
  assert_int_equal(il_future_cancelled(fd), 1);
  il_future_unref(fc);
  il_future_unref(fd);
  assert_int_equal(fcntl(fda, F_GETFD), -1);
  assert_int_equal(fcntl(fdb, F_GETFD), -1);
  assert_int_equal(il_transport_sendto(a.t, "x", 1, NULL, 0), IL_ECLOSED);
  assert_int_equal(il_transport_close(a.t), IL_ECLOSED);
  assert_int_equal(il_transport_is_closing(a.t), 1);
  il_transport_unref(a.t);
  il_transport_unref(b.t);
  a.t = b.t = NULL;
  free(a.last);
  free(b.last);
  free(c.last);
  free(d.last);
}

/* Bad arguments: IL_EINVAL at once, nothing created; a local address that
 * is not numeric fails the future with IL_EAI. */
IL_CONFORMANCE_TEST(test_udp_bad_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  ep_t e;
  ep_init(&e);
  il_future_t *f = (il_future_t *)&e; /* must be cleared */
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  assert_int_equal(il_create_datagram_endpoint(NULL, &o, &proto, &e, &f),
                   IL_EINVAL);
  assert_int_equal(il_create_datagram_endpoint(loop, NULL, &proto, &e, &f),
                   IL_EINVAL);
  assert_null(f);
  assert_int_equal(il_create_datagram_endpoint(loop, &o, NULL, &e, &f),
                   IL_EINVAL);
  assert_int_equal(il_create_datagram_endpoint(loop, &o, &proto, &e, NULL),
                   IL_EINVAL);
  il_protocol_t small = {0};
  assert_int_equal(il_create_datagram_endpoint(loop, &o, &small, &e, &f),
                   IL_EINVAL);
  il_datagram_options_t bad = IL_DATAGRAM_OPTIONS_INIT; /* nothing given */
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.local_port = 65536;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad.local_port = -1;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.remote_host = "127.0.0.1";
  bad.remote_port = 70000;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.remote_port = 53; /* a port without a host */
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.remote_host = "";
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.family = AF_UNIX;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.flags = 0x100;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  bad = o;
  bad.size = 0;
  assert_int_equal(il_create_datagram_endpoint(loop, &bad, &proto, &e, &f),
                   IL_EINVAL);
  assert_null(f);
  assert_int_equal(count_transports(loop), 0);

  /* Errors of the address go through the future. */
  bad = o;
  bad.local_host = "not-an-address";
  assert_int_equal(open_ep(loop, &bad, &e), IL_EAI);
  bad = o;
  bad.family = AF_INET6; /* 127.0.0.1 is not IPv6 */
  assert_int_equal(open_ep(loop, &bad, &e), IL_EAFNOSUPPORT);
  bad = o;
  bad.remote_host = "::1"; /* local IPv4, remote IPv6 */
  bad.remote_port = 9;
  assert_int_equal(open_ep(loop, &bad, &e), IL_EAFNOSUPPORT);
  assert_int_equal(e.made + e.lost, 0);
  assert_int_equal(count_transports(loop), 0);

  /* sendto's own checks. */
  open_bound(loop, "127.0.0.1", &e);
  struct sockaddr_storage ss;
  socklen_t sl = sockname(e.t, &ss);
  assert_int_equal(
      il_transport_sendto(NULL, "x", 1, (struct sockaddr *)&ss, sl), IL_EINVAL);
  assert_int_equal(
      il_transport_sendto(e.t, NULL, 1, (struct sockaddr *)&ss, sl), IL_EINVAL);
  assert_int_equal(il_transport_sendto(e.t, "x", 1, (struct sockaddr *)&ss, 2),
                   IL_EINVAL);
  struct sockaddr_in6 v6;
  memset(&v6, 0, sizeof(v6));
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  v6.sin6_port = htons(9);
  assert_int_equal(
      il_transport_sendto(e.t, "x", 1, (struct sockaddr *)&v6, sizeof(v6)),
      IL_EINVAL); /* an IPv6 address on an IPv4 socket */
  /* NULL data with len 0 is an empty datagram. */
  assert_int_equal(
      il_transport_sendto(e.t, NULL, 0, (struct sockaddr *)&ss, sl), 0);
  assert_true(wait_for(loop, has_recv, &e, 5.0));
  assert_int_equal(e.last_len, 0);
  assert_int_equal(e.errors, 0);
  close_ep(loop, &e);
}

/* From another thread while the loop runs, every call returns
 * IL_EWRONGTHREAD and changes nothing. */
typedef struct wrong_thread {
  il_loop_t *loop;
  ep_t *e;
  int rc[6];
} wrong_thread_t;

static void *wrong_thread_main(void *arg) {
  wrong_thread_t *w = arg;
  il_datagram_options_t o = IL_DATAGRAM_OPTIONS_INIT;
  o.local_host = "127.0.0.1";
  il_future_t *f = NULL;
  w->rc[0] = il_create_datagram_endpoint(w->loop, &o, &proto, w->e, &f);
  w->rc[1] = il_transport_sendto(w->e->t, "x", 1, NULL, 0);
  w->rc[2] = il_transport_close(w->e->t);
  w->rc[3] = il_transport_abort(w->e->t);
  w->rc[4] = il_transport_pause_reading(w->e->t);
  w->rc[5] = f == NULL ? 0 : 1;
  return NULL;
}

static int wrong_thread_cb(il_loop_t *loop, void *arg) {
  pthread_t th;
  if (pthread_create(&th, NULL, wrong_thread_main, arg) == 0)
    pthread_join(th, NULL);
  return il_loop_stop(loop);
}

IL_CONFORMANCE_TEST(test_udp_wrong_thread_refused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t srv, e;
  struct sockaddr_storage ss;
  open_connected(ctx->loop, &srv, &e, &ss);
  wrong_thread_t w = {ctx->loop, &e, {0}};
  assert_int_equal(il_loop_call_soon(ctx->loop, wrong_thread_cb, &w, NULL), 0);
  assert_true(il_test_run_bounded(ctx->loop, 5.0));
  for (int i = 0; i < 5; i++)
    assert_int_equal(w.rc[i], IL_EWRONGTHREAD);
  assert_int_equal(w.rc[5], 0);
  assert_int_equal(count_transports(ctx->loop), 2);
  assert_int_equal(il_transport_is_closing(e.t), 0);
  assert_int_equal(il_transport_is_reading(e.t), 1);
  assert_int_equal(srv.nrecv, 0);
  close_two(ctx->loop, &e, &srv);
}

/* Datagrams the socket would not take are queued, counted in the write
 * buffer (pause_writing above the high-water mark) and sent in order when it
 * becomes writable (resume_writing at the low-water mark). */
IL_CONFORMANCE_TEST(test_udp_queued_datagrams_in_order) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t sink, e;
  int peer = -1;
  open_blocking(ctx->loop, &sink, &e, &peer);
  send_numbered(&e, 0, 40);
  size_t queued = il_transport_get_write_buffer_size(e.t);
  assert_true(queued > 4000);
  assert_int_equal(queued % 1000, 0);
  assert_int_equal(e.paused, 1);
  assert_int_equal(e.sync_calls, 1); /* pause_writing came inside sendto */
  assert_int_equal(e.resumed, 0);
  assert_int_equal(writers(ctx->loop), 1);
  volatile int never = 0;
  il_test_run_until(ctx->loop, &never, 0.05);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), queued);

  /* Room in the socket again, but the queue goes first: later datagrams
   * wait behind it. */
  drain_t d = {&e, peer, 0, 0, 50};
  drain_peer(&d);
  assert_true(d.n > 0);
  send_numbered(&e, 40, 10);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), queued + 10000);
  assert_true(wait_for(ctx->loop, all_drained, &d, 10.0));
  assert_int_equal(d.n, 50);
  assert_int_equal(d.bad, 0);
  assert_int_equal(e.paused, 1);
  assert_int_equal(e.resumed, 1);
  assert_int_equal(writers(ctx->loop), 0);
  assert_int_equal(e.errors, 0);
  close_two(ctx->loop, &e, &sink);
  close(peer);
}

/* close() sends what is queued first, then connection_lost(0). */
IL_CONFORMANCE_TEST(test_udp_close_flushes_queue) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t sink, e;
  int peer = -1;
  open_blocking(ctx->loop, &sink, &e, &peer);
  send_numbered(&e, 0, 30);
  assert_true(il_transport_get_write_buffer_size(e.t) > 0);
  assert_int_equal(il_transport_close(e.t), 0);
  volatile int never = 0;
  il_test_run_until(ctx->loop, &never, 0.05);
  assert_int_equal(e.lost, 0); /* still flushing */
  drain_t d = {&e, peer, 0, 0, 30};
  assert_true(wait_for(ctx->loop, drained_and_lost, &d, 10.0));
  assert_int_equal(d.n, 30);
  assert_int_equal(d.bad, 0);
  assert_int_equal(e.lost, 1);
  assert_int_equal(e.lost_error, 0);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), 0);
  close_two(ctx->loop, &e, &sink);
  close(peer);
}

/* abort() drops the queue: nothing more is sent, connection_lost
 * (IL_ECANCELED), the write buffer is empty at once. */
IL_CONFORMANCE_TEST(test_udp_abort_drops_queue) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t sink, e;
  int peer = -1;
  open_blocking(ctx->loop, &sink, &e, &peer);
  send_numbered(&e, 0, 30);
  size_t queued = il_transport_get_write_buffer_size(e.t);
  assert_true(queued > 0);
  assert_int_equal(il_transport_abort(e.t), 0);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), 0);
  assert_true(wait_for(ctx->loop, has_lost, &e, 5.0));
  assert_int_equal(e.lost_error, IL_ECANCELED);
  drain_t d = {&e, peer, 0, 0, 0};
  drain_peer(&d);
  assert_int_equal(d.bad, 0);
  assert_int_equal(d.n, 30 - (int)(queued / 1000));
  assert_int_equal(writers(ctx->loop), 0);
  close_two(ctx->loop, &e, &sink);
  close(peer);
}

static int queue_failed(void *arg) {
  ep_t *e = arg;
  return e->errors > 0 && il_transport_get_write_buffer_size(e->t) == 0;
}

/* A queued datagram the socket refuses is dropped and reported to
 * error_received; the others still go, and the endpoint stays open. */
IL_CONFORMANCE_TEST(test_udp_queued_send_error_received) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  ep_t sink, e;
  int peer = -1;
  open_blocking(ctx->loop, &sink, &e, &peer);
  send_numbered(&e, 0, 10);
  assert_true(il_transport_get_write_buffer_size(e.t) > 0);
  close(peer); /* the queue can no longer go anywhere */
  assert_true(wait_for(ctx->loop, queue_failed, &e, 5.0));
  assert_true(e.last_error == IL_ECONNREFUSED || e.last_error == IL_ENOTCONN);
  assert_int_equal(il_transport_is_closing(e.t), 0);
  assert_int_equal(e.lost, 0);
  assert_int_equal(writers(ctx->loop), 0);
  close_two(ctx->loop, &e, &sink);
}
