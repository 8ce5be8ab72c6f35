/* examples/spinner/spinner.c — tasks and cancellation in a few lines.
 *
 * A supervisor task starts two tasks: a spinner that animates |/-\ on
 * stderr, and a worker that pretends to wait on I/O (an il_sleep standing in
 * for a slow server's reply) and then returns 42. When the worker's answer
 * arrives, the supervisor cancels the spinner, waits until the spinner has
 * cleaned up (erased its line), and prints the answer.
 *
 *   interloop-spinner [--backend NAME] [SECONDS]
 *
 * The worker waits SECONDS (default 3). The backend is NAME, else
 * $INTERLOOP_BACKEND, else builtin (the others: builtin-poll, uv, ev,
 * event). The last line is "RESULT spinner ok answer=42", or
 * "RESULT spinner FAILED: why" with exit status 1. */
#include <interloop/interloop.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The worker: waits `arg` seconds as if for a reply, then returns 42 as
 * its result. The result is a pointer-sized value, so no destructor. */
static int slow_answer(il_task_t *self, void *arg) {
  double seconds = *(const double *)arg;
  int rc = il_sleep(il_future_loop(self), seconds);
  if (rc < 0)
    return rc;
  return il_task_return(self, (void *)(intptr_t)42, NULL);
}

/* The supervisor: starts both, waits for the answer, stops the spinner,
 * prints the answer and returns it. */
static int supervise(il_task_t *self, void *arg) {
  il_loop_t *loop = il_future_loop(self);
  il_task_t *spinner, *worker;
  int rc = il_task_spawn(loop, spin, "waiting for the answer", NULL, &spinner);
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
  if (rc < 0)
    return rc;
  if (spun != IL_ECANCELED)
    return il_task_fail(self, IL_EINVALSTATE, "the spinner was not cancelled");
  printf("Answer: %d\n", (int)(intptr_t)answer);
  return il_task_return(self, answer, NULL);
}

int main(int argc, char **argv) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  double seconds = 3.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i]; /* NULL (default): $INTERLOOP_BACKEND */
    else if (argv[i][0] != '-')
      seconds = atof(argv[i]);
    else {
      fprintf(stderr, "usage: interloop-spinner [--backend NAME] [SECONDS]\n");
      return 2;
    }
  }

  il_loop_t *loop;
  if (il_loop_new(&loop, &opts) < 0) {
    fprintf(stderr, "spinner: %s\n", il_loop_last_error_message());
    printf("RESULT spinner FAILED: no backend\n");
    return 1;
  }
  printf("spinner on backend \"%s\", waiting %.1f s for the answer\n",
         il_loop_backend_name(loop), seconds);
  fflush(stdout); /* before the spinner starts drawing on stderr */

  il_task_t *boss;
  void *answer = NULL;
  int rc = il_task_spawn(loop, supervise, &seconds, NULL, &boss);
  if (rc == 0) {
    rc = il_loop_run_until_complete(loop, boss, &answer);
    if (rc < 0) {
      const char *why = "";
      il_future_error(boss, &why);
      printf("RESULT spinner FAILED: %s%s%s\n", il_strerror(rc),
             *why ? ": " : "", why);
    }
    il_future_unref(boss);
  } else {
    printf("RESULT spinner FAILED: %s\n", il_strerror(rc));
  }
  il_loop_free(loop);
  if (rc == 0)
    printf("RESULT spinner ok answer=%d\n", (int)(intptr_t)answer);
  return rc == 0 ? 0 : 1;
}
