/* conformance/tests_transport.c — SPEC.md §10: stream transports (TCP and
 * Unix sockets) and the protocol state machine.
 *
 * Connections are made with plain syscalls (a TCP listener on 127.0.0.1
 * port 0, or socketpair) and wrapped with il_transport_adopt, so these tests
 * need nothing but the transport itself. Both ends usually live in the
 * test's one loop. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- connections ---------------------------------------------------------
 */

typedef void (*pair_fn)(int fds[2]);

/* A connected TCP pair on 127.0.0.1 (blocking, close-on-exec). */
static void tcp_pair(int fds[2]) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(l >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(l, 4), 0);
  socklen_t len = sizeof(a);
  assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
  fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fds[0] >= 0);
  assert_int_equal(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
  fds[1] = accept(l, NULL, NULL);
  assert_true(fds[1] >= 0);
  assert_int_equal(fcntl(fds[1], F_SETFD, FD_CLOEXEC), 0);
  close(l);
}

/* A connected Unix stream pair (blocking, close-on-exec). */
static void unix_pair(int fds[2]) {
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

/* Small kernel buffers, so that a few hundred KiB stay in the transport's
 * own write buffer. */
static void small_buffers(int fd) {
  int n = 16 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
}

/* Reads from a raw (blocking or not) fd until `want` bytes or EOF or 5 s;
 * returns the count. `out` may be NULL (the bytes are dropped). */
static size_t raw_read(int fd, void *out, size_t want) {
  static char sink[65536];
  size_t got = 0;
  for (int spins = 0; got < want && spins < 5000; spins++) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1) <= 0)
      continue;
    size_t room = want - got;
    char *dst = out ? (char *)out + got : sink;
    if (!out && room > sizeof(sink))
      room = sizeof(sink);
    ssize_t n = recv(fd, dst, room, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      break; /* EOF, or reset */
    if (n > 0)
      got += (size_t)n;
  }
  return got;
}

/* ---- a protocol that records what it is told -----------------------------
 */

/* Set around calls (create, close, abort, write) that must never call
 * connection_made or connection_lost from inside. */
static int g_in_call;

typedef struct rec {
  il_transport_t *t;
  int made, eofs, lost, pauses, resumes, datas;
  int bad; /* a callback out of the state machine's order, or inside a call */
  int lost_error;
  size_t nbytes;            /* bytes received */
  unsigned char keep[256];  /* the first bytes received */
  int keep_open;            /* what eof_received answers */
  int unmade_ok;            /* lost may come without made (loop close) */
  int close_on_data;        /* close from inside data_received */
  const char *reply_on_eof; /* written from inside eof_received */
  size_t wsize_at_pause;    /* write-buffer size when paused / resumed */
  size_t wsize_at_resume;
} rec_t;

static void rec_made(il_transport_t *t, void *ud) {
  rec_t *r = ud;
  if (g_in_call || r->made || r->lost || (r->t && r->t != t))
    r->bad++;
  r->t = t;
  r->made++;
}

static void rec_data(il_transport_t *t, const void *data, size_t len,
                     void *ud) {
  rec_t *r = ud;
  if (!r->made || r->eofs || r->lost || len == 0 || t != r->t)
    r->bad++;
  if (r->nbytes < sizeof(r->keep)) {
    size_t k = sizeof(r->keep) - r->nbytes;
    memcpy(r->keep + r->nbytes, data, k < len ? k : len);
  }
  r->nbytes += len;
  r->datas++;
  if (r->close_on_data) {
    g_in_call++;
    if (il_transport_close(t) != 0)
      r->bad++;
    g_in_call--;
  }
}

static int rec_eof(il_transport_t *t, void *ud) {
  rec_t *r = ud;
  if (!r->made || r->eofs || r->lost || t != r->t)
    r->bad++;
  r->eofs++;
  if (r->reply_on_eof &&
      il_transport_write(t, r->reply_on_eof, strlen(r->reply_on_eof)) != 0)
    r->bad++;
  return r->keep_open;
}

static void rec_lost(il_transport_t *t, int error, void *ud) {
  rec_t *r = ud;
  if (g_in_call || (!r->made && !r->unmade_ok) || r->lost || t != r->t)
    r->bad++;
  r->lost++;
  r->lost_error = error;
}

static void rec_pause(il_transport_t *t, void *ud) {
  rec_t *r = ud;
  if (r->pauses != r->resumes || !r->made || r->lost)
    r->bad++;
  r->pauses++;
  r->wsize_at_pause = il_transport_get_write_buffer_size(t);
}

static void rec_resume(il_transport_t *t, void *ud) {
  rec_t *r = ud;
  if (r->pauses != r->resumes + 1 || r->lost)
    r->bad++;
  r->resumes++;
  r->wsize_at_resume = il_transport_get_write_buffer_size(t);
}

static const il_protocol_t rec_proto = {
    .size = sizeof(il_protocol_t),
    .connection_made = rec_made,
    .data_received = rec_data,
    .eof_received = rec_eof,
    .connection_lost = rec_lost,
    .pause_writing = rec_pause,
    .resume_writing = rec_resume,
};

/* Makes a call with g_in_call set. */
static int g_rc;
#define IN_CALL(call) (g_in_call++, g_rc = (call), g_in_call--, g_rc)
#define t_adopt(loop, fd, proto, r, out)                                       \
  IN_CALL(il_transport_adopt(loop, fd, proto, r, out))
#define t_close(t) IN_CALL(il_transport_close(t))
#define t_abort(t) IN_CALL(il_transport_abort(t))
#define t_write(t, data, len) IN_CALL(il_transport_write(t, data, len))
#define t_write_eof(t) IN_CALL(il_transport_write_eof(t))

/* Adopts fd with the recording protocol; r->t is the transport at once. */
static void adopt_rec(il_loop_t *loop, int fd, rec_t *r) {
  il_transport_t *t = NULL;
  assert_int_equal(t_adopt(loop, fd, &rec_proto, r, &t), 0);
  assert_non_null(t);
  r->t = t;
  assert_int_equal(r->made, 0);
}

/* Both ends of a new connection adopted with the recording protocol, made. */
static void rec_pair(il_loop_t *loop, pair_fn mk, int small, rec_t *a,
                     rec_t *b) {
  int fds[2];
  mk(fds);
  if (small) {
    small_buffers(fds[0]);
    small_buffers(fds[1]);
  }
  adopt_rec(loop, fds[0], a);
  adopt_rec(loop, fds[1], b);
  assert_true(il_test_run_until(loop, &b->made, 5.0));
  assert_int_equal(a->made, 1);
}

static void wait_lost(il_loop_t *loop, rec_t *r) {
  assert_true(il_test_run_until(loop, &r->lost, 5.0));
  assert_int_equal(r->lost, 1);
}

/* One end of a new connection adopted with the recording protocol, its
 * connection_made run; returns the other end (a raw fd). */
static int adopt_one(il_loop_t *loop, pair_fn mk, int small, rec_t *r) {
  int fds[2];
  mk(fds);
  if (small) {
    small_buffers(fds[0]);
    small_buffers(fds[1]);
  }
  adopt_rec(loop, fds[0], r);
  assert_true(il_test_run_until(loop, &r->made, 5.0));
  return fds[1];
}

/* close() with SO_LINGER {1, 0}: the peer gets a TCP RST. */
static void close_with_reset(int fd) {
  struct linger lg = {1, 0};
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  close(fd);
}

static size_t live_transports(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return (size_t)st.transports;
}

/* Runs the loop for about `seconds`. */
static void run_for(il_loop_t *loop, double seconds) {
  (void)il_test_run_bounded(loop, seconds);
}

/* ---- the state machine ---------------------------------------------------
 */

static void state_machine(il_test_ctx_t *ctx, pair_fn mk) {
  il_loop_t *loop = ctx->loop;
  /* A sends and half-closes; B keeps its side open, answers from inside
   * eof_received, then closes; A reads the answer and the EOF, and closes
   * itself by returning 0. */
  rec_t a = {0}, b = {0};
  b.keep_open = 1;
  b.reply_on_eof = "pong";
  rec_pair(loop, mk, 0, &a, &b);
  assert_int_equal(t_write(a.t, "ping", 4), 0);
  assert_int_equal(t_write_eof(a.t), 0);
  assert_true(il_test_run_until(loop, &b.eofs, 5.0));
  assert_int_equal(b.nbytes, 4);
  assert_memory_equal(b.keep, "ping", 4);
  assert_false(il_transport_is_closing(b.t));
  assert_int_equal(t_close(b.t), 0);
  assert_int_equal(b.lost, 0); /* never inside close */
  wait_lost(loop, &a);
  wait_lost(loop, &b);
  assert_int_equal(a.nbytes, 4);
  assert_memory_equal(a.keep, "pong", 4);
  assert_int_equal(a.eofs, 1);
  assert_int_equal(a.lost_error, 0);
  assert_int_equal(b.lost_error, 0);
  assert_int_equal(a.bad + b.bad, 0);

  /* Aborted before connection_made ran: made, then lost(IL_ECANCELED);
   * the peer reads EOF and closes itself. */
  rec_t c = {0}, d = {0};
  int fds[2];
  mk(fds);
  adopt_rec(loop, fds[0], &c);
  adopt_rec(loop, fds[1], &d);
  assert_int_equal(t_abort(c.t), 0);
  assert_int_equal(c.made + c.lost, 0);
  wait_lost(loop, &c);
  assert_int_equal(c.made, 1);
  assert_int_equal(c.lost_error, IL_ECANCELED);
  wait_lost(loop, &d);
  assert_int_equal(d.eofs, 1);
  assert_int_equal(d.lost_error, 0);

  /* Closed from inside data_received: lost comes later, from the loop. */
  rec_t e = {0}, f = {0};
  f.close_on_data = 1;
  rec_pair(loop, mk, 0, &e, &f);
  assert_int_equal(t_write(e.t, "x", 1), 0);
  wait_lost(loop, &f);
  assert_int_equal(f.datas, 1);
  assert_int_equal(f.lost_error, 0);
  wait_lost(loop, &e);

  /* Data already waiting when the transport is made: connection_made still
   * comes first. */
  rec_t g = {0};
  mk(fds);
  assert_int_equal(write(fds[1], "early", 5), 5);
  adopt_rec(loop, fds[0], &g);
  assert_true(il_test_run_until(loop, &g.datas, 5.0));
  assert_int_equal(g.made, 1);
  close(fds[1]);
  wait_lost(loop, &g);
  assert_int_equal(g.nbytes, 5);
  assert_int_equal(c.bad + d.bad + e.bad + f.bad + g.bad, 0);
  assert_int_equal(live_transports(loop), 0);
}

IL_CONFORMANCE_TEST(test_transport_state_machine_tcp) {
  state_machine(il_test_ctx(state), tcp_pair);
}

IL_CONFORMANCE_TEST(test_transport_state_machine_unix) {
  state_machine(il_test_ctx(state), unix_pair);
}

/* ---- echo of 64 MiB --------------------------------------------------------
 * The client writes a pseudo-random byte stream (pattern[i % PAT_LEN], a
 * prime length, so a lost or repeated run of bytes never lines up again) in
 * writes of 1 B .. 1 MiB; the server echoes it; the client checks every byte
 * and a running checksum. The client pauses its reading now and then; the
 * server pauses reading while its own writing is paused. */

#define ECHO_TOTAL ((size_t)64 << 20)
#define PAT_LEN ((size_t)1048573)

/* A Fletcher-style checksum of the byte stream taken as 64-bit words
 * (order-sensitive; word-wise, so it stays cheap under sanitizers). */
typedef struct csum {
  uint64_t a, b, word;
  unsigned fill; /* bytes in `word` */
} csum_t;

static void csum_word(csum_t *c, uint64_t w) {
  c->a += w;
  c->b += c->a;
}

static void csum_add(csum_t *c, const unsigned char *p, size_t n) {
  for (; n && c->fill; n--) {
    c->word |= (uint64_t)*p++ << (8 * c->fill);
    if (++c->fill == 8) {
      csum_word(c, c->word);
      c->word = 0;
      c->fill = 0;
    }
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    csum_word(c, w);
  }
  for (; n; n--)
    c->word |= (uint64_t)*p++ << (8 * c->fill++);
}

typedef struct echo {
  il_loop_t *loop;
  unsigned char *pat;
  il_transport_t *client, *server;
  size_t sent, got;
  uint64_t rng;
  csum_t sum_sent, sum_got;
  int paused; /* client writing paused */
  int client_lost, server_lost, client_error, server_error;
  int cpauses, cresumes, spauses, sresumes, read_pauses, eofs;
  int mismatch, bad;
  unsigned reads;
} echo_t;

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void echo_pump(echo_t *e) {
  while (!e->paused && e->sent < ECHO_TOTAL) {
    uint64_t r = xorshift(&e->rng);
    size_t n = 1 + (size_t)((r >> 8) % ((uint64_t)1 << (r % 21)));
    if (n > ECHO_TOTAL - e->sent)
      n = ECHO_TOTAL - e->sent;
    struct iovec iov[3];
    int cnt = 0;
    size_t off = e->sent % PAT_LEN, left = n;
    while (left) {
      size_t k = PAT_LEN - off < left ? PAT_LEN - off : left;
      iov[cnt].iov_base = e->pat + off;
      iov[cnt].iov_len = k;
      csum_add(&e->sum_sent, e->pat + off, k);
      cnt++;
      left -= k;
      off = 0;
    }
    if (il_transport_writev(e->client, iov, cnt) != 0) {
      e->bad++;
      return;
    }
    e->sent += n;
  }
  if (e->sent == ECHO_TOTAL && !il_transport_is_closing(e->client) &&
      il_transport_write_eof(e->client) != 0)
    e->bad++;
}

static void echo_client_made(il_transport_t *t, void *ud) {
  echo_t *e = ud;
  e->client = t;
  echo_pump(e);
}

static int echo_resume_reading(il_loop_t *loop, void *arg) {
  (void)loop;
  echo_t *e = arg;
  if (!e->client_lost && il_transport_resume_reading(e->client) != 0)
    e->bad++;
  return 0;
}

static void echo_client_data(il_transport_t *t, const void *data, size_t len,
                             void *ud) {
  echo_t *e = ud;
  const unsigned char *p = data;
  csum_add(&e->sum_got, p, len);
  while (len) {
    size_t off = e->got % PAT_LEN;
    size_t k = PAT_LEN - off < len ? PAT_LEN - off : len;
    if (memcmp(p, e->pat + off, k) != 0)
      e->mismatch++;
    p += k;
    len -= k;
    e->got += k;
  }
  if (++e->reads % 64 == 0) {
    e->read_pauses++;
    if (il_transport_pause_reading(t) != 0 ||
        il_loop_call_later(e->loop, 0.001, echo_resume_reading, e, NULL) != 0)
      e->bad++;
  }
}

static int echo_client_eof(il_transport_t *t, void *ud) {
  (void)t;
  echo_t *e = ud;
  e->eofs++;
  return 0;
}

static void echo_client_lost(il_transport_t *t, int error, void *ud) {
  (void)t;
  echo_t *e = ud;
  e->client_lost++;
  e->client_error = error;
}

static void echo_client_pause(il_transport_t *t, void *ud) {
  (void)t;
  echo_t *e = ud;
  e->paused = 1;
  e->cpauses++;
}

static void echo_client_resume(il_transport_t *t, void *ud) {
  (void)t;
  echo_t *e = ud;
  e->paused = 0;
  e->cresumes++;
  echo_pump(e);
}

static void echo_server_data(il_transport_t *t, const void *data, size_t len,
                             void *ud) {
  echo_t *e = ud;
  if (il_transport_write(t, data, len) != 0)
    e->bad++;
}

static void echo_server_lost(il_transport_t *t, int error, void *ud) {
  (void)t;
  echo_t *e = ud;
  e->server_lost++;
  e->server_error = error;
}

static void echo_server_pause(il_transport_t *t, void *ud) {
  echo_t *e = ud;
  e->spauses++;
  if (il_transport_pause_reading(t) != 0)
    e->bad++;
}

static void echo_server_resume(il_transport_t *t, void *ud) {
  echo_t *e = ud;
  e->sresumes++;
  if (il_transport_resume_reading(t) != 0)
    e->bad++;
}

IL_CONFORMANCE_TEST(test_transport_echo_64mib_flow_control) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  echo_t *e = calloc(1, sizeof(*e));
  assert_non_null(e);
  e->loop = ctx->loop;
  e->pat = malloc(PAT_LEN);
  assert_non_null(e->pat);
  e->rng = 0x9e3779b97f4a7c15u;
  uint64_t s = 0x243f6a8885a308d3u;
  for (size_t i = 0; i < PAT_LEN; i++)
    e->pat[i] = (unsigned char)(xorshift(&s) >> 24);
  const il_protocol_t client = {.size = sizeof(il_protocol_t),
                                .connection_made = echo_client_made,
                                .data_received = echo_client_data,
                                .eof_received = echo_client_eof,
                                .connection_lost = echo_client_lost,
                                .pause_writing = echo_client_pause,
                                .resume_writing = echo_client_resume};
  /* The server closes itself at EOF (eof_received NULL answers 0), after
   * flushing what it still has to echo. */
  const il_protocol_t server = {.size = sizeof(il_protocol_t),
                                .data_received = echo_server_data,
                                .connection_lost = echo_server_lost,
                                .pause_writing = echo_server_pause,
                                .resume_writing = echo_server_resume};
  int fds[2];
  tcp_pair(fds);
  /* Small kernel buffers: most writes are partial and go through the
   * transport's own buffer. */
  small_buffers(fds[0]);
  small_buffers(fds[1]);
  assert_int_equal(il_transport_adopt(ctx->loop, fds[0], &client, e, NULL), 0);
  assert_int_equal(
      il_transport_adopt(ctx->loop, fds[1], &server, e, &e->server), 0);
  volatile int *done = &e->client_lost;
  assert_true(il_test_run_until(ctx->loop, done, 100.0));
  if (!e->server_lost)
    assert_true(il_test_run_until(ctx->loop, &e->server_lost, 5.0));
  assert_int_equal(e->bad, 0);
  assert_int_equal(e->mismatch, 0);
  assert_int_equal(e->sent, ECHO_TOTAL);
  assert_int_equal(e->got, ECHO_TOTAL);
  assert_true(e->sum_got.a == e->sum_sent.a && e->sum_got.b == e->sum_sent.b);
  assert_true(e->sum_got.word == e->sum_sent.word &&
              e->sum_got.fill == e->sum_sent.fill);
  assert_int_equal(e->eofs, 1);
  assert_int_equal(e->client_error, 0);
  assert_int_equal(e->server_error, 0);
  assert_true(e->cpauses > 0);
  assert_int_equal(e->cresumes, e->cpauses);
  assert_int_equal(e->sresumes, e->spauses);
  assert_true(e->read_pauses > 0);
  /* Resume timers still pending see client_lost and do nothing. */
  run_for(ctx->loop, 0.01);
  assert_int_equal(live_transports(ctx->loop), 0);
  free(e->pat);
  free(e);
}

/* A connection (small kernel buffers) whose writer end w has `len` bytes
 * of `data` queued in its own buffer, under a high-water mark above it. */
static void queued_pair(il_loop_t *loop, pair_fn mk, rec_t *w, rec_t *r,
                        const char *data, size_t len) {
  rec_pair(loop, mk, 1, w, r);
  assert_int_equal(il_transport_set_write_buffer_limits(w->t, len * 2, 0), 0);
  assert_int_equal(t_write(w->t, data, len), 0);
  assert_true(il_transport_get_write_buffer_size(w->t) > 0);
}

/* ---- half-close ----------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_half_close_both_ways) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;

  /* A half-closes; B keeps its side open and answers; A reads the answer,
   * then B's EOF, and closes itself by answering 0. */
  rec_t a = {0}, b = {0};
  b.keep_open = 1;
  rec_pair(loop, tcp_pair, 0, &a, &b);
  assert_int_equal(il_transport_can_write_eof(a.t), 1);
  assert_int_equal(t_write(a.t, "req", 3), 0);
  assert_int_equal(t_write_eof(a.t), 0);
  assert_int_equal(t_write_eof(a.t), 0); /* idempotent */
  assert_int_equal(t_write(a.t, "more", 4), IL_ESHUTDOWN);
  assert_true(il_transport_is_reading(a.t));
  assert_true(il_test_run_until(loop, &b.eofs, 5.0));
  assert_int_equal(b.nbytes, 3);
  assert_false(il_transport_is_closing(b.t));
  assert_int_equal(t_write(b.t, "resp", 4), 0);
  assert_int_equal(t_write_eof(b.t), 0);
  wait_lost(loop, &a);
  assert_int_equal(a.nbytes, 4);
  assert_memory_equal(a.keep, "resp", 4);
  assert_int_equal(a.eofs, 1);
  assert_int_equal(a.lost_error, 0);
  /* B stays until it closes. */
  run_for(loop, 0.02);
  assert_int_equal(b.lost, 0);
  assert_int_equal(t_close(b.t), 0);
  wait_lost(loop, &b);
  assert_int_equal(b.lost_error, 0);

  /* The other way, on a Unix socket, with 1 MiB queued before write_eof:
   * the shutdown waits for the flush, and the writer keeps reading. */
  rec_t c = {0}, d = {0};
  c.keep_open = 1;
  size_t big = (size_t)1 << 20;
  char *buf = malloc(big);
  assert_non_null(buf);
  memset(buf, 'z', big);
  queued_pair(loop, unix_pair, &d, &c, buf, big);
  assert_int_equal(t_write_eof(d.t), 0);
  assert_true(il_test_run_until(loop, &c.eofs, 5.0));
  assert_int_equal(c.nbytes, big);
  assert_int_equal(t_write(c.t, "ack", 3), 0);
  assert_true(il_test_run_until(loop, &d.datas, 5.0));
  assert_int_equal(d.nbytes, 3);
  assert_memory_equal(d.keep, "ack", 3);
  assert_int_equal(t_close(c.t), 0);
  wait_lost(loop, &c);
  wait_lost(loop, &d); /* d.keep_open 0: closes itself at EOF */
  assert_int_equal(d.eofs, 1);
  assert_int_equal(c.lost_error + d.lost_error, 0);
  assert_int_equal(a.bad + b.bad + c.bad + d.bad, 0);
  free(buf);
}

/* ---- close and abort -----------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_close_flushes_abort_drops) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  size_t len = (size_t)1 << 20;
  char *data = malloc(len);
  assert_non_null(data);
  for (size_t i = 0; i < len; i++)
    data[i] = (char)(i * 7 + i / 251);

  /* close: everything reaches the peer, then EOF, then lost(0). */
  rec_t a = {0}, b = {0};
  queued_pair(loop, tcp_pair, &a, &b, data, len);
  assert_int_equal(t_close(a.t), 0);
  assert_int_equal(t_close(a.t), 0); /* idempotent */
  assert_true(il_transport_is_closing(a.t));
  assert_false(il_transport_is_reading(a.t));
  assert_int_equal(a.lost, 0);
  wait_lost(loop, &b);
  assert_int_equal(b.nbytes, len);
  assert_memory_equal(b.keep, data, sizeof(b.keep));
  assert_int_equal(b.eofs, 1);
  wait_lost(loop, &a);
  assert_int_equal(a.lost_error, 0);

  /* abort: the buffer is dropped at once; lost(IL_ECANCELED). */
  rec_t c = {0}, d = {0};
  queued_pair(loop, tcp_pair, &c, &d, data, len);
  assert_int_equal(t_abort(c.t), 0);
  assert_int_equal(il_transport_get_write_buffer_size(c.t), 0);
  assert_int_equal(t_abort(c.t), 0); /* idempotent */
  assert_int_equal(c.lost, 0);
  wait_lost(loop, &c);
  assert_int_equal(c.lost_error, IL_ECANCELED);
  wait_lost(loop, &d);
  assert_true(d.nbytes < len);

  /* abort while a close is flushing: the buffer goes, lost once with
   * IL_ECANCELED. */
  rec_t e = {0}, f = {0};
  queued_pair(loop, tcp_pair, &e, &f, data, len);
  assert_int_equal(t_close(e.t), 0);
  assert_int_equal(t_abort(e.t), 0);
  assert_int_equal(il_transport_get_write_buffer_size(e.t), 0);
  wait_lost(loop, &e);
  assert_int_equal(e.lost_error, IL_ECANCELED);
  wait_lost(loop, &f);
  assert_true(f.nbytes < len);

  /* abort after a close that had nothing to flush: lost once, with 0. */
  rec_t g = {0}, h = {0};
  rec_pair(loop, unix_pair, 0, &g, &h);
  assert_int_equal(t_close(g.t), 0);
  assert_int_equal(t_abort(g.t), 0);
  wait_lost(loop, &g);
  assert_int_equal(g.lost_error, 0);
  wait_lost(loop, &h);
  run_for(loop, 0.01);
  assert_int_equal(g.lost, 1);
  assert_int_equal(
      a.bad + b.bad + c.bad + d.bad + e.bad + f.bad + g.bad + h.bad, 0);
  free(data);
}

/* ---- writes that are refused or do nothing -------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_write_after_close_or_eof) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  rec_t a = {0}, b = {0};
  rec_pair(loop, unix_pair, 0, &a, &b);
  /* Empty writes are no-ops. */
  assert_int_equal(t_write(a.t, "", 0), 0);
  assert_int_equal(t_write(a.t, NULL, 0), 0);
  assert_int_equal(il_transport_writev(a.t, NULL, 0), 0);
  struct iovec empty[2] = {{NULL, 0}, {(void *)"", 0}};
  assert_int_equal(il_transport_writev(a.t, empty, 2), 0);
  assert_int_equal(il_transport_get_write_buffer_size(a.t), 0);
  /* Bad arguments. */
  assert_int_equal(t_write(a.t, NULL, 3), IL_EINVAL);
  assert_int_equal(il_transport_writev(a.t, NULL, 1), IL_EINVAL);
  assert_int_equal(il_transport_writev(a.t, empty, -1), IL_EINVAL);
  struct iovec bad = {NULL, 4};
  assert_int_equal(il_transport_writev(a.t, &bad, 1), IL_EINVAL);
  /* writev keeps the order of its pieces. */
  struct iovec parts[3] = {
      {(void *)"ab", 2}, {(void *)"", 0}, {(void *)"cd", 2}};
  assert_int_equal(il_transport_writev(a.t, parts, 3), 0);
  assert_true(il_test_run_until(loop, &b.datas, 5.0));
  run_for(loop, 0.01);
  assert_int_equal(b.nbytes, 4);
  assert_memory_equal(b.keep, "abcd", 4);
  /* After write_eof. */
  assert_int_equal(t_write_eof(a.t), 0);
  assert_int_equal(t_write(a.t, "x", 1), IL_ESHUTDOWN);
  assert_int_equal(il_transport_writev(a.t, parts, 3), IL_ESHUTDOWN);
  /* After close, and after lost (a reference keeps it valid). */
  il_transport_t *kept = il_transport_ref(a.t);
  assert_ptr_equal(kept, a.t);
  assert_int_equal(t_close(a.t), 0);
  assert_int_equal(t_write(a.t, "x", 1), IL_ECLOSED);
  assert_int_equal(t_write_eof(a.t), IL_ECLOSED);
  wait_lost(loop, &a);
  assert_int_equal(t_write(a.t, "x", 1), IL_ECLOSED);
  assert_int_equal(t_write_eof(a.t), IL_ECLOSED);
  assert_int_equal(t_close(a.t), IL_ECLOSED);
  assert_int_equal(t_abort(a.t), IL_ECLOSED);
  il_transport_unref(kept);
  wait_lost(loop, &b);
  assert_int_equal(b.nbytes, 4);
  assert_int_equal(a.bad + b.bad, 0);
}

/* ---- write-buffer limits -------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_write_buffer_limits) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  rec_t a = {0};
  int peer = adopt_one(loop, unix_pair, 1, &a);
  il_transport_t *t = a.t;
  size_t high = 0, low = 0;

  /* Defaults and the IL_LIMIT_DEFAULT rules. */
  assert_int_equal(il_transport_get_write_buffer_limits(t, &high, &low), 0);
  assert_int_equal(high, IL_WRITE_HIGH_DEFAULT);
  assert_int_equal(low, IL_WRITE_HIGH_DEFAULT / 4);
  assert_int_equal(
      il_transport_set_write_buffer_limits(t, 1000, IL_LIMIT_DEFAULT), 0);
  assert_int_equal(il_transport_get_write_buffer_limits(t, &high, &low), 0);
  assert_int_equal(high, 1000);
  assert_int_equal(low, 250);
  assert_int_equal(
      il_transport_set_write_buffer_limits(t, IL_LIMIT_DEFAULT, 100), 0);
  assert_int_equal(il_transport_get_write_buffer_limits(t, &high, NULL), 0);
  assert_int_equal(il_transport_get_write_buffer_limits(t, NULL, &low), 0);
  assert_int_equal(high, 400);
  assert_int_equal(low, 100);
  assert_int_equal(il_transport_set_write_buffer_limits(t, 10, 20), IL_EINVAL);
  assert_int_equal(il_transport_get_write_buffer_limits(t, &high, &low), 0);
  assert_int_equal(high, 400);
  assert_int_equal(low, 100);
  assert_int_equal(il_transport_set_write_buffer_limits(t, IL_LIMIT_DEFAULT,
                                                        IL_LIMIT_DEFAULT),
                   0);
  assert_int_equal(il_transport_get_write_buffer_limits(t, &high, &low), 0);
  assert_int_equal(high, IL_WRITE_HIGH_DEFAULT);
  assert_int_equal(low, IL_WRITE_HIGH_DEFAULT / 4);

  /* Fill the socket (nobody reads the peer) with no limit in the way. */
  assert_int_equal(il_transport_set_write_buffer_limits(t, SIZE_MAX - 1, 0), 0);
  static char block[65536];
  memset(block, 'w', sizeof(block));
  for (int i = 0; i < 1000 && il_transport_get_write_buffer_size(t) == 0; i++)
    assert_int_equal(t_write(t, block, sizeof(block)), 0);
  size_t size = il_transport_get_write_buffer_size(t);
  assert_true(size > 0);
  assert_int_equal(a.pauses, 0);

  /* Exactly at the high-water mark: not paused; one byte above: paused,
   * before write returns. */
  assert_int_equal(il_transport_set_write_buffer_limits(t, size, 0), 0);
  assert_int_equal(a.pauses, 0);
  assert_int_equal(t_write(t, "!", 1), 0);
  assert_int_equal(il_transport_get_write_buffer_size(t), size + 1);
  assert_int_equal(a.pauses, 1);
  assert_int_equal(a.wsize_at_pause, size + 1);
  /* Resumed exactly when the size is at or below the low-water mark; a
   * change of limits may do it before it returns. */
  assert_int_equal(il_transport_set_write_buffer_limits(t, size + 1, size), 0);
  assert_int_equal(a.resumes, 0);
  assert_int_equal(il_transport_set_write_buffer_limits(t, size + 1, size + 1),
                   0);
  assert_int_equal(a.resumes, 1);
  assert_int_equal(il_transport_set_write_buffer_limits(t, size, size), 0);
  assert_int_equal(a.pauses, 2);

  /* Draining through the socket: resume_writing comes with the first flush
   * that leaves the buffer at or below `low`, not before. */
  low = size / 2;
  assert_int_equal(il_transport_set_write_buffer_limits(t, size, low), 0);
  assert_int_equal(a.resumes, 1);
  for (int i = 0; i < 2000 && a.resumes == 1; i++) {
    static char sink[4096];
    (void)!recv(peer, sink, sizeof(sink), MSG_DONTWAIT);
    assert_int_equal(il_loop_run(loop, IL_RUN_NOWAIT), 0);
    size_t now = il_transport_get_write_buffer_size(t);
    assert_int_equal(a.resumes == 2, now <= low);
  }
  assert_int_equal(a.resumes, 2);
  assert_true(a.wsize_at_resume <= low);
  assert_int_equal(a.bad, 0);

  assert_int_equal(t_abort(t), 0);
  wait_lost(loop, &a);
  close(peer);
}

/* ---- pausing reads -------------------------------------------------------
 */

/* The raw peer writes `msg` while `a` is paused: nothing arrives until it
 * resumes (twice: idempotent), then all of it. */
static void paused_then_resumed(il_loop_t *loop, rec_t *a, int peer,
                                const char *msg) {
  size_t before = a->nbytes, len = strlen(msg);
  assert_int_equal(il_transport_is_reading(a->t), 0);
  assert_int_equal(write(peer, msg, len), (ssize_t)len);
  run_for(loop, 0.05);
  assert_int_equal(a->nbytes, before);
  assert_int_equal(il_transport_resume_reading(a->t), 0);
  assert_int_equal(il_transport_resume_reading(a->t), 0);
  assert_int_equal(il_transport_is_reading(a->t), 1);
  for (int i = 0; i < 500 && a->nbytes < before + len; i++)
    assert_int_equal(il_loop_run(loop, IL_RUN_ONCE), 0);
  assert_int_equal(a->nbytes, before + len);
}

IL_CONFORMANCE_TEST(test_transport_pause_resume_reading_idempotent) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  int fds[2];
  unix_pair(fds);
  rec_t a = {0};
  adopt_rec(loop, fds[0], &a);
  /* Paused before connection_made: reading never starts. */
  assert_int_equal(il_transport_pause_reading(a.t), 0);
  paused_then_resumed(loop, &a, fds[1], "abc");
  assert_int_equal(a.made, 1);

  /* Paused twice, resumed twice. */
  assert_int_equal(il_transport_pause_reading(a.t), 0);
  assert_int_equal(il_transport_pause_reading(a.t), 0);
  paused_then_resumed(loop, &a, fds[1], "defg");
  assert_memory_equal(a.keep, "abcdefg", 7);

  /* Closing: not reading, and pause/resume change nothing. */
  il_transport_ref(a.t);
  assert_int_equal(t_close(a.t), 0);
  assert_int_equal(il_transport_is_reading(a.t), 0);
  assert_int_equal(il_transport_resume_reading(a.t), 0);
  assert_int_equal(il_transport_is_reading(a.t), 0);
  assert_int_equal(il_transport_pause_reading(a.t), 0);
  wait_lost(loop, &a);
  assert_int_equal(il_transport_pause_reading(a.t), IL_ECLOSED);
  assert_int_equal(il_transport_resume_reading(a.t), IL_ECLOSED);
  assert_int_equal(il_transport_is_reading(a.t), 0);
  il_transport_unref(a.t);
  assert_int_equal(a.bad, 0);
  close(fds[1]);
}

/* ---- peer reset ----------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_peer_reset) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  /* A reader sees the reset. */
  rec_t a = {0};
  close_with_reset(adopt_one(loop, tcp_pair, 0, &a));
  wait_lost(loop, &a);
  assert_int_equal(a.lost_error, IL_ECONNRESET);
  assert_int_equal(a.eofs, 0);

  /* A writer with data queued: the error comes from the write side
   * (ECONNRESET, or EPIPE if the reset was seen first). */
  rec_t b = {0};
  int peer = adopt_one(loop, tcp_pair, 1, &b);
  assert_int_equal(il_transport_pause_reading(b.t), 0);
  static char block[256 * 1024];
  assert_int_equal(t_write(b.t, block, sizeof(block)), 0);
  close_with_reset(peer);
  wait_lost(loop, &b);
  assert_true(b.lost_error == IL_ECONNRESET || b.lost_error == IL_EPIPE);

  /* The error found by a write's own attempt is not returned by the write:
   * connection_lost reports it, later, from the loop. */
  rec_t c = {0};
  peer = adopt_one(loop, tcp_pair, 0, &c);
  assert_int_equal(il_transport_pause_reading(c.t), 0);
  close_with_reset(peer);
  run_for(loop, 0.05); /* let the RST arrive */
  assert_int_equal(t_write(c.t, "x", 1), 0);
  assert_int_equal(c.lost, 0);
  assert_int_equal(il_transport_is_closing(c.t), 1);
  wait_lost(loop, &c);
  assert_true(c.lost_error == IL_ECONNRESET || c.lost_error == IL_EPIPE);

  /* A Unix socket whose peer is gone: EPIPE, and no SIGPIPE (which would
   * kill this process: the suite leaves SIGPIPE at its default). */
  rec_t d = {0};
  peer = adopt_one(loop, unix_pair, 0, &d);
  assert_int_equal(il_transport_pause_reading(d.t), 0);
  close(peer);
  assert_int_equal(t_write(d.t, "x", 1), 0);
  wait_lost(loop, &d);
  assert_int_equal(d.lost_error, IL_EPIPE);
  assert_int_equal(a.bad + b.bad + c.bad + d.bad, 0);
}

/* ---- buffered protocols --------------------------------------------------
 */

typedef struct bufrec {
  unsigned char area[7];
  unsigned char got[32768];
  size_t n;
  size_t hint;
  int gets, updates, datas, lost, lost_error, made;
  int fail_with; /* get_buffer's answer */
  int empty;     /* get_buffer lends nothing */
} bufrec_t;

static void br_made(il_transport_t *t, void *ud) {
  (void)t;
  ((bufrec_t *)ud)->made++;
}

static int br_get(il_transport_t *t, size_t hint, void **buf, size_t *len,
                  void *ud) {
  (void)t;
  bufrec_t *b = ud;
  b->gets++;
  b->hint = hint;
  if (b->fail_with)
    return b->fail_with;
  *buf = b->area;
  *len = b->empty ? 0 : sizeof(b->area);
  return 0;
}

static void br_updated(il_transport_t *t, size_t n, void *ud) {
  (void)t;
  bufrec_t *b = ud;
  b->updates++;
  if (n > sizeof(b->area) || b->n + n > sizeof(b->got)) {
    b->datas += 1000; /* fails the test */
    return;
  }
  memcpy(b->got + b->n, b->area, n);
  b->n += n;
}

static void br_data(il_transport_t *t, const void *d, size_t n, void *ud) {
  (void)t;
  (void)d;
  (void)n;
  ((bufrec_t *)ud)->datas++;
}

static void br_lost(il_transport_t *t, int error, void *ud) {
  (void)t;
  bufrec_t *b = ud;
  b->lost++;
  b->lost_error = error;
}

static const il_protocol_t br_proto = {.size = sizeof(il_protocol_t),
                                       .connection_made = br_made,
                                       .data_received = br_data,
                                       .connection_lost = br_lost,
                                       .get_buffer = br_get,
                                       .buffer_updated = br_updated};

/* A Unix connection whose one end is adopted with the buffered protocol
 * (b reset), the peer having written `len` bytes of `data` and, if
 * `then_close`, closed; runs until connection_lost. Returns the peer fd, or
 * -1 once closed. */
static int br_run(il_loop_t *loop, bufrec_t *b, const void *data, size_t len,
                  int then_close) {
  int fds[2];
  unix_pair(fds);
  assert_int_equal(il_transport_adopt(loop, fds[0], &br_proto, b, NULL), 0);
  assert_int_equal(write(fds[1], data, len), (ssize_t)len);
  if (then_close) {
    close(fds[1]);
    fds[1] = -1;
  }
  assert_true(il_test_run_until(loop, &b->lost, 5.0));
  assert_int_equal(b->made, 1);
  return fds[1];
}

IL_CONFORMANCE_TEST(test_transport_buffered_protocol) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  /* Small lent buffers: every byte arrives intact, through buffer_updated
   * only. */
  bufrec_t *b = calloc(1, sizeof(*b));
  assert_non_null(b);
  unsigned char src[sizeof(b->got)];
  for (size_t i = 0; i < sizeof(src); i++)
    src[i] = (unsigned char)(i * 31 + (i >> 9));
  br_run(loop, b, src, sizeof(src), 1);
  assert_int_equal(b->n, sizeof(src));
  assert_memory_equal(b->got, src, sizeof(src));
  assert_int_equal(b->datas, 0);
  assert_int_equal(b->hint, 65536);
  assert_true(b->updates >= (int)(sizeof(src) / sizeof(b->area)));
  assert_int_equal(b->lost_error, 0);

  /* get_buffer's error closes the transport with that error. */
  memset(b, 0, sizeof(*b));
  b->fail_with = IL_EIO;
  int peer = br_run(loop, b, "x", 1, 0);
  assert_int_equal(b->lost_error, IL_EIO);
  assert_int_equal(b->updates + b->datas, 0);
  char c;
  assert_int_equal(raw_read(peer, &c, 1), 0); /* the peer sees the end */
  close(peer);

  /* An empty buffer is an error too: IL_ENOBUFS. */
  memset(b, 0, sizeof(*b));
  b->empty = 1;
  br_run(loop, b, "x", 1, 1);
  assert_int_equal(b->lost_error, IL_ENOBUFS);
  free(b);
}

/* ---- extra info, user data, references -----------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_extra_info) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  int fds[2];
  tcp_pair(fds);
  rec_t a = {0}, b = {0};
  adopt_rec(loop, fds[0], &a);
  adopt_rec(loop, fds[1], &b);
  assert_true(il_test_run_until(loop, &b.made, 5.0));

  struct sockaddr_in peer, sock;
  size_t len = sizeof(peer);
  assert_int_equal(
      il_transport_get_extra_info(a.t, IL_INFO_PEERNAME, &peer, &len), 0);
  assert_int_equal(len, sizeof(peer));
  len = sizeof(sock);
  assert_int_equal(
      il_transport_get_extra_info(b.t, IL_INFO_SOCKNAME, &sock, &len), 0);
  assert_int_equal(peer.sin_family, AF_INET);
  assert_int_equal(peer.sin_port, sock.sin_port);
  assert_int_equal(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

  int fd = -1;
  len = sizeof(fd);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, &fd, &len), 0);
  assert_int_equal(fd, fds[0]);
  assert_int_equal(len, sizeof(int));
  /* Too small: IL_ERANGE and the size needed. */
  char tiny[2];
  len = sizeof(tiny);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, tiny, &len),
                   IL_ERANGE);
  assert_int_equal(len, sizeof(int));
  len = 4;
  assert_int_equal(
      il_transport_get_extra_info(a.t, IL_INFO_SOCKNAME, &sock, &len),
      IL_ERANGE);
  assert_int_equal(len, sizeof(struct sockaddr_in));
  /* Bad requests. */
  len = sizeof(fd);
  assert_int_equal(
      il_transport_get_extra_info(a.t, (il_extra_info_t)99, &fd, &len),
      IL_EINVAL);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, NULL, &len),
                   IL_EINVAL);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, &fd, NULL),
                   IL_EINVAL);
  assert_int_equal(il_transport_get_extra_info(NULL, IL_INFO_FD, &fd, &len),
                   IL_EINVAL);

  /* A Unix socket reports AF_UNIX names. */
  rec_t c = {0}, d = {0};
  rec_pair(loop, unix_pair, 0, &c, &d);
  struct sockaddr_storage ss;
  len = sizeof(ss);
  assert_int_equal(
      il_transport_get_extra_info(c.t, IL_INFO_SOCKNAME, &ss, &len), 0);
  assert_int_equal(ss.ss_family, AF_UNIX);

  /* Lost: IL_ECLOSED. */
  il_transport_ref(a.t);
  assert_int_equal(t_close(a.t), 0);
  wait_lost(loop, &a);
  len = sizeof(fd);
  assert_int_equal(il_transport_get_extra_info(a.t, IL_INFO_FD, &fd, &len),
                   IL_ECLOSED);
  il_transport_unref(a.t);
  assert_int_equal(t_close(c.t), 0);
  wait_lost(loop, &b);
  wait_lost(loop, &c);
  wait_lost(loop, &d);
}

static int g_dtor_calls;
static void *g_dtor_last;

static void count_dtor(void *p) {
  g_dtor_calls++;
  g_dtor_last = p;
}

IL_CONFORMANCE_TEST(test_transport_data_ref_after_lost) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  g_dtor_calls = 0;
  rec_t a = {0}, b = {0};
  rec_pair(loop, unix_pair, 0, &a, &b);
  int x = 1, y = 2;
  assert_int_equal(il_transport_set_data(a.t, &x, count_dtor), 0);
  assert_ptr_equal(il_transport_get_data(a.t), &x);
  assert_int_equal(il_transport_set_data(a.t, &y, count_dtor), 0);
  assert_int_equal(g_dtor_calls, 1); /* the replaced value */
  assert_ptr_equal(g_dtor_last, &x);
  assert_ptr_equal(il_transport_loop(a.t), loop);

  /* Switch b's protocol: later callbacks go to the new one. */
  rec_t b2 = {0};
  b2.made = 1; /* connection_made is not repeated */
  b2.t = b.t;
  assert_int_equal(il_transport_set_protocol(b.t, &rec_proto, &b2), 0);

  /* A reference keeps a lost transport valid: every operation reports
   * IL_ECLOSED, queries report nothing, the data stays until the end. */
  il_transport_t *t = il_transport_ref(a.t);
  assert_int_equal(il_transport_pause_reading(b.t), 0); /* b outlives a */
  assert_int_equal(t_close(t), 0);
  wait_lost(loop, &a);
  assert_int_equal(live_transports(loop), 2);
  assert_int_equal(g_dtor_calls, 1);
  assert_ptr_equal(il_transport_get_data(t), &y);
  assert_int_equal(t_write(t, "x", 1), IL_ECLOSED);
  assert_int_equal(t_close(t), IL_ECLOSED);
  assert_int_equal(t_abort(t), IL_ECLOSED);
  assert_int_equal(il_transport_pause_reading(t), IL_ECLOSED);
  assert_int_equal(il_transport_set_write_buffer_limits(t, 10, 5), IL_ECLOSED);
  assert_int_equal(il_transport_set_protocol(t, &rec_proto, &a), IL_ECLOSED);
  assert_int_equal(il_transport_is_closing(t), 1);
  assert_int_equal(il_transport_is_reading(t), 0);
  assert_int_equal(il_transport_get_write_buffer_size(t), 0);
  il_transport_unref(t);
  assert_int_equal(g_dtor_calls, 2); /* at free */
  assert_ptr_equal(g_dtor_last, &y);
  assert_int_equal(live_transports(loop), 1);

  assert_int_equal(il_transport_resume_reading(b.t), 0);
  wait_lost(loop, &b2);
  assert_int_equal(b2.eofs, 1);
  assert_int_equal(b.lost + b.eofs, 0);
  assert_int_equal(a.bad + b.bad + b2.bad, 0);
  assert_int_equal(live_transports(loop), 0);
}

/* ---- adopt ---------------------------------------------------------------
 */

static void assert_fd_untouched(int fd) {
  assert_true(fcntl(fd, F_GETFD) >= 0); /* still open */
  assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
}

IL_CONFORMANCE_TEST(test_transport_adopt_refusals) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  rec_t r = {0};
  il_transport_t *t = NULL;

  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(il_transport_adopt(loop, p[0], &rec_proto, &r, &t),
                   IL_ENOTSOCK);
  assert_fd_untouched(p[0]);
  close(p[0]);
  close(p[1]);

  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(u >= 0);
  assert_int_equal(il_transport_adopt(loop, u, &rec_proto, &r, &t), IL_ENOTSUP);
  assert_fd_untouched(u);
  close(u);

  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(l, 1), 0);
  assert_int_equal(il_transport_adopt(loop, l, &rec_proto, &r, &t), IL_ENOTSUP);
  assert_fd_untouched(l);
  close(l);

  int fds[2];
  unix_pair(fds);
  int closed = fds[1];
  close(closed);
  assert_int_equal(il_transport_adopt(loop, closed, &rec_proto, &r, &t),
                   IL_EBADF);
  assert_int_equal(il_transport_adopt(loop, -1, &rec_proto, &r, &t), IL_EINVAL);
  assert_int_equal(il_transport_adopt(loop, fds[0], NULL, &r, &t), IL_EINVAL);
  il_protocol_t tiny = {0};
  assert_int_equal(il_transport_adopt(loop, fds[0], &tiny, &r, &t), IL_EINVAL);
  assert_int_equal(il_transport_adopt(NULL, fds[0], &rec_proto, &r, &t),
                   IL_EINVAL);
  il_loop_t *other = il_test_loop_new(ctx);
  assert_int_equal(il_loop_close(other), 0);
  assert_int_equal(il_transport_adopt(other, fds[0], &rec_proto, &r, &t),
                   IL_ECLOSED);
  assert_fd_untouched(fds[0]);
  assert_null(t);
  assert_int_equal(live_transports(loop), 0);

  /* A protocol struct of an older, shorter size is accepted; the members
   * it lacks are NULL. `out` may be NULL. */
  il_protocol_t old = rec_proto;
  old.size = offsetof(il_protocol_t, eof_received);
  assert_int_equal(t_adopt(loop, fds[0], &old, &r, NULL), 0);
  assert_true(il_test_run_until(loop, &r.made, 5.0));
  assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
  assert_int_equal(t_close(r.t), 0);
  run_for(loop, 0.02);
  assert_int_equal(r.lost, 0); /* connection_lost is beyond its size */
  assert_int_equal(live_transports(loop), 0);
  assert_int_equal(r.bad, 0);
}

/* ---- loop close ----------------------------------------------------------
 */

IL_CONFORMANCE_TEST(test_transport_loop_close_loses_each) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = il_test_loop_new(ctx);
  g_dtor_calls = 0;
  enum { N = 4 };
  rec_t r[N];
  int peers[N];
  memset(r, 0, sizeof(r));
  static char block[512 * 1024];
  for (int i = 0; i < N; i++) {
    int fds[2];
    if (i % 2)
      tcp_pair(fds);
    else
      unix_pair(fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    peers[i] = fds[1];
    adopt_rec(loop, fds[0], &r[i]);
    assert_int_equal(il_transport_set_data(r[i].t, &r[i], count_dtor), 0);
  }
  assert_true(il_test_run_until(loop, &r[N - 1].made, 5.0));
  /* 0: open and idle; 1: open with data queued; 2: closing, flushing;
   * 3: aborted, its connection_lost scheduled but not yet run. */
  assert_int_equal(t_write(r[1].t, block, sizeof(block)), 0);
  assert_int_equal(t_write(r[2].t, block, sizeof(block)), 0);
  assert_int_equal(t_close(r[2].t), 0);
  assert_int_equal(t_abort(r[3].t), 0);
  /* And one created in the last pass, its connection_made never run: only
   * connection_lost(IL_ECLOSED) is called. */
  int late[2];
  unix_pair(late);
  rec_t u = {0};
  u.unmade_ok = 1;
  adopt_rec(loop, late[0], &u);
  assert_int_equal(il_loop_close(loop), 0);
  assert_int_equal(u.made, 0);
  assert_int_equal(u.lost, 1);
  assert_int_equal(u.lost_error, IL_ECLOSED);
  assert_int_equal(u.bad, 0);
  assert_int_equal(fcntl(late[0], F_GETFD), -1); /* closed with it */
  close(late[1]);
  for (int i = 0; i < N; i++) {
    assert_int_equal(r[i].made, 1);
    assert_int_equal(r[i].lost, 1);
    assert_int_equal(r[i].bad, 0);
    close(peers[i]);
  }
  assert_int_equal(r[0].lost_error, IL_ECLOSED);
  assert_int_equal(r[1].lost_error, IL_ECLOSED);
  assert_int_equal(r[2].lost_error, IL_ECLOSED);
  assert_int_equal(r[3].lost_error, IL_ECANCELED);
  assert_int_equal(g_dtor_calls, N); /* every transport freed */
}

/* ---- bad arguments and threads -------------------------------------------
 */

/* What another thread gets from every call that must check the thread. */
enum { N_INTRUSIONS = 11 };
typedef struct intruder {
  il_transport_t *t;
  int rc[N_INTRUSIONS];
} intruder_t;

static void *intrude(void *arg) {
  intruder_t *in = arg;
  il_transport_t *t = in->t;
  struct iovec iov = {(void *)"x", 1};
  size_t len = sizeof(int);
  int fd, i = 0;
  in->rc[i++] = il_transport_write(t, "x", 1);
  in->rc[i++] = il_transport_writev(t, &iov, 1);
  in->rc[i++] = il_transport_write_eof(t);
  in->rc[i++] = il_transport_close(t);
  in->rc[i++] = il_transport_abort(t);
  in->rc[i++] = il_transport_pause_reading(t);
  in->rc[i++] = il_transport_resume_reading(t);
  in->rc[i++] = il_transport_set_write_buffer_limits(t, 10, 5);
  in->rc[i++] = il_transport_get_extra_info(t, IL_INFO_FD, &fd, &len);
  in->rc[i++] = il_transport_set_protocol(t, &rec_proto, NULL);
  in->rc[i++] = il_transport_set_data(t, &len, NULL);
  return NULL;
}

static int intrude_now(il_loop_t *loop, void *arg) {
  (void)loop;
  pthread_t th;
  if (pthread_create(&th, NULL, intrude, arg) != 0)
    return IL_EAGAIN;
  pthread_join(th, NULL);
  return 0;
}

IL_CONFORMANCE_TEST(test_transport_null_and_wrong_thread) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  size_t h, l, len = 4;
  int fd;
  struct iovec iov = {(void *)"x", 1};
  assert_int_equal(il_transport_write(NULL, "x", 1), IL_EINVAL);
  assert_int_equal(il_transport_writev(NULL, &iov, 1), IL_EINVAL);
  assert_int_equal(il_transport_write_eof(NULL), IL_EINVAL);
  assert_int_equal(il_transport_close(NULL), IL_EINVAL);
  assert_int_equal(il_transport_abort(NULL), IL_EINVAL);
  assert_int_equal(il_transport_pause_reading(NULL), IL_EINVAL);
  assert_int_equal(il_transport_resume_reading(NULL), IL_EINVAL);
  assert_int_equal(il_transport_set_write_buffer_limits(NULL, 10, 5),
                   IL_EINVAL);
  assert_int_equal(il_transport_get_write_buffer_limits(NULL, &h, &l),
                   IL_EINVAL);
  assert_int_equal(il_transport_get_extra_info(NULL, IL_INFO_FD, &fd, &len),
                   IL_EINVAL);
  assert_int_equal(il_transport_set_protocol(NULL, &rec_proto, NULL),
                   IL_EINVAL);
  assert_int_equal(il_transport_set_data(NULL, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_transport_sendto(NULL, "x", 1, NULL, 0), IL_EINVAL);
  assert_int_equal(il_transport_is_closing(NULL), 1);
  assert_int_equal(il_transport_is_reading(NULL), 0);
  assert_int_equal(il_transport_can_write_eof(NULL), 0);
  assert_int_equal(il_transport_get_write_buffer_size(NULL), 0);
  assert_null(il_transport_get_data(NULL));
  assert_null(il_transport_loop(NULL));
  assert_null(il_transport_ref(NULL));
  il_transport_unref(NULL);

  rec_t a = {0}, b = {0};
  rec_pair(loop, unix_pair, 0, &a, &b);
  assert_int_equal(il_transport_set_protocol(a.t, NULL, NULL), IL_EINVAL);
  assert_int_equal(il_transport_sendto(a.t, "x", 1, NULL, 0), IL_ENOTSUP);

  /* From another thread while the loop runs: refused, nothing changes. */
  intruder_t in = {.t = a.t};
  assert_int_equal(il_loop_call_soon(loop, intrude_now, &in, NULL), 0);
  assert_int_equal(il_loop_run(loop, IL_RUN_ONCE), 0);
  for (int i = 0; i < N_INTRUSIONS; i++)
    assert_int_equal(in.rc[i], IL_EWRONGTHREAD);
  assert_int_equal(il_transport_is_closing(a.t), 0);
  assert_int_equal(il_transport_is_reading(a.t), 1);
  assert_null(il_transport_get_data(a.t));
  assert_int_equal(il_transport_get_write_buffer_limits(a.t, &h, &l), 0);
  assert_int_equal(h, IL_WRITE_HIGH_DEFAULT);
  run_for(loop, 0.02);
  assert_int_equal(b.nbytes, 0);

  assert_int_equal(t_close(a.t), 0);
  wait_lost(loop, &a);
  wait_lost(loop, &b);
  assert_int_equal(a.bad + b.bad, 0);
}
