/* conformance/harness.h — what every conformance test body sees.
 *
 * Each test runs in its own process (the runner forks), gets a fresh loop of
 * the backend under test — owned, or adopted from an engine loop the harness
 * created as an application would — and a recording error handler. At
 * teardown the harness fails the test if the loop's error handler received
 * anything the test did not declare, if handles, readers, writers or signal
 * handlers are left behind, or (adopted mode) if the engine loop is not
 * clean after il_loop_close. */
#ifndef IL_CONFORMANCE_HARNESS_H
#define IL_CONFORMANCE_HARNESS_H

#include <interloop/backend.h>
#include <interloop/interloop.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define IL_TEST_MAX_ERRORS 64
#define IL_TEST_MAX_LOOPS 8

typedef struct il_test_error {
  int code;
  il_error_source_t source;
  int fd;
  const void *callback;
  void *arg;
  char message[160];
} il_test_error_t;

typedef struct il_test_ctx {
  il_loop_t *loop;     /* the loop under test */
  const char *backend; /* backend name or path */
  int adopted;         /* adopted mode */
  const il_backend_ops_t *ops;
  void *foreign; /* adopted mode: the engine loop */
  /* errors the loop's error handler received */
  il_test_error_t errors[IL_TEST_MAX_ERRORS];
  int nerrors;
  int allow_errors; /* the test inspects errors itself */
  /* extra loops created with il_test_loop_new() */
  il_loop_t *extra[IL_TEST_MAX_LOOPS];
  void *extra_foreign[IL_TEST_MAX_LOOPS];
  int nextra;
} il_test_ctx_t;

/* The runner's choice, visible to tests. */
extern const char *il_test_backend;
extern int il_test_adopted;

/* The test context from cmocka's state. */
static inline il_test_ctx_t *il_test_ctx(void **state) {
  return (il_test_ctx_t *)*state;
}

/* cmocka setup/teardown. */
int il_test_setup(void **state);
int il_test_teardown(void **state);

/* Declares that the test expects the error handler to be called and checks
 * ctx->errors itself. */
void il_test_allow_errors(il_test_ctx_t *ctx);

/* Creates one more loop of the backend and mode under test, with the
 * recording error handler; the harness checks and closes it at teardown. */
il_loop_t *il_test_loop_new(il_test_ctx_t *ctx);

/* As il_test_loop_new() with debug mode on and the given slow-callback
 * threshold. */
il_loop_t *il_test_loop_new_debug(il_test_ctx_t *ctx, double slow_callback);

/* Runs the loop (IL_RUN_ONCE at a time) until *flag becomes non-zero or
 * `seconds` pass. Returns 1 if the flag was set, 0 on timeout. */
int il_test_run_until(il_loop_t *loop, volatile int *flag, double seconds);

/* Runs the loop with IL_RUN_DEFAULT with a safety timer that stops it after
 * `seconds`. Returns 1 if the loop stopped before the safety timer fired. */
int il_test_run_bounded(il_loop_t *loop, double seconds);

/* A non-blocking socketpair (AF_UNIX, SOCK_STREAM), CLOEXEC. */
void il_test_socketpair(int fds[2]);

/* Sleeps for the given seconds (nanosleep, retried on EINTR). */
void il_test_sleep(double seconds);

/* Recording the order callbacks ran in. */
typedef struct il_test_seq {
  int ids[4096];
  int n;
} il_test_seq_t;

typedef struct il_test_item {
  il_test_seq_t *seq;
  int id;
} il_test_item_t;

/* Callback: appends ((il_test_item_t *)arg)->id to its sequence. */
int il_test_record_cb(il_loop_t *loop, void *arg);
/* Callback: il_loop_stop(loop). */
int il_test_stop_cb(il_loop_t *loop, void *arg);
/* Callback: *(volatile int *)arg += 1. */
int il_test_count_cb(il_loop_t *loop, void *arg);

/* Test-list plumbing: each test is declared once in test_list.h. */
#define IL_CONFORMANCE_TEST(name) void name(void **state)

#include "test_list.h"
#define IL__DECLARE_TEST(name, timeout) IL_CONFORMANCE_TEST(name);
IL_CONFORMANCE_TESTS(IL__DECLARE_TEST)
#undef IL__DECLARE_TEST

#endif /* IL_CONFORMANCE_HARNESS_H */
