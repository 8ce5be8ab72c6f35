/* conformance/harness.c — per-test fixture: fresh loop, recording error
 * handler, leak counters checked at teardown. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *il_test_backend = "builtin";
int il_test_adopted = 0;

static void record_error(il_loop_t *loop, const il_error_context_t *c,
                         void *ud) {
  (void)loop;
  il_test_ctx_t *ctx = ud;
  if (ctx->nerrors >= IL_TEST_MAX_ERRORS)
    return;
  il_test_error_t *e = &ctx->errors[ctx->nerrors++];
  e->code = c->code;
  e->source = c->source;
  e->fd = c->fd;
  e->callback = c->callback;
  e->arg = c->arg;
  snprintf(e->message, sizeof(e->message), "%s", c->message);
}

static int make_loop_opts(il_test_ctx_t *ctx, il_loop_t **out, void **foreign,
                          int debug, double slow) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = ctx->backend;
  opts.debug = debug;
  opts.slow_callback = slow;
  int rc;
  *foreign = NULL;
  if (ctx->adopted) {
    if (!ctx->ops->foreign_new)
      return IL_ENOTSUP;
    rc = ctx->ops->foreign_new(foreign);
    if (rc < 0)
      return rc;
    rc = il_loop_new_with_backend(out, ctx->ops, *foreign, &opts);
    if (rc < 0) {
      ctx->ops->foreign_free(*foreign);
      *foreign = NULL;
    }
  } else {
    rc = il_loop_new(out, &opts);
  }
  if (rc == 0)
    il_loop_set_error_handler(*out, record_error, ctx);
  return rc;
}

static int make_loop(il_test_ctx_t *ctx, il_loop_t **out, void **foreign) {
  return make_loop_opts(ctx, out, foreign, 0, 0.0);
}

int il_test_setup(void **state) {
  il_test_ctx_t *ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return -1;
  ctx->backend = il_test_backend;
  ctx->adopted = il_test_adopted;
  int rc = il_backend_load(ctx->backend, &ctx->ops);
  if (rc < 0) {
    fprintf(stderr, "cannot load backend %s: %s\n", ctx->backend,
            il_loop_last_error_message());
    free(ctx);
    return -1;
  }
  rc = make_loop(ctx, &ctx->loop, &ctx->foreign);
  if (rc < 0) {
    fprintf(stderr, "cannot create a %s loop on %s: %s (%s)\n",
            ctx->adopted ? "adopted" : "owned", ctx->backend, il_err_name(rc),
            il_loop_last_error_message());
    free(ctx);
    return -1;
  }
  *state = ctx;
  return 0;
}

void il_test_allow_errors(il_test_ctx_t *ctx) {
  ctx->allow_errors = 1;
}

il_loop_t *il_test_loop_new(il_test_ctx_t *ctx) {
  return il_test_loop_new_debug(ctx, -1.0);
}

il_loop_t *il_test_loop_new_debug(il_test_ctx_t *ctx, double slow_callback) {
  assert_true(ctx->nextra < IL_TEST_MAX_LOOPS);
  il_loop_t *loop = NULL;
  int debug = slow_callback >= 0 ? 1 : 0;
  int rc = make_loop_opts(ctx, &loop, &ctx->extra_foreign[ctx->nextra], debug,
                          debug ? slow_callback : 0.0);
  assert_int_equal(rc, 0);
  ctx->extra[ctx->nextra++] = loop;
  return loop;
}

/* Checks one loop's counters, closes and frees it; returns a description of
 * the first problem, or NULL. */
static const char *finish_loop(il_test_ctx_t *ctx, il_loop_t *loop,
                               void *foreign, char *buf, size_t cap) {
  const char *problem = NULL;
  if (loop && !il_loop_is_closed(loop)) {
    il_loop_stats_t st = IL_LOOP_STATS_INIT;
    if (il_loop_get_stats(loop, &st) == 0) {
      if (st.handles_held || st.readers || st.writers || st.signals ||
          st.transports || st.servers || st.executor_jobs || st.processes) {
        snprintf(buf, cap,
                 "leak at teardown: %llu handles held, %llu readers, "
                 "%llu writers, %llu signal handlers, %llu transports, "
                 "%llu servers, %llu executor jobs, %llu processes",
                 (unsigned long long)st.handles_held,
                 (unsigned long long)st.readers, (unsigned long long)st.writers,
                 (unsigned long long)st.signals,
                 (unsigned long long)st.transports,
                 (unsigned long long)st.servers,
                 (unsigned long long)st.executor_jobs,
                 (unsigned long long)st.processes);
        problem = buf;
      }
    }
    int rc = il_loop_close(loop);
    if (rc != 0 && !problem) {
      snprintf(buf, cap, "il_loop_close at teardown failed: %s",
               il_err_name(rc));
      problem = buf;
    }
  }
  if (loop)
    il_loop_free(loop);
  if (foreign) {
    int rc = ctx->ops->foreign_free(foreign);
    if (rc != 0 && !problem) {
      snprintf(buf, cap,
               "adopted engine loop not clean after il_loop_close: %s",
               il_err_name(rc));
      problem = buf;
    }
  }
  return problem;
}

int il_test_teardown(void **state) {
  il_test_ctx_t *ctx = il_test_ctx(state);
  char buf[256];
  const char *problem = NULL;
  if (!ctx->allow_errors && ctx->nerrors > 0) {
    il_test_error_t *e = &ctx->errors[0];
    snprintf(buf, sizeof(buf),
             "unexpected call of the loop's error handler: %s (%s), source "
             "%d, fd %d; %d call(s) in all",
             e->message, il_err_name(e->code), (int)e->source, e->fd,
             ctx->nerrors);
    problem = buf;
  }
  char buf2[256];
  const char *p = finish_loop(ctx, ctx->loop, ctx->foreign, buf2, sizeof(buf2));
  if (!problem)
    problem = p;
  for (int i = 0; i < ctx->nextra; i++) {
    p = finish_loop(ctx, ctx->extra[i], ctx->extra_foreign[i], buf2,
                    sizeof(buf2));
    if (!problem)
      problem = p;
  }
  free(ctx);
  *state = NULL;
  if (problem) {
    print_error("%s\n", problem);
    return -1;
  }
  return 0;
}

int il_test_run_until(il_loop_t *loop, volatile int *flag, double seconds) {
  volatile int expired = 0;
  il_handle_t *guard = NULL;
  assert_int_equal(il_loop_call_later(loop, seconds, il_test_count_cb,
                                      (void *)&expired, &guard),
                   0);
  while (!*flag && !expired)
    assert_int_equal(il_loop_run(loop, IL_RUN_ONCE), 0);
  il_handle_cancel(guard);
  il_handle_release(guard);
  return *flag ? 1 : 0;
}

static int safety_stop(il_loop_t *loop, void *arg) {
  *(int *)arg = 1;
  return il_loop_stop(loop);
}

int il_test_run_bounded(il_loop_t *loop, double seconds) {
  int fired = 0;
  il_handle_t *guard = NULL;
  assert_int_equal(
      il_loop_call_later(loop, seconds, safety_stop, &fired, &guard), 0);
  assert_int_equal(il_loop_run(loop, IL_RUN_DEFAULT), 0);
  il_handle_cancel(guard);
  il_handle_release(guard);
  return !fired;
}

void il_test_socketpair(int fds[2]) {
  assert_int_equal(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds),
      0);
}

void il_test_sleep(double seconds) {
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

int il_test_record_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  il_test_item_t *it = arg;
  if (it->seq->n < (int)(sizeof(it->seq->ids) / sizeof(it->seq->ids[0])))
    it->seq->ids[it->seq->n++] = it->id;
  return 0;
}

int il_test_stop_cb(il_loop_t *loop, void *arg) {
  (void)arg;
  return il_loop_stop(loop);
}

int il_test_count_cb(il_loop_t *loop, void *arg) {
  (void)loop;
  (*(volatile int *)arg)++;
  return 0;
}
