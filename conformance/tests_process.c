/* conformance/tests_process.c — SPEC.md §13: pipe transports, subprocesses
 * and the task helpers (process.h).
 *
 * Pipes are made with pipe2, mkfifo (in a mkdtemp directory) and
 * posix_openpt; children are standard programs (sh, cat, sleep, true, ls,
 * head) found through PATH or under /bin. Every subprocess test checks the
 * callback order of its protocol (made first, lost last) and, where children
 * ran, that none is left as a zombie: /proc is scanned for processes whose
 * parent is this one. A test that fails midway still leaves nothing behind:
 * closing the loop kills and reaps its children, and the runner kills the
 * test's process group. */
#include "task_checks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------- */

/* A growing byte buffer, always NUL-terminated. */
typedef struct buf {
  char *p;
  size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const void *d, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(b->p, cap);
    assert_non_null(p);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static const char *buf_str(const buf_t *b) {
  return b->p ? b->p : "";
}

static void buf_free(buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/* Byte i of the test pattern: not periodic at any power of two a pipe or
 * buffer size could hide a reordering behind. */
static unsigned char pattern_byte(size_t i) {
  uint32_t x = (uint32_t)i * 2654435761u;
  return (unsigned char)((x >> 24) ^ (uint32_t)(i >> 13));
}

static void pattern_fill(unsigned char *dst, size_t off, size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = pattern_byte(off + i);
}

/* How many processes have this one as parent (running or zombies). */
static int count_children(void) {
  DIR *d = opendir("/proc");
  assert_non_null(d);
  int n = 0;
  pid_t me = getpid();
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char path[300], line[512];
    snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "re");
    if (!f)
      continue; /* gone meanwhile */
    size_t got = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[got] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    char *close_paren = strrchr(line, ')');
    char state;
    int ppid;
    if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 &&
        ppid == (int)me)
      n++;
  }
  closedir(d);
  return n;
}

/* Runs the loop in short steps until no child of this process is left
 * (children being reaped a little later is allowed); fails after `seconds`. */
static void assert_no_children(il_loop_t *loop, double seconds) {
  for (int i = 0; i < (int)(seconds * 100) && count_children() > 0; i++) {
    volatile int tick = 0;
    il_test_run_until(loop, &tick, 0.01);
  }
  assert_int_equal(count_children(), 0);
}

static uint64_t processes_of(il_loop_t *loop) {
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  assert_int_equal(il_loop_get_stats(loop, &st), 0);
  return st.processes;
}

/* Runs the loop until it holds no subprocess object; fails after `seconds`.
 */
static void run_until_no_processes(il_loop_t *loop, double seconds) {
  for (int i = 0; i < (int)(seconds * 100) && processes_of(loop) > 0; i++) {
    volatile int tick = 0;
    il_test_run_until(loop, &tick, 0.01);
  }
  assert_int_equal(processes_of(loop), 0);
}

/* Runs the loop for about `seconds` whatever happens. */
static void spin(il_loop_t *loop, double seconds) {
  volatile int never = 0;
  il_test_run_until(loop, &never, seconds);
}

/* A pipe, both ends blocking; close-on-exec unless `inheritable`. */
static void make_pipe(int fds[2], int inheritable) {
  assert_int_equal(pipe2(fds, inheritable ? 0 : O_CLOEXEC), 0);
}

/* The kernel's buffer size of a pipe (64 KiB by default). */
static size_t pipe_capacity(int fd) {
  int n = fcntl(fd, F_GETPIPE_SZ);
  return n > 0 ? (size_t)n : 65536;
}

/* Reads fd (blocking or not) until `want` bytes, EOF or 5 s; returns the
 * count, and sets *eof when EOF was seen. */
static size_t raw_read(int fd, void *out, size_t want, int *eof) {
  size_t got = 0;
  if (eof)
    *eof = 0;
  for (int spins = 0; got < want && spins < 5000; spins++) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1) <= 0)
      continue;
    ssize_t n = read(fd, (char *)out + got, want - got);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      if (eof)
        *eof = 1;
      break;
    }
    if (n > 0)
      got += (size_t)n;
  }
  return got;
}

/* A mkdtemp directory under /tmp; path receives it. */
static void make_tmpdir(char *path, size_t cap) {
  snprintf(path, cap, "/tmp/il-process-XXXXXX");
  assert_non_null(mkdtemp(path));
}

/* fd's status and descriptor flags, to show a refused call left it alone. */
typedef struct fdflags {
  int fl, fdfl;
} fdflags_t;

static fdflags_t flags_of(int fd) {
  fdflags_t f = {fcntl(fd, F_GETFL), fcntl(fd, F_GETFD)};
  return f;
}

static void assert_flags_unchanged(int fd, fdflags_t before) {
  fdflags_t now = flags_of(fd);
  assert_true(now.fl >= 0); /* still open */
  assert_int_equal(now.fl, before.fl);
  assert_int_equal(now.fdfl, before.fdfl);
}

/* The numbers of this process's open fds, sorted; returns the count. */
static int list_fds(int *out, int cap) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0, self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    int fd = atoi(e->d_name);
    if (fd == self)
      continue;
    assert_true(n < cap);
    int i = n++;
    for (; i > 0 && out[i - 1] > fd; i--)
      out[i] = out[i - 1];
    out[i] = fd;
  }
  closedir(d);
  return n;
}

/* A PTY in raw mode: *master, *slave (both close-on-exec). */
static void open_pty(int *master, int *slave) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(m >= 0);
  assert_int_equal(grantpt(m), 0);
  assert_int_equal(unlockpt(m), 0);
  char name[128];
  assert_int_equal(ptsname_r(m, name, sizeof(name)), 0);
  int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(s >= 0);
  struct termios tio;
  assert_int_equal(tcgetattr(s, &tio), 0);
  cfmakeraw(&tio);
  assert_int_equal(tcsetattr(s, TCSANOW, &tio), 0);
  *master = m;
  *slave = s;
}

/* Runs fn(arg) on a new thread while the loop runs (the loop belongs to its
 * thread only then), and waits for it. */
typedef struct other_thread {
  void *(*fn)(void *);
  void *arg;
  volatile int done;
} other_thread_t;

static int other_thread_now(il_loop_t *loop, void *arg) {
  (void)loop;
  other_thread_t *o = arg;
  pthread_t th;
  if (pthread_create(&th, NULL, o->fn, o->arg) != 0)
    return IL_EAGAIN;
  pthread_join(th, NULL);
  o->done = 1;
  return 0;
}

static void on_other_thread(il_loop_t *loop, void *(*fn)(void *), void *arg) {
  other_thread_t o = {fn, arg, 0};
  assert_int_equal(il_loop_call_soon(loop, other_thread_now, &o, NULL), 0);
  assert_true(il_test_run_until(loop, &o.done, 5.0));
}

/* ---- writing a pattern with flow control --------------------------------- */

/* Writes `total` pattern bytes to t in 64 KiB pieces, stopping while the
 * transport has paused writing; then write_eof (or close). */
typedef struct feeder {
  il_transport_t *t;
  size_t total, sent;
  int paused, done, use_write_eof;
  int pauses, resumes;
} feeder_t;

static void feed(feeder_t *f) {
  static unsigned char chunk[65536];
  while (!f->paused && f->sent < f->total && !f->done) {
    size_t n = f->total - f->sent;
    if (n > sizeof(chunk))
      n = sizeof(chunk);
    pattern_fill(chunk, f->sent, n);
    assert_int_equal(il_transport_write(f->t, chunk, n), 0);
    f->sent += n;
  }
  if (f->sent == f->total && !f->done) {
    f->done = 1;
    if (f->use_write_eof)
      assert_int_equal(il_transport_write_eof(f->t), 0);
    else
      assert_int_equal(il_transport_close(f->t), 0);
  }
}

/* pause_writing / resume_writing for a feeder (NULL: nothing to feed). */
static void feeder_flow(feeder_t *f, int pause) {
  if (!f)
    return;
  f->paused = pause;
  if (pause) {
    f->pauses++;
  } else {
    f->resumes++;
    feed(f);
  }
}

/* ---- a pipe protocol that records what it is told ------------------------ */

/* Set around interloop calls that must never call connection_made or
 * connection_lost from inside. */
static int g_in_call;
static int g_rc;
#define IN_CALL(call) (g_in_call++, g_rc = (call), g_in_call--, g_rc)

typedef struct prec {
  il_transport_t *t;
  int made, eofs, lost, datas, bad;
  int lost_error;
  int paused; /* the test paused reading: no data may come */
  size_t nbytes;
  buf_t in;           /* bytes received, unless `verify` */
  int verify;         /* compare with the pattern instead of keeping */
  size_t mismatches;  /* with `verify` */
  feeder_t *feed;     /* write side: fed on made and resume_writing */
  volatile int ready; /* set when nbytes reaches `want` */
  size_t want;
} prec_t;

static void prec_made(il_transport_t *t, void *ud) {
  prec_t *r = ud;
  if (g_in_call || r->made || r->lost || (r->t && r->t != t))
    r->bad++;
  r->t = t;
  r->made++;
  if (r->feed) {
    r->feed->t = t;
    feed(r->feed);
  }
}

static void prec_data(il_transport_t *t, const void *data, size_t len,
                      void *ud) {
  prec_t *r = ud;
  if (!r->made || r->eofs || r->lost || r->paused || len == 0 || t != r->t)
    r->bad++;
  if (r->verify) {
    const unsigned char *d = data;
    for (size_t i = 0; i < len; i++)
      if (d[i] != pattern_byte(r->nbytes + i))
        r->mismatches++;
  } else {
    buf_add(&r->in, data, len);
  }
  r->nbytes += len;
  r->datas++;
  if (r->want && r->nbytes >= r->want)
    r->ready = 1;
}

static int prec_eof(il_transport_t *t, void *ud) {
  prec_t *r = ud;
  if (!r->made || r->eofs || r->lost || t != r->t)
    r->bad++;
  r->eofs++;
  return 1; /* ignored by read pipes: they close after EOF */
}

static void prec_lost(il_transport_t *t, int error, void *ud) {
  prec_t *r = ud;
  if (g_in_call || !r->made || r->lost || t != r->t)
    r->bad++;
  r->lost++;
  r->lost_error = error;
}

static void prec_pause(il_transport_t *t, void *ud) {
  (void)t;
  feeder_flow(((prec_t *)ud)->feed, 1);
}

static void prec_resume(il_transport_t *t, void *ud) {
  (void)t;
  feeder_flow(((prec_t *)ud)->feed, 0);
}

static const il_protocol_t prec_proto = {
    .size = sizeof(il_protocol_t),
    .connection_made = prec_made,
    .data_received = prec_data,
    .eof_received = prec_eof,
    .connection_lost = prec_lost,
    .pause_writing = prec_pause,
    .resume_writing = prec_resume,
};

/* Wraps fd as a read (writing 0) or write pipe recorded by r; connection_made
 * must not come from inside the call. */
static il_transport_t *pipe_rec(il_loop_t *loop, int fd, int writing,
                                prec_t *r) {
  il_transport_t *t = NULL;
  int rc = writing
               ? IN_CALL(il_connect_write_pipe(loop, fd, &prec_proto, r, &t))
               : IN_CALL(il_connect_read_pipe(loop, fd, &prec_proto, r, &t));
  assert_int_equal(rc, 0);
  assert_non_null(t);
  assert_int_equal(r->made, 0);
  r->t = t;
  return t;
}

static void run_until_lost(il_loop_t *loop, prec_t *r) {
  assert_true(il_test_run_until(loop, (volatile int *)&r->lost, 10.0));
  assert_int_equal(r->lost, 1);
  assert_int_equal(r->bad, 0);
}

/* ---- pipe transports ----------------------------------------------------- */

/* Data in order, then eof_received, then connection_lost(0); the fd is made
 * non-blocking and close-on-exec; nothing arrives before connection_made. */
IL_CONFORMANCE_TEST(test_pipe_read_data_eof_then_lost) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 1);
  assert_int_equal(write(fds[1], "hello", 5), 5); /* waiting before made */
  prec_t r = {0};
  pipe_rec(ctx->loop, fds[0], 0, &r);
  assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
  assert_int_equal(il_transport_is_reading(r.t), 1);
  r.want = 5;
  assert_true(il_test_run_until(ctx->loop, &r.ready, 5.0));
  assert_int_equal(write(fds[1], " world", 6), 6);
  close(fds[1]);
  run_until_lost(ctx->loop, &r);
  assert_string_equal(buf_str(&r.in), "hello world");
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.lost_error, 0);
  buf_free(&r.in);
}

/* pause_reading stops data and EOF (idempotently); resume_reading brings
 * them, in order. */
IL_CONFORMANCE_TEST(test_pipe_read_pause_resume) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  prec_t r = {0};
  pipe_rec(ctx->loop, fds[0], 0, &r);
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&r.made, 5.0));
  assert_int_equal(il_transport_pause_reading(r.t), 0);
  assert_int_equal(il_transport_pause_reading(r.t), 0);
  assert_int_equal(il_transport_is_reading(r.t), 0);
  r.paused = 1;
  assert_int_equal(write(fds[1], "abc", 3), 3);
  spin(ctx->loop, 0.05);
  assert_int_equal(r.datas, 0);
  r.paused = 0;
  assert_int_equal(il_transport_resume_reading(r.t), 0);
  assert_int_equal(il_transport_resume_reading(r.t), 0);
  assert_int_equal(il_transport_is_reading(r.t), 1);
  r.want = 3;
  assert_true(il_test_run_until(ctx->loop, &r.ready, 5.0));
  /* EOF waits for resume_reading as data does. */
  assert_int_equal(il_transport_pause_reading(r.t), 0);
  r.paused = 1;
  assert_int_equal(write(fds[1], "de", 2), 2);
  close(fds[1]);
  spin(ctx->loop, 0.05);
  assert_int_equal(r.eofs + r.lost, 0);
  r.paused = 0;
  assert_int_equal(il_transport_resume_reading(r.t), 0);
  run_until_lost(ctx->loop, &r);
  assert_string_equal(buf_str(&r.in), "abcde");
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.lost_error, 0);
  buf_free(&r.in);
}

/* A FIFO works as a pipe: read side (data, EOF, lost(0)) and write side
 * (close flushes). */
IL_CONFORMANCE_TEST(test_pipe_fifo_read_and_write) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  char dir[64], path[96];
  make_tmpdir(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/fifo", dir);
  assert_int_equal(mkfifo(path, 0600), 0);

  int rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(rfd >= 0);
  int wfd = open(path, O_WRONLY | O_CLOEXEC);
  assert_true(wfd >= 0);
  prec_t r = {0};
  pipe_rec(ctx->loop, rfd, 0, &r);
  assert_int_equal(write(wfd, "through a fifo", 14), 14);
  close(wfd);
  run_until_lost(ctx->loop, &r);
  assert_string_equal(buf_str(&r.in), "through a fifo");
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.lost_error, 0);
  buf_free(&r.in);

  rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(rfd >= 0);
  wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(wfd >= 0);
  prec_t w = {0};
  pipe_rec(ctx->loop, wfd, 1, &w);
  assert_int_equal(il_transport_write(w.t, "fifo out", 8), 0);
  assert_int_equal(IN_CALL(il_transport_close(w.t)), 0);
  run_until_lost(ctx->loop, &w);
  assert_int_equal(w.lost_error, 0);
  char got[16];
  int eof = 0;
  assert_int_equal(raw_read(rfd, got, sizeof(got), &eof), 8);
  assert_memory_equal(got, "fifo out", 8);
  assert_int_equal(eof, 1);
  close(rfd);
  unlink(path);
  rmdir(dir);
}

/* 4 MiB from a write pipe to a read pipe in the same loop: pause_writing
 * and resume_writing alternate, every byte arrives in order, then EOF. */
IL_CONFORMANCE_TEST(test_pipe_write_flow_control_big) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  prec_t rd = {0}, wr = {0};
  feeder_t f = {0};
  f.total = (size_t)4 << 20;
  wr.feed = &f;
  rd.verify = 1;
  pipe_rec(ctx->loop, fds[0], 0, &rd);
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  run_until_lost(ctx->loop, &rd);
  run_until_lost(ctx->loop, &wr);
  assert_int_equal(rd.nbytes, f.total);
  assert_int_equal(rd.mismatches, 0);
  assert_int_equal(rd.eofs, 1);
  assert_int_equal(rd.lost_error, 0);
  assert_int_equal(wr.lost_error, 0);
  assert_true(f.pauses >= 1);
  assert_true(f.resumes == f.pauses || f.resumes == f.pauses - 1);
}

/* close sends what is buffered, then EOF; abort drops it:
 * connection_lost(IL_ECANCELED), and the reader sees less and then EOF. */
IL_CONFORMANCE_TEST(test_pipe_write_close_flushes_abort_drops) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  size_t total = 4 * pipe_capacity(fds[1]);
  unsigned char *data = malloc(total);
  assert_non_null(data);
  pattern_fill(data, 0, total);

  prec_t rd = {0}, wr = {0};
  rd.verify = 1;
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  assert_int_equal(il_transport_write(wr.t, data, total), 0);
  assert_true(il_transport_get_write_buffer_size(wr.t) > 0);
  assert_int_equal(IN_CALL(il_transport_close(wr.t)), 0);
  assert_int_equal(il_transport_is_closing(wr.t), 1);
  assert_int_equal(il_transport_close(wr.t), 0); /* idempotent */
  assert_int_equal(il_transport_write(wr.t, "x", 1), IL_ECLOSED);
  pipe_rec(ctx->loop, fds[0], 0, &rd);
  run_until_lost(ctx->loop, &wr);
  run_until_lost(ctx->loop, &rd);
  assert_int_equal(wr.lost_error, 0);
  assert_int_equal(rd.nbytes, total);
  assert_int_equal(rd.mismatches, 0);
  assert_int_equal(rd.eofs, 1);

  make_pipe(fds, 0);
  prec_t ab = {0};
  pipe_rec(ctx->loop, fds[1], 1, &ab);
  assert_int_equal(il_transport_write(ab.t, data, total), 0);
  assert_int_equal(IN_CALL(il_transport_abort(ab.t)), 0);
  assert_int_equal(il_transport_abort(ab.t), 0);
  run_until_lost(ctx->loop, &ab);
  assert_int_equal(ab.lost_error, IL_ECANCELED);
  int eof = 0;
  size_t got = raw_read(fds[0], data, total, &eof);
  assert_true(got < total);
  assert_int_equal(eof, 1);
  close(fds[0]);
  free(data);
}

/* write_eof on a write pipe closes it once the buffer is flushed: the reader
 * gets everything then EOF, the writer connection_lost(0). */
IL_CONFORMANCE_TEST(test_pipe_write_eof_closes_after_flush) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  size_t total = 3 * pipe_capacity(fds[1]);
  unsigned char *data = malloc(total);
  assert_non_null(data);
  pattern_fill(data, 0, total);
  prec_t rd = {0}, wr = {0};
  rd.verify = 1;
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  assert_int_equal(il_transport_can_write_eof(wr.t), 1);
  assert_int_equal(il_transport_write(wr.t, data, total), 0);
  assert_int_equal(IN_CALL(il_transport_write_eof(wr.t)), 0);
  assert_int_equal(il_transport_is_closing(wr.t), 1);
  assert_int_equal(il_transport_write_eof(wr.t), 0); /* idempotent */
  assert_int_equal(il_transport_write(wr.t, "x", 1), IL_ECLOSED);
  pipe_rec(ctx->loop, fds[0], 0, &rd);
  run_until_lost(ctx->loop, &rd);
  run_until_lost(ctx->loop, &wr);
  assert_int_equal(wr.lost_error, 0);
  assert_int_equal(rd.nbytes, total);
  assert_int_equal(rd.mismatches, 0);
  assert_int_equal(rd.eofs, 1);
  free(data);
}

/* The reader closing its end while nothing is buffered: connection_lost(0)
 * without any write (pipe and FIFO). */
IL_CONFORMANCE_TEST(test_pipe_write_reader_gone_idle_lost) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  prec_t wr = {0};
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&wr.made, 5.0));
  close(fds[0]);
  run_until_lost(ctx->loop, &wr);
  assert_int_equal(wr.lost_error, 0);

  char dir[64], path[96];
  make_tmpdir(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/fifo", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  int rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(rfd >= 0 && wfd >= 0);
  prec_t fw = {0};
  pipe_rec(ctx->loop, wfd, 1, &fw);
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&fw.made, 5.0));
  close(rfd);
  run_until_lost(ctx->loop, &fw);
  assert_int_equal(fw.lost_error, 0);
  unlink(path);
  rmdir(dir);
}

/* The reader closing its end while data is still buffered:
 * connection_lost(IL_EPIPE). */
IL_CONFORMANCE_TEST(test_pipe_write_reader_gone_buffered_epipe) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  size_t total = 4 * pipe_capacity(fds[1]);
  unsigned char *data = calloc(1, total);
  assert_non_null(data);
  prec_t wr = {0};
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&wr.made, 5.0));
  assert_int_equal(il_transport_write(wr.t, data, total), 0);
  assert_true(il_transport_get_write_buffer_size(wr.t) > 0);
  close(fds[0]);
  run_until_lost(ctx->loop, &wr);
  assert_int_equal(wr.lost_error, IL_EPIPE);
  free(data);
}

/* A write to a pipe whose reader is gone is not an error of the call: the
 * transport is lost with IL_EPIPE, and no SIGPIPE reaches the process (its
 * default action, which would kill the test, is left in place). */
IL_CONFORMANCE_TEST(test_pipe_write_closed_pipe_epipe_no_sigpipe) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  struct sigaction dfl, old;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &pipe_set, &old_mask), 0);

  int fds[2];
  make_pipe(fds, 0);
  prec_t wr = {0};
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&wr.made, 5.0));
  close(fds[0]);
  /* No loop pass in between: the write itself finds the reader gone. */
  assert_int_equal(IN_CALL(il_transport_write(wr.t, "x", 1)), 0);
  run_until_lost(ctx->loop, &wr);
  assert_int_equal(wr.lost_error, IL_EPIPE);
  sigset_t pending;
  assert_int_equal(sigpending(&pending), 0);
  assert_int_equal(sigismember(&pending, SIGPIPE), 0);

  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGPIPE, &old, NULL);
}

/* A read pipe refuses writing, a write pipe refuses reading: IL_ENOTSUP. */
IL_CONFORMANCE_TEST(test_pipe_wrong_direction_enotsup) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  make_pipe(fds, 0);
  prec_t rd = {0}, wr = {0};
  pipe_rec(ctx->loop, fds[0], 0, &rd);
  pipe_rec(ctx->loop, fds[1], 1, &wr);
  struct iovec iov = {(void *)"x", 1};
  assert_int_equal(il_transport_write(rd.t, "x", 1), IL_ENOTSUP);
  assert_int_equal(il_transport_writev(rd.t, &iov, 1), IL_ENOTSUP);
  assert_int_equal(il_transport_write_eof(rd.t), IL_ENOTSUP);
  assert_int_equal(il_transport_can_write_eof(rd.t), 0);
  assert_int_equal(il_transport_pause_reading(wr.t), IL_ENOTSUP);
  assert_int_equal(il_transport_resume_reading(wr.t), IL_ENOTSUP);
  assert_int_equal(il_transport_is_reading(wr.t), 0);
  assert_int_equal(il_transport_writev(wr.t, &iov, 1), 0);
  assert_int_equal(IN_CALL(il_transport_close(wr.t)), 0);
  run_until_lost(ctx->loop, &wr);
  run_until_lost(ctx->loop, &rd);
  assert_string_equal(buf_str(&rd.in), "x");
  assert_int_equal(rd.lost_error, 0);
  assert_int_equal(wr.lost_error, 0);
  buf_free(&rd.in);
}

typedef struct foreign_call {
  il_loop_t *loop;
  int fd, rc;
} foreign_call_t;

static void *connect_read_elsewhere(void *arg) {
  foreign_call_t *c = arg;
  c->rc = il_connect_read_pipe(c->loop, c->fd, &prec_proto, NULL, NULL);
  return NULL;
}

/* Refused fds and arguments leave the fd open and as it was: a regular file
 * or a directory (IL_EINVAL), fd -1, NULL loop or protocol (IL_EINVAL), a
 * closed fd (IL_EBADF), a closed loop (IL_ECLOSED), another thread
 * (IL_EWRONGTHREAD). */
IL_CONFORMANCE_TEST(test_pipe_bad_fd_refused_untouched) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  char dir[64], path[96];
  make_tmpdir(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/regular", dir);
  int file = open(path, O_RDWR | O_CREAT, 0600);
  assert_true(file >= 0);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  assert_true(dfd >= 0);
  int fds[2];
  make_pipe(fds, 1);
  il_loop_t *closed = il_test_loop_new(ctx);
  assert_int_equal(il_loop_close(closed), 0);

  for (int writing = 0; writing < 2; writing++) {
    int (*connect)(il_loop_t *, int, const il_protocol_t *, void *,
                   il_transport_t **) =
        writing ? il_connect_write_pipe : il_connect_read_pipe;
    int end = fds[writing];
    fdflags_t ff = flags_of(file), df = flags_of(dfd), pf = flags_of(end);
    prec_t r = {0};
    assert_int_equal(connect(loop, file, &prec_proto, &r, NULL), IL_EINVAL);
    assert_flags_unchanged(file, ff);
    assert_int_equal(connect(loop, dfd, &prec_proto, &r, NULL), IL_EINVAL);
    assert_flags_unchanged(dfd, df);
    assert_int_equal(connect(loop, -1, &prec_proto, &r, NULL), IL_EINVAL);
    assert_int_equal(connect(loop, end, NULL, &r, NULL), IL_EINVAL);
    assert_int_equal(connect(NULL, end, &prec_proto, &r, NULL), IL_EINVAL);
    assert_int_equal(connect(closed, end, &prec_proto, &r, NULL), IL_ECLOSED);
    assert_flags_unchanged(end, pf);
    int spare[2];
    make_pipe(spare, 0);
    close(spare[0]);
    close(spare[1]);
    assert_int_equal(connect(loop, spare[writing], &prec_proto, &r, NULL),
                     IL_EBADF);
    assert_int_equal(r.made + r.lost, 0);
  }
  foreign_call_t c = {loop, fds[0], 0};
  fdflags_t pf = flags_of(fds[0]);
  on_other_thread(loop, connect_read_elsewhere, &c);
  assert_int_equal(c.rc, IL_EWRONGTHREAD);
  assert_flags_unchanged(fds[0], pf);
  spin(loop, 0.01);
  close(fds[0]);
  close(fds[1]);
  close(file);
  close(dfd);
  unlink(path);
  rmdir(dir);
}

/* A read pipe on a PTY master sees what is written to the slave; when the
 * slave is closed, the master's EIO is end of file: eof_received, then
 * connection_lost(0). */
IL_CONFORMANCE_TEST(test_pipe_pty_read_master_eio_is_eof) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int m, s;
  open_pty(&m, &s);
  prec_t r = {0};
  pipe_rec(ctx->loop, m, 0, &r);
  assert_int_equal(write(s, "on the slave", 12), 12);
  r.want = 12;
  assert_true(il_test_run_until(ctx->loop, &r.ready, 5.0));
  assert_string_equal(buf_str(&r.in), "on the slave");
  close(s);
  run_until_lost(ctx->loop, &r);
  assert_int_equal(r.lost_error, 0);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.nbytes, 12);
  buf_free(&r.in);
}

/* A write pipe on a PTY master delivers to the slave; close flushes and
 * reports connection_lost(0). */
IL_CONFORMANCE_TEST(test_pipe_pty_write_master_to_slave) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int m, s;
  open_pty(&m, &s);
  prec_t w = {0};
  pipe_rec(ctx->loop, m, 1, &w);
  assert_int_equal(il_transport_write(w.t, "to the slave", 12), 0);
  char got[32];
  assert_true(il_test_run_until(ctx->loop, (volatile int *)&w.made, 5.0));
  spin(ctx->loop, 0.01);
  assert_int_equal(raw_read(s, got, 12, NULL), 12);
  assert_memory_equal(got, "to the slave", 12);
  assert_int_equal(IN_CALL(il_transport_close(w.t)), 0);
  run_until_lost(ctx->loop, &w);
  assert_int_equal(w.lost_error, 0);
  close(s);
}

/* ---- a subprocess protocol that records what it is told ------------------ */

enum {
  EV_MADE = 1,
  EV_DATA1,
  EV_DATA2,
  EV_LOST0,
  EV_LOST1,
  EV_LOST2,
  EV_EXITED,
  EV_CLOSED
};

typedef struct srec {
  il_subprocess_t *p;
  int ev[32]; /* events in order; runs of one data event count once */
  int nev;
  int bad;
  buf_t out, err;
  int pipe_error[3];
  volatile int closed; /* connection_lost ran */
  int closed_error;
  int exit_rc; /* returncode seen in process_exited */
  size_t want; /* `ready` once stdout has this many bytes */
  volatile int ready;
  /* the 16 MiB test */
  feeder_t *feed; /* stdin, fed on resume_writing */
  int verify;     /* check stdout against the pattern */
  size_t nout, mismatches;
  size_t pause_every; /* pause reading stdout after each such amount */
  size_t next_pause;
  int reading_paused, read_pauses;
  il_loop_t *loop;
} srec_t;

static void srec_event(srec_t *r, int ev) {
  if (r->nev > 0 && r->ev[r->nev - 1] == ev &&
      (ev == EV_DATA1 || ev == EV_DATA2))
    return;
  if (r->nev < (int)(sizeof(r->ev) / sizeof(r->ev[0])))
    r->ev[r->nev++] = ev;
  else
    r->bad++;
}

static int srec_has(const srec_t *r, int ev) {
  for (int i = 0; i < r->nev; i++)
    if (r->ev[i] == ev)
      return i + 1;
  return 0;
}

static void srec_made(il_subprocess_t *p, void *ud) {
  srec_t *r = ud;
  if (g_in_call || r->nev || (r->p && r->p != p))
    r->bad++;
  r->p = p;
  srec_event(r, EV_MADE);
}

static int resume_stdout(il_loop_t *loop, void *arg) {
  (void)loop;
  srec_t *r = arg;
  r->reading_paused = 0;
  return il_transport_resume_reading(il_subprocess_get_pipe_transport(r->p, 1));
}

static void srec_data(il_subprocess_t *p, int fd, const void *data, size_t len,
                      void *ud) {
  srec_t *r = ud;
  if (p != r->p || r->closed || len == 0 || (fd != 1 && fd != 2) ||
      srec_has(r, fd == 1 ? EV_LOST1 : EV_LOST2) || !srec_has(r, EV_MADE) ||
      (fd == 1 && r->reading_paused))
    r->bad++;
  srec_event(r, fd == 1 ? EV_DATA1 : EV_DATA2);
  if (fd == 1 && r->verify) {
    const unsigned char *d = data;
    for (size_t i = 0; i < len; i++)
      if (d[i] != pattern_byte(r->nout + i))
        r->mismatches++;
    r->nout += len;
    if (r->pause_every && r->nout >= r->next_pause) {
      r->next_pause += r->pause_every;
      if (il_transport_pause_reading(il_subprocess_get_pipe_transport(p, 1)) !=
              0 ||
          il_loop_call_later(r->loop, 0.005, resume_stdout, r, NULL) != 0)
        r->bad++;
      r->reading_paused = 1;
      r->read_pauses++;
    }
    return;
  }
  buf_add(fd == 1 ? &r->out : &r->err, data, len);
  if (fd == 1 && r->want && r->out.len >= r->want)
    r->ready = 1;
}

static void srec_pipe_lost(il_subprocess_t *p, int fd, int error, void *ud) {
  srec_t *r = ud;
  if (p != r->p || r->closed || fd < 0 || fd > 2 ||
      srec_has(r, EV_LOST0 + fd) || !srec_has(r, EV_MADE))
    r->bad++;
  if (fd >= 0 && fd <= 2) {
    srec_event(r, EV_LOST0 + fd);
    r->pipe_error[fd] = error;
  }
}

static void srec_exited(il_subprocess_t *p, void *ud) {
  srec_t *r = ud;
  if (p != r->p || r->closed || srec_has(r, EV_EXITED) ||
      !srec_has(r, EV_MADE) || il_subprocess_returncode(p, &r->exit_rc) != 1)
    r->bad++;
  srec_event(r, EV_EXITED);
}

static void srec_lost(il_subprocess_t *p, int error, void *ud) {
  srec_t *r = ud;
  if (g_in_call || p != r->p || r->closed || !srec_has(r, EV_EXITED) ||
      !srec_has(r, EV_MADE))
    r->bad++;
  /* Every piped fd's pipe is lost first. */
  for (int fd = 0; fd < 3; fd++)
    if (il_subprocess_get_pipe_transport(p, fd) && !srec_has(r, EV_LOST0 + fd))
      r->bad++;
  srec_event(r, EV_CLOSED);
  r->closed = 1;
  r->closed_error = error;
}

static void srec_pause(il_subprocess_t *p, void *ud) {
  (void)p;
  feeder_flow(((srec_t *)ud)->feed, 1);
}

static void srec_resume(il_subprocess_t *p, void *ud) {
  (void)p;
  feeder_flow(((srec_t *)ud)->feed, 0);
}

static const il_subprocess_protocol_t srec_proto = {
    .size = sizeof(il_subprocess_protocol_t),
    .connection_made = srec_made,
    .pipe_data_received = srec_data,
    .pipe_connection_lost = srec_pipe_lost,
    .process_exited = srec_exited,
    .connection_lost = srec_lost,
    .pause_writing = srec_pause,
    .resume_writing = srec_resume,
};

/* Starts argv; the future completes after connection_made. Returns the
 * process with a reference of the test's (il_subprocess_unref). */
static il_subprocess_t *start(il_loop_t *loop, const char *const *argv,
                              const il_subprocess_options_t *o, srec_t *r) {
  il_future_t *f = NULL;
  assert_int_equal(
      IN_CALL(il_subprocess_exec(loop, argv, o, &srec_proto, r, &f)), 0);
  assert_non_null(f);
  assert_int_equal(r->nev, 0);
  void *v = NULL;
  assert_int_equal(run_until_done(loop, f, 10.0, &v), 0);
  assert_non_null(v);
  assert_int_equal(srec_has(r, EV_MADE), 1);
  il_subprocess_t *p = il_subprocess_ref(v);
  il_future_unref(f);
  assert_ptr_equal(p, r->p);
  assert_true(il_subprocess_pid(p) > 0);
  assert_ptr_equal(il_subprocess_loop(p), loop);
  return p;
}

/* As start with argv {"/bin/sh", "-c", cmd}. */
static il_subprocess_t *start_sh(il_loop_t *loop, const char *cmd,
                                 const il_subprocess_options_t *o, srec_t *r) {
  const char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
  return start(loop, argv, o, r);
}

/* Runs until connection_lost and checks the order of what came. */
static void wait_proc(il_loop_t *loop, il_subprocess_t *p, srec_t *r) {
  assert_true(il_test_run_until(loop, &r->closed, 10.0));
  assert_int_equal(r->bad, 0);
  assert_int_equal(r->ev[0], EV_MADE);
  assert_int_equal(r->ev[r->nev - 1], EV_CLOSED);
  assert_int_equal(il_subprocess_is_closing(p), 1);
  int rc = 12345;
  assert_int_equal(il_subprocess_returncode(p, &rc), 1);
  assert_int_equal(rc, r->exit_rc);
}

/* wait_proc, then drops the test's reference. */
static void finish_proc(il_loop_t *loop, il_subprocess_t *p, srec_t *r) {
  wait_proc(loop, p, r);
  il_subprocess_unref(p);
}

static void srec_free(srec_t *r) {
  buf_free(&r->out);
  buf_free(&r->err);
}

/* il_subprocess_options_t with each fd's mode. */
static il_subprocess_options_t stdio3(il_stdio_t in, il_stdio_t out,
                                      il_stdio_t err) {
  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.stdio[0] = in;
  o.stdio[1] = out;
  o.stdio[2] = err;
  return o;
}

/* ---- bodies run with each child watcher ---------------------------------- */

/* `sh -c 'exit 7'` by exec and `exit 5` by il_subprocess_shell; the wait
 * future gives the return code too. */
static void body_exit_code(il_loop_t *loop) {
  srec_t r = {0};
  il_subprocess_t *p = start_sh(loop, "exit 7", NULL, &r);
  il_future_t *w = NULL;
  assert_int_equal(il_subprocess_wait(p, &w), 0);
  finish_proc(loop, p, &r);
  assert_int_equal(r.exit_rc, 7);
  void *v = NULL;
  assert_int_equal(run_until_done(loop, w, 5.0, &v), 0);
  assert_int_equal((intptr_t)v, 7);
  il_future_unref(w);
  srec_free(&r);

  srec_t s = {0};
  il_future_t *f = NULL;
  assert_int_equal(
      il_subprocess_shell(loop, "exit 5", NULL, &srec_proto, &s, &f), 0);
  v = NULL;
  assert_int_equal(run_until_done(loop, f, 10.0, &v), 0);
  p = il_subprocess_ref(v);
  il_future_unref(f);
  wait_proc(loop, p, &s);
  assert_int_equal(s.exit_rc, 5);
  /* A wait future on an exited process is complete at once. */
  assert_int_equal(il_subprocess_wait(p, &w), 0);
  assert_int_equal(il_future_done(w), 1);
  assert_int_equal(il_future_result(w, &v), 0);
  assert_int_equal((intptr_t)v, 5);
  il_future_unref(w);
  il_subprocess_unref(p);
  srec_free(&s);
  assert_no_children(loop, 2.0);
}

/* 50 children at once, each with its own exit code and output, all reaped. */
static void body_50_at_once(il_loop_t *loop) {
  enum { N = 50 };
  srec_t *r = calloc(N, sizeof(*r));
  il_future_t *f[N];
  assert_non_null(r);
  il_subprocess_options_t o =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_PIPE, IL_STDIO_DEVNULL);
  for (int i = 0; i < N; i++) {
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "echo %d; exit %d", i, i + 100);
    const char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
    assert_int_equal(
        il_subprocess_exec(loop, argv, &o, &srec_proto, &r[i], &f[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    void *v = NULL;
    assert_int_equal(run_until_done(loop, f[i], 20.0, &v), 0);
    il_subprocess_ref(v);
  }
  for (int i = 0; i < N; i++) {
    il_subprocess_t *p = r[i].p;
    il_future_unref(f[i]);
    finish_proc(loop, p, &r[i]);
    char want[16];
    snprintf(want, sizeof(want), "%d\n", i);
    assert_string_equal(buf_str(&r[i].out), want);
    assert_int_equal(r[i].exit_rc, i + 100);
    srec_free(&r[i]);
  }
  free(r);
  assert_no_children(loop, 2.0);
}

/* Killed by a signal: returncode is minus the signal; terminate, kill and
 * send_signal; IL_ESRCH once exited; the return code reads 0 ("running")
 * until then. */
static void body_kill(il_loop_t *loop) {
  static const struct {
    int how; /* 0 terminate, 1 kill, 2 send_signal(SIGUSR1) */
    int want;
  } cases[] = {{0, -SIGTERM}, {1, -SIGKILL}, {2, -SIGUSR1}};
  il_subprocess_options_t o =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_DEVNULL, IL_STDIO_DEVNULL);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    srec_t r = {0};
    const char *const argv[] = {"sleep", "10", NULL};
    il_subprocess_t *p = start(loop, argv, &o, &r);
    int rc = 12345;
    assert_int_equal(il_subprocess_returncode(p, &rc), 0);
    assert_null(il_subprocess_get_pipe_transport(p, 0));
    int sent = cases[i].how == 0   ? il_subprocess_terminate(p)
               : cases[i].how == 1 ? il_subprocess_kill(p)
                                   : il_subprocess_send_signal(p, SIGUSR1);
    assert_int_equal(sent, 0);
    wait_proc(loop, p, &r);
    assert_int_equal(r.exit_rc, cases[i].want);
    assert_int_equal(il_subprocess_send_signal(p, SIGTERM), IL_ESRCH);
    assert_int_equal(il_subprocess_kill(p), IL_ESRCH);
    assert_int_equal(il_subprocess_terminate(p), IL_ESRCH);
    il_subprocess_unref(p);
  }
  assert_no_children(loop, 2.0);
}

/* ---- subprocesses -------------------------------------------------------- */

IL_CONFORMANCE_TEST(test_subprocess_exit_code) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int w = il_loop_get_child_watcher(ctx->loop);
  assert_true(w == IL_CHILD_WATCHER_PIDFD || w == IL_CHILD_WATCHER_SIGCHLD);
  body_exit_code(ctx->loop);
}

IL_CONFORMANCE_TEST(test_subprocess_killed_by_signal) {
  body_kill(il_test_ctx(state)->loop);
}

IL_CONFORMANCE_TEST(test_subprocess_50_at_once_reaped) {
  body_50_at_once(il_test_ctx(state)->loop);
}

/* connection_made first (before the future completes and before any data),
 * stdout and stderr apart, connection_lost last: after process_exited and
 * every pipe_connection_lost, with 0. */
IL_CONFORMANCE_TEST(test_subprocess_callback_order_stderr_separate) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  il_subprocess_t *p = start_sh(ctx->loop, "echo out; echo err >&2", NULL, &r);
  for (int fd = 0; fd < 3; fd++)
    assert_non_null(il_subprocess_get_pipe_transport(p, fd));
  assert_null(il_subprocess_get_pipe_transport(p, 3));
  assert_null(il_subprocess_get_pipe_transport(p, -1));
  assert_int_equal(il_subprocess_is_closing(p), 0);
  finish_proc(ctx->loop, p, &r);
  assert_string_equal(buf_str(&r.out), "out\n");
  assert_string_equal(buf_str(&r.err), "err\n");
  assert_int_equal(r.exit_rc, 0);
  assert_int_equal(r.closed_error, 0);
  for (int fd = 0; fd < 3; fd++) {
    assert_true(srec_has(&r, EV_LOST0 + fd));
    assert_int_equal(r.pipe_error[fd], 0);
  }
  assert_true(srec_has(&r, EV_DATA1) < srec_has(&r, EV_LOST1));
  assert_true(srec_has(&r, EV_DATA2) < srec_has(&r, EV_LOST2));
  srec_free(&r);
}

/* IL_STDIO_STDOUT: stderr goes where stdout goes; there is no fd 2 pipe. */
IL_CONFORMANCE_TEST(test_subprocess_stderr_merged) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  il_subprocess_options_t o =
      stdio3(IL_STDIO_PIPE, IL_STDIO_PIPE, IL_STDIO_STDOUT);
  il_subprocess_t *p =
      start_sh(ctx->loop, "echo out; echo err >&2; echo more", &o, &r);
  assert_null(il_subprocess_get_pipe_transport(p, 2));
  finish_proc(ctx->loop, p, &r);
  assert_string_equal(buf_str(&r.out), "out\nerr\nmore\n");
  assert_int_equal(r.err.len, 0);
  assert_false(srec_has(&r, EV_DATA2) || srec_has(&r, EV_LOST2));
  srec_free(&r);
}

/* Talking to cat: each line written to stdin comes back; write_eof on the
 * stdin pipe ends it: EOF on stdout, exit 0. */
IL_CONFORMANCE_TEST(test_subprocess_interactive_cat) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  const char *const argv[] = {"cat", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
  il_transport_t *in = il_subprocess_get_pipe_transport(p, 0);
  assert_non_null(in);
  assert_int_equal(il_transport_write(in, "hello\n", 6), 0);
  r.want = 6;
  assert_true(il_test_run_until(ctx->loop, &r.ready, 5.0));
  assert_string_equal(buf_str(&r.out), "hello\n");
  assert_false(srec_has(&r, EV_EXITED));
  assert_int_equal(il_transport_write(in, "second line\n", 12), 0);
  r.want = 18;
  r.ready = 0;
  assert_true(il_test_run_until(ctx->loop, &r.ready, 5.0));
  assert_int_equal(il_transport_write_eof(in), 0);
  finish_proc(ctx->loop, p, &r);
  assert_string_equal(buf_str(&r.out), "hello\nsecond line\n");
  assert_int_equal(r.exit_rc, 0);
  assert_int_equal(r.pipe_error[0], 0);
  assert_int_equal(r.pipe_error[1], 0);
  srec_free(&r);
}

/* fd 0 or 1 of this process replaced by a pipe for the time of a spawn
 * (IL_STDIO_INHERIT); restore_std puts the original back. */
static int swap_std(int stdfd, int with) {
  int saved = fcntl(stdfd, F_DUPFD_CLOEXEC, 10);
  assert_true(saved >= 0);
  assert_int_equal(dup2(with, stdfd), stdfd);
  return saved;
}

static void restore_std(int stdfd, int saved) {
  assert_int_equal(dup2(saved, stdfd), stdfd);
  close(saved);
}

/* IL_STDIO_DEVNULL: stdin reads EOF at once, output vanishes, no pipe;
 * IL_STDIO_INHERIT: the child uses this process's own fd 0 / fd 1. */
IL_CONFORMANCE_TEST(test_subprocess_devnull_and_inherit) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  srec_t a = {0};
  il_subprocess_options_t o =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_PIPE, IL_STDIO_DEVNULL);
  il_subprocess_t *p = start_sh(loop, "cat; echo rc=$?; echo gone >&2", &o, &a);
  assert_null(il_subprocess_get_pipe_transport(p, 0));
  assert_null(il_subprocess_get_pipe_transport(p, 2));
  finish_proc(loop, p, &a);
  assert_string_equal(buf_str(&a.out), "rc=0\n");
  assert_false(srec_has(&a, EV_LOST0) || srec_has(&a, EV_LOST2));
  srec_free(&a);

  /* Inherited stdin: what this process's fd 0 reads. */
  int in[2];
  make_pipe(in, 0);
  assert_int_equal(write(in[1], "from our stdin", 14), 14);
  close(in[1]);
  int saved = swap_std(0, in[0]);
  close(in[0]);
  srec_t b = {0};
  o = stdio3(IL_STDIO_INHERIT, IL_STDIO_PIPE, IL_STDIO_DEVNULL);
  const char *const cat[] = {"cat", NULL};
  p = start(loop, cat, &o, &b);
  restore_std(0, saved);
  finish_proc(loop, p, &b);
  assert_string_equal(buf_str(&b.out), "from our stdin");
  srec_free(&b);

  /* Inherited stdout: written to this process's fd 1. */
  int out[2];
  make_pipe(out, 0);
  fflush(stdout);
  saved = swap_std(1, out[1]);
  close(out[1]);
  srec_t c = {0};
  o = stdio3(IL_STDIO_DEVNULL, IL_STDIO_INHERIT, IL_STDIO_DEVNULL);
  p = start_sh(loop, "echo to our stdout", &o, &c);
  restore_std(1, saved);
  assert_null(il_subprocess_get_pipe_transport(p, 1));
  finish_proc(loop, p, &c);
  char got[64];
  int eof = 0;
  size_t n = raw_read(out[0], got, sizeof(got), &eof);
  assert_int_equal(eof, 1);
  assert_int_equal(n, 14);
  assert_memory_equal(got, "to our stdout\n", 14);
  close(out[0]);
  assert_int_equal(c.nev, 3); /* made, exited, closed */
  srec_free(&c);
}

/* env replaces the environment, cwd sets the working directory. */
IL_CONFORMANCE_TEST(test_subprocess_env_and_cwd) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  char dir[64];
  make_tmpdir(dir, sizeof(dir));
  char *real = realpath(dir, NULL); /* malloc'd: small frames (valgrind) */
  assert_non_null(real);
  const char *const env[] = {"FOO=bar baz", "OTHER=1", NULL};
  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.env = env;
  o.cwd = dir;
  srec_t r = {0};
  il_subprocess_t *p = start_sh(
      ctx->loop, "echo \"$FOO\"; echo \"${HOME:-no home}\"; pwd -P", &o, &r);
  finish_proc(ctx->loop, p, &r);
  buf_t want = {0};
  buf_add(&want, "bar baz\nno home\n", 16);
  buf_add(&want, real, strlen(real));
  buf_add(&want, "\n", 1);
  assert_string_equal(buf_str(&r.out), buf_str(&want));
  buf_free(&want);
  free(real);
  srec_free(&r);
  rmdir(dir);
}

/* The child's pid, process group and session from its /proc/self/stat. */
static void child_ids(il_loop_t *loop, unsigned flags, int pgid, int ids[3]) {
  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.flags = flags;
  o.pgid = pgid;
  srec_t r = {0};
  const char *const argv[] = {"cat", "/proc/self/stat", NULL};
  il_subprocess_t *p = start(loop, argv, &o, &r);
  int pid = il_subprocess_pid(p);
  finish_proc(loop, p, &r);
  const char *close_paren = strrchr(buf_str(&r.out), ')');
  assert_non_null(close_paren);
  char state;
  int ppid;
  assert_int_equal(
      sscanf(close_paren + 1, " %c %d %d %d", &state, &ppid, &ids[1], &ids[2]),
      4);
  ids[0] = atoi(buf_str(&r.out));
  assert_int_equal(ids[0], pid);
  assert_int_equal(ppid, (int)getpid());
  srec_free(&r);
}

/* IL_SPAWN_SETSID: a new session (and group) led by the child;
 * IL_SPAWN_SETPGID: a new group (pgid 0) or a given one, same session;
 * neither: ours. */
IL_CONFORMANCE_TEST(test_subprocess_setsid_setpgid) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int ids[3];
  child_ids(ctx->loop, 0, 0, ids);
  assert_int_equal(ids[1], (int)getpgrp());
  assert_int_equal(ids[2], (int)getsid(0));
  child_ids(ctx->loop, IL_SPAWN_SETSID, 0, ids);
  assert_int_equal(ids[1], ids[0]);
  assert_int_equal(ids[2], ids[0]);
  child_ids(ctx->loop, IL_SPAWN_SETPGID, 0, ids);
  assert_int_equal(ids[1], ids[0]);
  assert_int_equal(ids[2], (int)getsid(0));
  child_ids(ctx->loop, IL_SPAWN_SETPGID, (int)getpgrp(), ids);
  assert_int_equal(ids[1], (int)getpgrp());
}

/* 16 MiB of a pattern through cat: stdin written with flow control, stdout
 * read with reading paused and resumed every 2 MiB; every byte comes back in
 * order. */
IL_CONFORMANCE_TEST(test_subprocess_16mib_through_cat_paused) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  feeder_t f = {0};
  f.total = (size_t)16 << 20;
  f.use_write_eof = 1;
  r.feed = &f;
  r.verify = 1;
  r.pause_every = (size_t)2 << 20;
  r.next_pause = r.pause_every;
  r.loop = ctx->loop;
  const char *const argv[] = {"cat", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
  f.t = il_subprocess_get_pipe_transport(p, 0);
  feed(&f);
  assert_true(il_test_run_until(ctx->loop, &r.closed, 30.0));
  finish_proc(ctx->loop, p, &r);
  assert_int_equal(r.nout, f.total);
  assert_int_equal(r.mismatches, 0);
  assert_true(r.read_pauses >= 7);
  assert_true(f.pauses >= 1);
  assert_int_equal(r.exit_rc, 0);
  srec_free(&r);
}

/* A child that closes its stdout and lives on: pipe_connection_lost(1, 0)
 * comes before process_exited. */
IL_CONFORMANCE_TEST(test_subprocess_child_closes_stdout_early) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  il_subprocess_t *p =
      start_sh(ctx->loop, "exec 1>&-; sleep 0.2; exit 3", NULL, &r);
  finish_proc(ctx->loop, p, &r);
  assert_true(srec_has(&r, EV_LOST1) < srec_has(&r, EV_EXITED));
  assert_int_equal(r.pipe_error[1], 0);
  assert_int_equal(r.exit_rc, 3);
  srec_free(&r);
}

/* Starts argv expecting the spawn to fail with `want`: the future fails, no
 * protocol callback runs, no child and no process object is left. */
static void expect_exec_failure(il_loop_t *loop, const char *const *argv,
                                const il_subprocess_options_t *o, int want) {
  srec_t r = {0};
  il_future_t *f = NULL;
  assert_int_equal(il_subprocess_exec(loop, argv, o, &srec_proto, &r, &f), 0);
  assert_int_equal(run_until_done(loop, f, 10.0, NULL), want);
  il_future_unref(f);
  spin(loop, 0.01);
  assert_int_equal(r.nev, 0);
  assert_int_equal(count_children(), 0);
  assert_int_equal(processes_of(loop), 0);
}

/* The errno of a failed exec or chdir fails the future (never a child that
 * exits 127): no such program (by path and through PATH), a file that is not
 * executable, a cwd that does not exist or is not a directory. */
IL_CONFORMANCE_TEST(test_subprocess_exec_failure_errno) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  char dir[64], file[96];
  make_tmpdir(dir, sizeof(dir));
  snprintf(file, sizeof(file), "%s/not-executable", dir);
  int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
  close(fd);

  const char *const missing[] = {"/nonexistent/il-no-such-program", NULL};
  expect_exec_failure(loop, missing, NULL, IL_ENOENT);
  const char *const unknown[] = {"il-no-such-program-on-path", NULL};
  expect_exec_failure(loop, unknown, NULL, IL_ENOENT);
  const char *const noexec[] = {file, NULL};
  expect_exec_failure(loop, noexec, NULL, IL_EACCES);
  const char *const sh[] = {"/bin/sh", "-c", "exit 0", NULL};
  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.cwd = "/nonexistent/il-no-such-dir";
  expect_exec_failure(loop, sh, &o, IL_ENOENT);
  o.cwd = file;
  expect_exec_failure(loop, sh, &o, IL_ENOTDIR);
  unlink(file);
  rmdir(dir);
}

/* 200 short-lived children one after the other: each reaped, none left. */
IL_CONFORMANCE_TEST(test_subprocess_200_in_a_row_reaped) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  const char *const argv[] = {"true", NULL};
  for (int i = 0; i < 200; i++) {
    srec_t r = {0};
    il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
    finish_proc(ctx->loop, p, &r);
    assert_int_equal(r.exit_rc, 0);
    assert_int_equal(r.closed_error, 0);
    srec_free(&r);
  }
  assert_int_equal(processes_of(ctx->loop), 0);
  assert_int_equal(count_children(), 0);
}

/* The fds `ls /proc/self/fd` lists in a child started with `o`. */
static int child_fds(il_loop_t *loop, const il_subprocess_options_t *o,
                     int *fds, int cap) {
  srec_t r = {0};
  const char *const argv[] = {"ls", "/proc/self/fd", NULL};
  il_subprocess_t *p = start(loop, argv, o, &r);
  finish_proc(loop, p, &r);
  assert_int_equal(r.exit_rc, 0);
  int n = 0;
  for (const char *s = buf_str(&r.out); *s;) {
    assert_true(n < cap);
    fds[n++] = (int)strtol(s, (char **)&s, 10);
    while (*s == '\n' || *s == ' ')
      s++;
  }
  srec_free(&r);
  return n;
}

static int has_fd(const int *fds, int n, int fd) {
  for (int i = 0; i < n; i++)
    if (fds[i] == fd)
      return 1;
  return 0;
}

/* A child gets 0, 1, 2 (and the fd ls opens itself): no fd of interloop,
 * no inherited fd without close-on-exec, unless passed (pass_fds) or kept
 * (IL_SPAWN_KEEP_FDS). */
IL_CONFORMANCE_TEST(test_subprocess_no_fd_leak_to_child) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int devnull = open("/dev/null", O_RDONLY);
  assert_true(devnull >= 0);
  int extra = fcntl(devnull, F_DUPFD, 60); /* no close-on-exec */
  assert_true(extra >= 60);
  close(devnull);
  /* Another child's pipes are open meanwhile. */
  srec_t other = {0};
  const char *const cat[] = {"cat", NULL};
  il_subprocess_t *op = start(ctx->loop, cat, NULL, &other);

  int fds[64];
  int n = child_fds(ctx->loop, NULL, fds, 64);
  assert_true(n >= 3 && n <= 5);
  for (int i = 0; i < n; i++)
    assert_true(fds[i] <= 4);
  assert_true(has_fd(fds, n, 0) && has_fd(fds, n, 1) && has_fd(fds, n, 2));

  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.pass_fds = &extra;
  o.npass_fds = 1;
  n = child_fds(ctx->loop, &o, fds, 64);
  assert_true(has_fd(fds, n, extra));
  for (int i = 0; i < n; i++)
    assert_true(fds[i] <= 4 || fds[i] == extra);

  o = (il_subprocess_options_t)IL_SUBPROCESS_OPTIONS_INIT;
  o.flags = IL_SPAWN_KEEP_FDS;
  n = child_fds(ctx->loop, &o, fds, 64);
  assert_true(has_fd(fds, n, extra));

  assert_int_equal(
      il_transport_write_eof(il_subprocess_get_pipe_transport(op, 0)), 0);
  finish_proc(ctx->loop, op, &other);
  srec_free(&other);
  close(extra);
}

/* il_subprocess_close on a running child: the pipes close, the child is
 * killed (SIGKILL) and reaped, then connection_lost(0); a second close does
 * nothing. */
IL_CONFORMANCE_TEST(test_subprocess_close_kills_running) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  const char *const argv[] = {"sleep", "10", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
  assert_int_equal(IN_CALL(il_subprocess_close(p)), 0);
  assert_int_equal(il_subprocess_is_closing(p), 1);
  assert_int_equal(il_subprocess_close(p), 0);
  finish_proc(ctx->loop, p, &r);
  assert_int_equal(r.exit_rc, -SIGKILL);
  assert_int_equal(r.closed_error, 0);
  for (int fd = 0; fd < 3; fd++) {
    assert_true(srec_has(&r, EV_LOST0 + fd));
    assert_int_equal(r.pipe_error[fd], 0);
  }
  srec_free(&r);
  assert_no_children(ctx->loop, 2.0);
}

/* il_loop_close with a child running kills and reaps it; the protocol's
 * connection_lost reports IL_ECLOSED; no zombie is left. */
IL_CONFORMANCE_TEST(test_subprocess_loop_close_kills_and_reaps) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = il_test_loop_new(ctx);
  srec_t r = {0}, q = {0};
  const char *const argv[] = {"sleep", "10", NULL};
  il_subprocess_t *p = start(loop, argv, NULL, &r);
  /* And one whose connection_made has not run yet. */
  il_future_t *f = NULL;
  assert_int_equal(il_subprocess_exec(loop, argv, NULL, &srec_proto, &q, &f),
                   0);
  assert_int_equal(il_loop_close(loop), 0);
  srec_t *both[2] = {&r, &q};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(both[i]->bad, 0);
    assert_int_equal(both[i]->ev[0], EV_MADE);
    assert_int_equal(both[i]->closed, 1);
    assert_int_equal(both[i]->ev[both[i]->nev - 1], EV_CLOSED);
    assert_int_equal(both[i]->closed_error, IL_ECLOSED);
    assert_int_equal(both[i]->exit_rc, -SIGKILL);
    for (int fd = 0; fd < 3; fd++) {
      assert_true(srec_has(both[i], EV_LOST0 + fd));
      assert_int_equal(both[i]->pipe_error[fd], IL_ECLOSED);
    }
  }
  il_subprocess_unref(p);
  assert_int_equal(il_future_done(f), 1);
  il_future_error(f, NULL);
  il_future_unref(f);
  assert_int_equal(count_children(), 0);
  srec_free(&r);
  srec_free(&q);
}

/* Cancelling the exec future before it completes closes the process: the
 * protocol still gets connection_made, then connection_lost; the child is
 * killed and reaped, nothing is left. */
IL_CONFORMANCE_TEST(test_subprocess_exec_future_cancelled) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  const char *const argv[] = {"sleep", "10", NULL};
  il_future_t *f = NULL;
  assert_int_equal(
      il_subprocess_exec(ctx->loop, argv, NULL, &srec_proto, &r, &f), 0);
  assert_int_equal(il_future_cancel(f, "no need"), 1);
  assert_int_equal(il_future_cancelled(f), 1);
  il_future_unref(f);
  run_until_no_processes(ctx->loop, 5.0);
  assert_int_equal(r.bad, 0);
  assert_int_equal(r.ev[0], EV_MADE);
  assert_int_equal(r.closed, 1);
  assert_int_equal(r.exit_rc, -SIGKILL);
  assert_no_children(ctx->loop, 2.0);
  srec_free(&r);
}

static void *exec_elsewhere(void *arg) {
  foreign_call_t *c = arg;
  const char *const argv[] = {"true", NULL};
  il_future_t *f = NULL;
  c->rc = il_subprocess_exec(c->loop, argv, NULL, &srec_proto, NULL, &f);
  return NULL;
}

/* Bad arguments: IL_EINVAL (and NULL-safe queries); another thread:
 * IL_EWRONGTHREAD; nothing is started. */
IL_CONFORMANCE_TEST(test_subprocess_bad_arguments_einval) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  srec_t r = {0};
  il_future_t *f = NULL;
  const char *const argv[] = {"true", NULL};
  const char *const empty[] = {NULL};
  const il_subprocess_protocol_t *pr = &srec_proto;
  assert_int_equal(il_subprocess_exec(NULL, argv, NULL, pr, &r, &f), IL_EINVAL);
  assert_int_equal(il_subprocess_exec(loop, NULL, NULL, pr, &r, &f), IL_EINVAL);
  assert_int_equal(il_subprocess_exec(loop, empty, NULL, pr, &r, &f),
                   IL_EINVAL);
  assert_int_equal(il_subprocess_exec(loop, argv, NULL, NULL, &r, &f),
                   IL_EINVAL);
  assert_int_equal(il_subprocess_exec(loop, argv, NULL, pr, &r, NULL),
                   IL_EINVAL);
  assert_int_equal(il_subprocess_shell(loop, NULL, NULL, pr, &r, &f),
                   IL_EINVAL);
  il_subprocess_options_t o = IL_SUBPROCESS_OPTIONS_INIT;
  o.stdio[1] = (il_stdio_t)99;
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = stdio3(IL_STDIO_STDOUT, IL_STDIO_PIPE, IL_STDIO_PIPE);
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = stdio3(IL_STDIO_PIPE, IL_STDIO_FD, IL_STDIO_PIPE); /* stdio_fd[1] -1 */
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = (il_subprocess_options_t)IL_SUBPROCESS_OPTIONS_INIT;
  o.npass_fds = 1; /* pass_fds NULL */
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o.npass_fds = -1;
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = stdio3(IL_STDIO_PIPE, IL_STDIO_STDOUT, IL_STDIO_PIPE);
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = (il_subprocess_options_t)IL_SUBPROCESS_OPTIONS_INIT;
  o.flags = 0x100; /* unknown */
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o.flags = IL_SPAWN_SETPGID;
  o.pgid = -1;
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  o = (il_subprocess_options_t)IL_SUBPROCESS_OPTIONS_INIT;
  o.size = 0;
  assert_int_equal(il_subprocess_exec(loop, argv, &o, pr, &r, &f), IL_EINVAL);
  foreign_call_t c = {loop, -1, 0};
  on_other_thread(loop, exec_elsewhere, &c);
  assert_int_equal(c.rc, IL_EWRONGTHREAD);
  spin(loop, 0.01);
  assert_int_equal(r.nev, 0);
  assert_int_equal(count_children(), 0);
  assert_int_equal(processes_of(loop), 0);

  int rc = 0;
  assert_int_equal(il_subprocess_pid(NULL), IL_EINVAL);
  assert_int_equal(il_subprocess_returncode(NULL, &rc), IL_EINVAL);
  assert_int_equal(il_subprocess_send_signal(NULL, SIGTERM), IL_EINVAL);
  assert_int_equal(il_subprocess_terminate(NULL), IL_EINVAL);
  assert_int_equal(il_subprocess_kill(NULL), IL_EINVAL);
  assert_null(il_subprocess_get_pipe_transport(NULL, 0));
  assert_int_equal(il_subprocess_close(NULL), IL_EINVAL);
  assert_int_equal(il_subprocess_wait(NULL, &f), IL_EINVAL);
  assert_null(il_subprocess_loop(NULL));
  assert_null(il_subprocess_ref(NULL));
  il_subprocess_unref(NULL);
  assert_int_equal(il_loop_set_child_watcher(NULL, IL_CHILD_WATCHER_AUTO),
                   IL_EINVAL);
  assert_int_equal(il_loop_set_child_watcher(loop, (il_child_watcher_t)99),
                   IL_EINVAL);
  assert_int_equal(il_loop_get_child_watcher(NULL), IL_EINVAL);

  /* On a running child: a bad signal number, a NULL returncode pointer. */
  srec_t s = {0};
  const char *const sleeper[] = {"sleep", "10", NULL};
  il_subprocess_t *p = start(loop, sleeper, NULL, &s);
  assert_int_equal(il_subprocess_send_signal(p, -1), IL_EINVAL);
  assert_int_equal(il_subprocess_send_signal(p, 100000), IL_EINVAL);
  assert_int_equal(il_subprocess_returncode(p, NULL), IL_EINVAL);
  assert_int_equal(il_subprocess_wait(p, NULL), IL_EINVAL);
  assert_int_equal(il_subprocess_close(p), 0);
  finish_proc(loop, p, &s);
  srec_free(&s);
}

/* The child starts with an empty signal mask, whatever this thread blocks.
 */
IL_CONFORMANCE_TEST(test_subprocess_child_signal_mask_empty) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGHUP);
  assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
  srec_t r = {0};
  const char *const argv[] = {"cat", "/proc/self/status", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
  finish_proc(ctx->loop, p, &r);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  const char *blk = strstr(buf_str(&r.out), "SigBlk:");
  assert_non_null(blk);
  assert_int_equal(strtoull(blk + 7, NULL, 16), 0);
  srec_free(&r);
}

/* The wait future completes when the child exits, not when its pipes close
 * (here a grandchild holds stdout open a while longer). */
IL_CONFORMANCE_TEST(test_subprocess_wait_ignores_pipes) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  il_subprocess_t *p = start_sh(ctx->loop, "sleep 0.3 & exit 6", NULL, &r);
  il_future_t *w = NULL;
  assert_int_equal(il_subprocess_wait(p, &w), 0);
  void *v = NULL;
  assert_int_equal(run_until_done(ctx->loop, w, 5.0, &v), 0);
  assert_int_equal((intptr_t)v, 6);
  assert_int_equal(r.closed, 0); /* stdout still open */
  assert_false(srec_has(&r, EV_LOST1));
  il_future_unref(w);
  finish_proc(ctx->loop, p, &r);
  assert_int_equal(r.exit_rc, 6);
  srec_free(&r);
}

/* A child that exits while stdin still has data buffered for it:
 * pipe_connection_lost(0, IL_EPIPE). */
IL_CONFORMANCE_TEST(test_subprocess_stdin_reader_gone_epipe) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  srec_t r = {0};
  il_subprocess_options_t o =
      stdio3(IL_STDIO_PIPE, IL_STDIO_PIPE, IL_STDIO_DEVNULL);
  const char *const argv[] = {"head", "-c", "10", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, &o, &r);
  il_transport_t *in = il_subprocess_get_pipe_transport(p, 0);
  size_t total = (size_t)1 << 20;
  unsigned char *data = malloc(total);
  assert_non_null(data);
  pattern_fill(data, 0, total);
  assert_int_equal(il_transport_write(in, data, total), 0);
  assert_true(il_transport_get_write_buffer_size(in) > 0);
  finish_proc(ctx->loop, p, &r);
  assert_int_equal(r.out.len, 10);
  assert_memory_equal(r.out.p, data, 10);
  assert_int_equal(r.pipe_error[0], IL_EPIPE);
  assert_int_equal(r.pipe_error[1], 0);
  assert_int_equal(r.exit_rc, 0);
  free(data);
  srec_free(&r);
}

/* ---- the child watcher --------------------------------------------------- */

static void use_sigchld(il_loop_t *loop) {
  assert_int_equal(il_loop_set_child_watcher(loop, IL_CHILD_WATCHER_SIGCHLD),
                   0);
  assert_int_equal(il_loop_get_child_watcher(loop), IL_CHILD_WATCHER_SIGCHLD);
}

/* Round i of a test run with each watcher: sets pidfd (i 0) or SIGCHLD
 * (i 1); 0 when pidfd is not available here (an old kernel, valgrind). */
static int use_watcher(il_loop_t *loop, int i) {
  if (i == 0) {
    int rc = il_loop_set_child_watcher(loop, IL_CHILD_WATCHER_PIDFD);
    if (rc == IL_ENOTSUP)
      return 0;
    assert_int_equal(rc, 0);
  } else {
    use_sigchld(loop);
  }
  return 1;
}

IL_CONFORMANCE_TEST(test_subprocess_sigchld_exit_code) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  use_sigchld(loop);
  body_exit_code(loop);
}

IL_CONFORMANCE_TEST(test_subprocess_sigchld_50_at_once) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  use_sigchld(loop);
  body_50_at_once(loop);
}

IL_CONFORMANCE_TEST(test_subprocess_sigchld_killed_by_signal) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  use_sigchld(loop);
  body_kill(loop);
}

/* The watcher can change only while the loop has no running child. */
IL_CONFORMANCE_TEST(test_subprocess_watcher_busy_with_child) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int before = il_loop_get_child_watcher(ctx->loop);
  srec_t r = {0};
  const char *const argv[] = {"sleep", "10", NULL};
  il_subprocess_t *p = start(ctx->loop, argv, NULL, &r);
  assert_int_equal(
      il_loop_set_child_watcher(ctx->loop, IL_CHILD_WATCHER_SIGCHLD), IL_EBUSY);
  assert_int_equal(il_loop_set_child_watcher(ctx->loop, IL_CHILD_WATCHER_AUTO),
                   IL_EBUSY);
  assert_int_equal(il_loop_get_child_watcher(ctx->loop), before);
  assert_int_equal(il_subprocess_kill(p), 0);
  finish_proc(ctx->loop, p, &r);
  srec_free(&r);
  use_sigchld(ctx->loop);
}

/* Whichever watcher reaps, a child the application forked itself keeps its
 * exit status for the application's own waitpid, also when it exits while
 * interloop's child is being watched. */
IL_CONFORMANCE_TEST(test_subprocess_watcher_spares_foreign_child) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  for (int i = 0; i < 2; i++) {
    if (!use_watcher(ctx->loop, i))
      continue;
    fflush(stdout);
    pid_t mine = fork();
    assert_true(mine >= 0);
    if (mine == 0) {
      il_test_sleep(0.05);
      _exit(42);
    }
    srec_t r = {0};
    il_subprocess_options_t o =
        stdio3(IL_STDIO_DEVNULL, IL_STDIO_DEVNULL, IL_STDIO_DEVNULL);
    il_subprocess_t *p = start_sh(ctx->loop, "sleep 0.3; exit 9", &o, &r);
    finish_proc(ctx->loop, p, &r);
    assert_int_equal(r.exit_rc, 9);
    int status = 0;
    assert_int_equal(waitpid(mine, &status, 0), mine);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
    srec_free(&r);
  }
}

/* The application reaping interloop's child itself breaks the rule: the
 * loop's error handler gets IL_ECHILD and the return code is 255 (with
 * either watcher). */
IL_CONFORMANCE_TEST(test_subprocess_reaped_elsewhere_echild) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_test_allow_errors(ctx);
  int rounds = 0;
  for (int i = 0; i < 2; i++) {
    if (!use_watcher(ctx->loop, i))
      continue;
    rounds++;
    srec_t r = {0};
    il_subprocess_options_t o =
        stdio3(IL_STDIO_PIPE, IL_STDIO_DEVNULL, IL_STDIO_DEVNULL);
    const char *const argv[] = {"head", "-c", "1", NULL};
    il_subprocess_t *p = start(ctx->loop, argv, &o, &r);
    /* It exits once it read its byte: reaped here, with no loop pass. */
    assert_int_equal(
        il_transport_write(il_subprocess_get_pipe_transport(p, 0), "x", 1), 0);
    int status;
    assert_int_equal(waitpid(il_subprocess_pid(p), &status, 0),
                     il_subprocess_pid(p));
    finish_proc(ctx->loop, p, &r);
    assert_int_equal(r.exit_rc, 255);
    srec_free(&r);
  }
  assert_int_equal(ctx->nerrors, rounds);
  for (int i = 0; i < ctx->nerrors; i++) {
    assert_int_equal(ctx->errors[i].code, IL_ECHILD);
    assert_int_equal(ctx->errors[i].source, IL_SOURCE_PROCESS);
  }
}

/* A child whose stdout is a PTY slave (IL_STDIO_FD), read through the
 * master: its output, then end of file once it exits. */
IL_CONFORMANCE_TEST(test_subprocess_stdout_pty_slave) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int m, s;
  open_pty(&m, &s);
  prec_t pr = {0};
  pipe_rec(ctx->loop, m, 0, &pr);
  il_subprocess_options_t o =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_FD, IL_STDIO_DEVNULL);
  o.stdio_fd[1] = s;
  srec_t r = {0};
  il_subprocess_t *p =
      start_sh(ctx->loop, "echo through the pty; exit 2", &o, &r);
  close(s); /* the child has its copy */
  assert_null(il_subprocess_get_pipe_transport(p, 1));
  finish_proc(ctx->loop, p, &r);
  assert_int_equal(r.exit_rc, 2);
  assert_int_equal(r.nev, 3); /* made, exited, closed */
  run_until_lost(ctx->loop, &pr);
  assert_int_equal(pr.lost_error, 0);
  assert_string_equal(buf_str(&pr.in), "through the pty\n");
  buf_free(&pr.in);
  srec_free(&r);
}

/* ---- for tasks ----------------------------------------------------------- */

/* Runs fn(task, loop) until it is done (failing after `seconds`), then
 * asserts the checks made inside it. */
static void run_task(il_loop_t *loop, il_task_fn fn, double seconds) {
  il_task_t *t = spawn(loop, fn, loop);
  assert_int_equal(run_until_done(loop, t, seconds, NULL), 0);
  il_future_unref(t);
  assert_checks();
}

static int streq_n(const char *s, size_t len, const char *want) {
  return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

static int t_run_output(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_process_result_t res = IL_PROCESS_RESULT_INIT;
  const char *const sh[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 4",
                            NULL};
  CHECK_EQ(il_process_run(loop, sh, NULL, &res), 0);
  CHECK_EQ(res.returncode, 4);
  CHECK(streq_n(res.out, res.out_len, "out\n"));
  CHECK(streq_n(res.err, res.err_len, "err\n"));
  il_process_result_free(&res);
  CHECK(res.out == NULL && res.err == NULL);
  il_process_result_free(NULL);

  /* stdin is /dev/null by default; with `input`, a pipe fed with it (here
   * more than a pipe holds, while the output is read). */
  const char *const cat[] = {"cat", NULL};
  CHECK_EQ(il_process_run(loop, cat, NULL, &res), 0);
  CHECK(res.out != NULL && res.out_len == 0 && res.out[0] == '\0');
  CHECK_EQ(res.returncode, 0);
  il_process_result_free(&res);
  il_process_run_options_t o = IL_PROCESS_RUN_OPTIONS_INIT;
  size_t big = (size_t)1 << 20;
  unsigned char *data = malloc(big);
  CHECK(data != NULL);
  if (!data)
    return 0;
  pattern_fill(data, 0, big);
  o.input = data;
  o.input_len = big;
  CHECK_EQ(il_process_run(loop, cat, &o, &res), 0);
  CHECK_EQ(res.out_len, big);
  CHECK(res.out && memcmp(res.out, data, big) == 0);
  CHECK(res.err != NULL && res.err_len == 0);
  il_process_result_free(&res);
  free(data);
  return 0;
}

/* il_process_run: stdout and stderr captured (NUL-terminated), the return
 * code, stdin /dev/null or fed with `input`. */
IL_CONFORMANCE_TEST(test_process_run_output_and_input) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  run_task(loop, t_run_output, 20.0);
  assert_no_children(loop, 2.0);
}

static int t_run_limit_timeout(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_process_result_t res = IL_PROCESS_RESULT_INIT;
  il_process_run_options_t o = IL_PROCESS_RUN_OPTIONS_INIT;
  o.limit = 1000;
  const char *const head[] = {"head", "-c", "100000", "/dev/zero", NULL};
  CHECK_EQ(il_process_run(loop, head, &o, &res), IL_ELIMIT);
  CHECK_EQ(res.out_len, 1000);
  CHECK_EQ(res.returncode, 0);
  CHECK(res.out && res.out[1000] == '\0');
  il_process_result_free(&res);

  o = (il_process_run_options_t)IL_PROCESS_RUN_OPTIONS_INIT;
  o.timeout = 0.2;
  const char *const sh[] = {"/bin/sh", "-c", "echo before; exec sleep 10",
                            NULL};
  double t0 = il_loop_time(loop);
  CHECK_EQ(il_process_run(loop, sh, &o, &res), IL_ETIMEDOUT);
  double took = il_loop_time(loop) - t0;
  CHECK(took >= 0.19 && took < 5.0);
  CHECK_EQ(res.returncode, -SIGKILL);
  CHECK(streq_n(res.out, res.out_len, "before\n"));
  il_process_result_free(&res);
  return 0;
}

/* il_process_run: output beyond `limit` is dropped (IL_ELIMIT, the child
 * still runs to its end); the timeout kills the child (IL_ETIMEDOUT); both
 * fill the result. */
IL_CONFORMANCE_TEST(test_process_run_limit_and_timeout) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  run_task(loop, t_run_limit_timeout, 20.0);
  assert_no_children(loop, 2.0);
}

static int t_run_spawn_error(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_process_result_t res;
  memset(&res, 0x5a, sizeof(res));
  res.size = sizeof(res);
  const char *const missing[] = {"/nonexistent/il-no-such-program", NULL};
  CHECK_EQ(il_process_run(loop, missing, NULL, &res), IL_ENOENT);
  CHECK(res.out == NULL && res.err == NULL);
  CHECK(res.out_len == 0 && res.err_len == 0 && res.returncode == 0);
  CHECK_EQ(il_process_run(loop, NULL, NULL, &res), IL_EINVAL);
  CHECK_EQ(il_process_run(loop, missing, NULL, NULL), IL_EINVAL);
  il_process_result_t unsized = {0};
  CHECK_EQ(il_process_run(loop, missing, NULL, &unsized), IL_EINVAL);
  il_subprocess_options_t so =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_PIPE, IL_STDIO_PIPE);
  il_process_run_options_t o = IL_PROCESS_RUN_OPTIONS_INIT;
  o.spawn = &so;
  o.input = "x"; /* with stdin not piped */
  o.input_len = 1;
  const char *const cat[] = {"cat", NULL};
  CHECK_EQ(il_process_run(loop, cat, &o, &res), IL_EINVAL);
  return 0;
}

/* il_process_run: a spawn error is returned with the result zeroed; outside
 * a task: IL_ENOTASK. */
IL_CONFORMANCE_TEST(test_process_run_spawn_error) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  run_task(loop, t_run_spawn_error, 10.0);
  il_process_result_t res = IL_PROCESS_RESULT_INIT;
  const char *const argv[] = {"true", NULL};
  assert_int_equal(il_process_run(loop, argv, NULL, &res), IL_ENOTASK);
  assert_int_equal(processes_of(loop), 0);
  assert_int_equal(count_children(), 0);
}

static int t_run_cancelled(il_task_t *self, void *arg) {
  il_loop_t *loop = arg;
  (void)self;
  il_process_result_t res;
  memset(&res, 0x5a, sizeof(res));
  res.size = sizeof(res);
  const char *const argv[] = {"sleep", "10", NULL};
  CHECK_EQ(il_process_run(loop, argv, NULL, &res), IL_ECANCELED);
  CHECK(res.out == NULL && res.err == NULL && res.returncode == 0);
  return 0;
}

/* Cancelling a task in il_process_run: IL_ECANCELED, the result zeroed, the
 * child killed and reaped in the background. */
IL_CONFORMANCE_TEST(test_process_run_cancelled_kills_child) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  il_task_t *t = spawn(loop, t_run_cancelled, loop);
  while (processes_of(loop) == 0)
    spin(loop, 0.01);
  spin(loop, 0.05);
  assert_int_equal(il_task_cancel(t, NULL), 1);
  run_until_done(loop, t, 10.0, NULL);
  il_future_unref(t);
  assert_checks();
  run_until_no_processes(loop, 5.0);
  assert_no_children(loop, 2.0);
}

static int t_open_cat(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_subprocess_t *p = NULL;
  il_stream_writer_t *in = NULL;
  il_stream_reader_t *out = NULL, *err = NULL;
  const char *const cat[] = {"cat", NULL};
  CHECK_EQ(il_process_open(loop, cat, NULL, 0, &p, NULL, &out, &err),
           IL_EINVAL); /* stdin is piped: `in` is needed */
  CHECK_EQ(il_process_open(loop, cat, NULL, 0, &p, &in, &out, &err), 0);
  if (!p)
    return 0;
  CHECK_EQ(il_stream_write(in, "one\ntwo\n", 8), 0);
  char *line = NULL;
  size_t len = 0;
  CHECK_EQ(il_stream_readline(out, &line, &len), 0);
  CHECK(streq_n(line, len, "one\n"));
  free(line);
  CHECK_EQ(il_stream_readline(out, &line, &len), 0);
  CHECK(streq_n(line, len, "two\n"));
  free(line);
  CHECK_EQ(il_stream_write(in, "three", 5), 0);
  CHECK_EQ(il_stream_drain(in), 0);
  CHECK_EQ(il_stream_close(in), 0); /* EOF for cat */
  CHECK_EQ(il_stream_readline(out, &line, &len), 0);
  CHECK(streq_n(line, len, "three"));
  free(line);
  CHECK_EQ(il_stream_readline(out, &line, &len), 0);
  CHECK_EQ(len, 0);
  free(line);
  CHECK_EQ(il_stream_at_eof(out), 1);
  char c;
  size_t n = 1;
  CHECK_EQ(il_stream_read(err, &c, 1, &n), 0);
  CHECK_EQ(n, 0);
  int rc = -1;
  CHECK_EQ(il_process_wait(p, &rc), 0);
  CHECK_EQ(rc, 0);
  il_stream_release(NULL, in);
  il_stream_release(out, NULL);
  il_stream_release(err, NULL);
  il_subprocess_unref(p);
  return 0;
}

/* il_process_open: the child's stdin as a writer, stdout and stderr as
 * readers (readline); closing the writer sends EOF; il_process_wait gives
 * the return code. */
IL_CONFORMANCE_TEST(test_process_open_streams_cat) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  run_task(loop, t_open_cat, 10.0);
  run_until_no_processes(loop, 5.0);
  assert_no_children(loop, 2.0);
}

typedef struct waiter {
  il_subprocess_t *p;
  int rc, code;
} waiter_t;

static int t_wait(il_task_t *self, void *arg) {
  (void)self;
  waiter_t *w = arg;
  w->rc = il_process_wait(w->p, &w->code);
  return 0;
}

static int t_wait_cancelled(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_subprocess_t *p = NULL;
  il_subprocess_options_t o =
      stdio3(IL_STDIO_DEVNULL, IL_STDIO_DEVNULL, IL_STDIO_DEVNULL);
  const char *const argv[] = {"sleep", "10", NULL};
  CHECK_EQ(il_process_open(loop, argv, &o, 0, &p, NULL, NULL, NULL), 0);
  if (!p)
    return 0;
  waiter_t w = {p, 1, 12345};
  il_task_t *t = NULL;
  CHECK_EQ(il_task_spawn(loop, t_wait, &w, NULL, &t), 0);
  CHECK_EQ(il_sleep(loop, 0.05), 0);
  CHECK_EQ(il_task_cancel(t, NULL), 1);
  il_await(t, NULL);
  il_future_unref(t);
  CHECK_EQ(w.rc, IL_ECANCELED);
  int rc = 1;
  CHECK_EQ(il_subprocess_returncode(p, &rc), 0); /* left alone: running */
  CHECK_EQ(il_subprocess_kill(p), 0);
  CHECK_EQ(il_process_wait(p, &rc), 0);
  CHECK_EQ(rc, -SIGKILL);
  il_subprocess_unref(p);
  CHECK_EQ(il_process_wait(NULL, &rc), IL_EINVAL);
  return 0;
}

/* Cancelling a task in il_process_wait: IL_ECANCELED, the child left
 * running; outside a task: IL_ENOTASK. */
IL_CONFORMANCE_TEST(test_process_wait_cancelled) {
  il_loop_t *loop = il_test_ctx(state)->loop;
  run_task(loop, t_wait_cancelled, 10.0);
  run_until_no_processes(loop, 5.0);
  srec_t r = {0};
  const char *const argv[] = {"true", NULL};
  il_subprocess_t *p = start(loop, argv, NULL, &r);
  int rc = 0;
  assert_int_equal(il_process_wait(p, &rc), IL_ENOTASK);
  finish_proc(loop, p, &r);
  srec_free(&r);
  assert_no_children(loop, 2.0);
}

/* ---- nothing left behind ------------------------------------------------- */

static int t_mix(il_task_t *self, void *arg) {
  (void)self;
  il_loop_t *loop = arg;
  il_process_result_t res = IL_PROCESS_RESULT_INIT;
  const char *const sh[] = {"/bin/sh", "-c", "echo mixed; cat >/dev/null",
                            NULL};
  il_process_run_options_t o = IL_PROCESS_RUN_OPTIONS_INIT;
  o.input = "x";
  o.input_len = 1;
  CHECK_EQ(il_process_run(loop, sh, &o, &res), 0);
  CHECK(streq_n(res.out, res.out_len, "mixed\n"));
  il_process_result_free(&res);
  const char *const missing[] = {"/nonexistent/il-no-such-program", NULL};
  CHECK_EQ(il_process_run(loop, missing, NULL, &res), IL_ENOENT);
  return 0;
}

/* After a mix of pipes, children (finished, failed, closed, killed) and the
 * task helpers: the process has the same open fds as before and no child
 * (no zombie). */
IL_CONFORMANCE_TEST(test_process_no_zombies_no_fd_leaks) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  il_loop_t *loop = ctx->loop;
  int before[256], after[256];
  int nbefore = list_fds(before, 256);

  int fds[2];
  make_pipe(fds, 0);
  prec_t rd = {0}, wr = {0};
  pipe_rec(loop, fds[0], 0, &rd);
  pipe_rec(loop, fds[1], 1, &wr);
  assert_int_equal(il_transport_write(wr.t, "x", 1), 0);
  assert_int_equal(il_transport_close(wr.t), 0);
  run_until_lost(loop, &rd);
  run_until_lost(loop, &wr);
  buf_free(&rd.in);

  srec_t a = {0}, b = {0}, c = {0};
  const char *const cat[] = {"cat", NULL};
  il_subprocess_t *pa = start(loop, cat, NULL, &a);
  const char *const sleeper[] = {"sleep", "10", NULL};
  il_subprocess_t *pb = start(loop, sleeper, NULL, &b);
  il_subprocess_t *pc = start(loop, sleeper, NULL, &c);
  assert_int_equal(
      il_transport_write(il_subprocess_get_pipe_transport(pa, 0), "y\n", 2), 0);
  assert_int_equal(il_subprocess_close(pa), 0);
  assert_int_equal(il_subprocess_close(pb), 0);
  assert_int_equal(il_subprocess_terminate(pc), 0);
  finish_proc(loop, pa, &a);
  finish_proc(loop, pb, &b);
  finish_proc(loop, pc, &c);
  srec_free(&a);
  srec_free(&b);
  srec_free(&c);
  const char *const missing[] = {"/nonexistent/il-no-such-program", NULL};
  expect_exec_failure(loop, missing, NULL, IL_ENOENT);

  run_task(loop, t_mix, 10.0);

  run_until_no_processes(loop, 5.0);
  assert_no_children(loop, 2.0);
  int nafter = list_fds(after, 256);
  assert_int_equal(nafter, nbefore);
  assert_memory_equal(after, before, (size_t)nbefore * sizeof(int));
}
