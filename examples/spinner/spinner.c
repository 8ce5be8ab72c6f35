/* examples/spinner/spinner.c — tasks and cancellation in a few lines.
 *
 * A supervisor task starts two tasks: a spinner that animates |/-\ on
 * stderr, and a worker that "thinks" for a while (il_sleep) and returns 42.
 * When the worker's answer arrives, the supervisor cancels the spinner,
 * waits until the spinner has cleaned up (erased its line), and hands the
 * answer to main, which prints it.
 *
 *   interloop-spinner [SECONDS]    work for SECONDS (default 3)
 *
 * The backend comes from $INTERLOOP_BACKEND (builtin, uv, ev, event). */
#include <interloop/interloop.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The spinner: draws a frame every 0.1 s until it is cancelled. Cancelling
 * a task makes the il_sleep it is in return IL_ECANCELED; the task then
 * cleans up and returns IL_ECANCELED itself, so it ends cancelled. */
static int spin(il_task_t *self, void *arg) {
  const char *msg = arg;
  const char frames[] = "|/-\\";
  il_loop_t *loop = il_future_loop(self);
  int rc = 0;
  for (unsigned i = 0; rc == 0; i++) {
    fprintf(stderr, "\r%c %s", frames[i % 4], msg);
    rc = il_sleep(loop, 0.1);
  }
  /* Cleanup: blank the spinner's line. */
  fprintf(stderr, "\r%*s\r", 40, "");
  if (rc == IL_ECANCELED)
    printf("spinner cancelled\n");
  return rc; /* IL_ECANCELED: the task ends cancelled */
}

/* The worker: pretends to compute for `arg` seconds, then returns 42 as
 * its result. The result is a pointer-sized value, so no destructor. */
static int slow_answer(il_task_t *self, void *arg) {
  double seconds = *(const double *)arg;
  int rc = il_sleep(il_future_loop(self), seconds);
  if (rc < 0)
    return rc;
  return il_task_return(self, (void *)(intptr_t)42, NULL);
}

/* The supervisor: starts both, waits for the answer, stops the spinner. */
static int supervise(il_task_t *self, void *arg) {
  il_loop_t *loop = il_future_loop(self);
  il_task_t *spinner, *worker;
  int rc = il_task_spawn(loop, spin, "thinking!", NULL, &spinner);
  if (rc < 0)
    return rc;
  rc = il_task_spawn(loop, slow_answer, arg, NULL, &worker);
  if (rc < 0) {
    il_task_cancel(spinner, NULL);
    il_future_unref(spinner);
    return rc;
  }

  void *answer = NULL;
  rc = il_await(worker, &answer); /* the spinner spins meanwhile */
  il_future_unref(worker);

  /* Cancel the spinner and wait until it has finished its cleanup: its
   * il_await returns IL_ECANCELED once the spinner ended cancelled. */
  il_task_cancel(spinner, "the answer is in");
  int spun = il_await(spinner, NULL);
  il_future_unref(spinner);
  if (spun != IL_ECANCELED)
    fprintf(stderr, "spinner ended with %s, not cancelled\n",
            il_err_name(spun));
  if (rc < 0)
    return rc;
  return il_task_return(self, answer, NULL);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 3.0;
  il_loop_t *loop;
  int rc = il_loop_new(&loop, NULL); /* backend: $INTERLOOP_BACKEND */
  if (rc < 0) {
    fprintf(stderr, "spinner: %s\n", il_loop_last_error_message());
    return 1;
  }
  printf("spinner on backend \"%s\", working %.1f s\n",
         il_loop_backend_name(loop), seconds);
  fflush(stdout); /* before the spinner starts drawing on stderr */

  il_task_t *boss;
  void *answer = NULL;
  rc = il_task_spawn(loop, supervise, &seconds, NULL, &boss);
  if (rc == 0) {
    rc = il_loop_run_until_complete(loop, boss, &answer);
    il_future_unref(boss);
  }
  if (rc == 0)
    printf("Answer: %d\n", (int)(intptr_t)answer);
  else
    printf("FAILED: %s\n", il_strerror(rc));
  il_loop_free(loop);
  return rc == 0 ? 0 : 1;
}
