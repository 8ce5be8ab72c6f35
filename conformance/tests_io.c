/* conformance/tests_io.c — SPEC.md §4.6: readers and writers on fds. */
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct reader {
  int calls;
  int fd_seen;
  char data[256];
  size_t len;
  int eof;
  int remove_after; /* remove itself after this many calls (0: never) */
  volatile int done;
} reader_t;

static int read_some(il_loop_t *loop, int fd, void *arg) {
  reader_t *r = arg;
  r->calls++;
  r->fd_seen = fd;
  ssize_t n = read(fd, r->data + r->len, sizeof(r->data) - r->len - 1);
  if (n > 0)
    r->len += (size_t)n;
  else if (n == 0)
    r->eof = 1;
  if (r->remove_after && r->calls >= r->remove_after) {
    il_loop_remove_reader(loop, fd);
    r->done = 1;
  }
  return 0;
}

IL_CONFORMANCE_TEST(test_add_reader_fires_on_data) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  reader_t r = {.remove_after = 1};
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], read_some, &r), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  assert_int_equal(r.calls, 0); /* nothing to read yet */
  assert_int_equal(write(fds[1], "hello", 5), 5);
  assert_true(il_test_run_until(ctx->loop, &r.done, 5.0));
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.fd_seen, fds[0]);
  assert_int_equal(r.len, 5);
  assert_memory_equal(r.data, "hello", 5);
  close(fds[0]);
  close(fds[1]);
}

static int must_not_run(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (*(int *)arg)++;
  return 0;
}

IL_CONFORMANCE_TEST(test_add_reader_replaces) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  int old_calls = 0;
  reader_t r = {.remove_after = 1};
  assert_int_equal(
      il_loop_add_reader(ctx->loop, fds[0], must_not_run, &old_calls), 0);
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], read_some, &r), 0);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.readers, 1);
  assert_int_equal(write(fds[1], "x", 1), 1);
  assert_true(il_test_run_until(ctx->loop, &r.done, 5.0));
  assert_int_equal(old_calls, 0);
  assert_int_equal(r.calls, 1);
  close(fds[0]);
  close(fds[1]);
}

static int noop_io(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  (void)arg;
  return 0;
}

IL_CONFORMANCE_TEST(test_remove_reports_whether_registered) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 0);
  assert_int_equal(il_loop_remove_writer(ctx->loop, fds[0]), 0);
  assert_int_equal(il_loop_remove_reader(ctx->loop, 100000), 0);
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], noop_io, NULL), 0);
  assert_int_equal(il_loop_add_writer(ctx->loop, fds[0], noop_io, NULL), 0);
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 1);
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 0);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.readers, 0);
  assert_int_equal(st.writers, 1); /* the writer is untouched */
  assert_int_equal(il_loop_remove_writer(ctx->loop, fds[0]), 1);
  assert_int_equal(il_loop_remove_writer(ctx->loop, fds[0]), 0);
  close(fds[0]);
  close(fds[1]);
}

typedef struct writer {
  int calls;
  volatile int done;
} writer_t;

static int write_once(il_loop_t *loop, int fd, void *arg) {
  writer_t *w = arg;
  w->calls++;
  assert_int_equal(write(fd, "w", 1), 1);
  il_loop_remove_writer(loop, fd);
  w->done = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_add_writer_fires_when_writable) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  writer_t w = {0, 0};
  assert_int_equal(il_loop_add_writer(ctx->loop, fds[0], write_once, &w), 0);
  assert_true(il_test_run_until(ctx->loop, &w.done, 5.0));
  assert_int_equal(w.calls, 1);
  char c;
  assert_int_equal(read(fds[1], &c, 1), 1);
  assert_int_equal(c, 'w');
  close(fds[0]);
  close(fds[1]);
}

typedef struct both {
  int reads, writes;
  volatile int done;
} both_t;

static int both_read(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  both_t *b = arg;
  char buf[16];
  if (read(fd, buf, sizeof(buf)) > 0)
    b->reads++;
  b->done = b->reads && b->writes;
  return 0;
}

static int both_write(il_loop_t *loop, int fd, void *arg) {
  (void)loop;
  (void)fd;
  both_t *b = arg;
  b->writes++;
  b->done = b->reads && b->writes;
  return 0;
}

IL_CONFORMANCE_TEST(test_reader_and_writer_same_fd) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  both_t b = {0, 0, 0};
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], both_read, &b), 0);
  assert_int_equal(il_loop_add_writer(ctx->loop, fds[0], both_write, &b), 0);
  assert_int_equal(write(fds[1], "data", 4), 4);
  assert_true(il_test_run_until(ctx->loop, &b.done, 5.0));
  /* Level-triggered: the writer keeps firing while the fd stays writable,
   * also after the reader is gone. */
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 1);
  int before = b.writes;
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_int_equal(il_loop_run(ctx->loop, IL_RUN_ONCE), 0);
  assert_true(b.writes > before);
  assert_int_equal(il_loop_remove_writer(ctx->loop, fds[0]), 1);
  close(fds[0]);
  close(fds[1]);
}

typedef struct readd {
  int calls;
  int readd_rc;
  volatile int done;
} readd_t;

static int read_one_and_readd(il_loop_t *loop, int fd, void *arg) {
  readd_t *r = arg;
  char c;
  if (read(fd, &c, 1) == 1)
    r->calls++;
  assert_int_equal(il_loop_remove_reader(loop, fd), 1);
  if (r->calls < 3)
    r->readd_rc = il_loop_add_reader(loop, fd, read_one_and_readd, r);
  else
    r->done = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_reader_removed_and_readded_in_callback) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  readd_t r = {0, 0, 0};
  assert_int_equal(
      il_loop_add_reader(ctx->loop, fds[0], read_one_and_readd, &r), 0);
  assert_int_equal(write(fds[1], "abc", 3), 3);
  assert_true(il_test_run_until(ctx->loop, &r.done, 5.0));
  assert_int_equal(r.calls, 3);
  assert_int_equal(r.readd_rc, 0);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.readers, 0);
  close(fds[0]);
  close(fds[1]);
}

typedef struct pair_kill {
  int other_fd;
  int *calls;
  volatile int *done;
} pair_kill_t;

static int remove_other(il_loop_t *loop, int fd, void *arg) {
  pair_kill_t *p = arg;
  (*p->calls)++;
  il_loop_remove_reader(loop, p->other_fd);
  il_loop_remove_reader(loop, fd);
  *p->done = 1;
  return 0;
}

IL_CONFORMANCE_TEST(test_reader_removed_before_delivery_not_called) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int a[2], b[2];
  il_test_socketpair(a);
  il_test_socketpair(b);
  int calls = 0;
  volatile int done = 0;
  pair_kill_t pa = {b[0], &calls, &done}, pb = {a[0], &calls, &done};
  assert_int_equal(il_loop_add_reader(ctx->loop, a[0], remove_other, &pa), 0);
  assert_int_equal(il_loop_add_reader(ctx->loop, b[0], remove_other, &pb), 0);
  assert_int_equal(write(a[1], "1", 1), 1);
  assert_int_equal(write(b[1], "2", 1), 1);
  assert_true(il_test_run_until(ctx->loop, &done, 5.0));
  for (int i = 0; i < 3; i++)
    assert_int_equal(il_loop_run(ctx->loop, IL_RUN_NOWAIT), 0);
  /* Whichever ran first removed the other, reported or not. */
  assert_int_equal(calls, 1);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
}

IL_CONFORMANCE_TEST(test_add_reader_bad_fd) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  int closed_fd = fds[1];
  close(closed_fd);
  assert_int_equal(il_loop_add_reader(ctx->loop, closed_fd, noop_io, NULL),
                   IL_EBADF);
  assert_int_equal(il_loop_add_writer(ctx->loop, closed_fd, noop_io, NULL),
                   IL_EBADF);
  char path[] = "/tmp/interloop-conformance-XXXXXX";
  int file = mkstemp(path);
  assert_true(file >= 0);
  unlink(path);
  assert_int_equal(il_loop_add_reader(ctx->loop, file, noop_io, NULL),
                   IL_EPERM);
  int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dir >= 0);
  assert_int_equal(il_loop_add_reader(ctx->loop, dir, noop_io, NULL), IL_EPERM);
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  il_loop_get_stats(ctx->loop, &st);
  assert_int_equal(st.readers, 0);
  assert_int_equal(st.writers, 0);
  close(file);
  close(dir);
  close(fds[0]);
}

IL_CONFORMANCE_TEST(test_reader_sees_hangup) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  int fds[2];
  il_test_socketpair(fds);
  reader_t r = {.remove_after = 0};
  assert_int_equal(il_loop_add_reader(ctx->loop, fds[0], read_some, &r), 0);
  assert_int_equal(write(fds[1], "bye", 3), 3);
  close(fds[1]);
  volatile int *eof = (volatile int *)&r.eof;
  assert_true(il_test_run_until(ctx->loop, eof, 5.0));
  assert_int_equal(r.len, 3);
  assert_memory_equal(r.data, "bye", 3);
  assert_int_equal(il_loop_remove_reader(ctx->loop, fds[0]), 1);
  close(fds[0]);
}
