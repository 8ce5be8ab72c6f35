/* examples/three_tasks/three_tasks.c — what concurrency buys: three tasks
 * that each do five steps, waiting between steps, run first one after
 * another and then all at once on one loop.
 *
 *   interloop-three-tasks [--backend NAME] [--wait SECONDS]
 *
 * Each step waits SECONDS (default 0.1) — standing in for a network reply or
 * a disk read — then prints one line of the timeline, in its task's column.
 * One after another, the waits add up (3 x 5 x 0.1 s = 1.5 s). Interleaved,
 * while one task waits the loop runs the others, so the three wait at the
 * same time and the whole takes about as long as one task (0.5 s).
 *
 * The backend is NAME, else $INTERLOOP_BACKEND, else builtin. The last line
 * is "RESULT three_tasks ok serial=<s> interleaved=<s>", or
 * "RESULT three_tasks FAILED: why" with exit status 1. */
#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTASKS 3
#define NSTEPS 5

/* What one task needs: its name, its column, and the run it belongs to. */
typedef struct run run_t;
typedef struct worker {
  const char *name;
  int column;
  run_t *run;
} worker_t;

/* One run (serial or interleaved): its start time and what it saw. */
struct run {
  double start;
  double wait;
  int steps_done;     /* steps finished so far, all tasks together */
  int all_started_at; /* steps_done when the last task did its first step */
  int first_done_at;  /* steps_done when a task first did its last step */
};

/* The task body: five steps, each a wait and a line of the timeline. */
static int work(il_task_t *self, void *arg) {
  worker_t *w = arg;
  il_loop_t *loop = il_future_loop(self);
  for (int step = 1; step <= NSTEPS; step++) {
    /* il_sleep suspends this task only: the loop runs the other tasks
     * meanwhile, and comes back here once the time is up. */
    int rc = il_sleep(loop, w->run->wait);
    if (rc < 0)
      return rc;
    w->run->steps_done++;
    if (step == 1)
      w->run->all_started_at = w->run->steps_done;
    if (step == NSTEPS && !w->run->first_done_at)
      w->run->first_done_at = w->run->steps_done;
    printf("  %5.2f s  %*s%s step %d/%d\n", il_loop_time(loop) - w->run->start,
           w->column * 12, "", w->name, step, NSTEPS);
  }
  return 0;
}

/* One after another: start a task, run the loop until it is done, and only
 * then start the next. */
static int run_serial(il_loop_t *loop, worker_t *workers) {
  for (int i = 0; i < NTASKS; i++) {
    il_task_t *t;
    int rc = il_task_spawn(loop, work, &workers[i], NULL, &t);
    if (rc < 0)
      return rc;
    rc = il_loop_run_until_complete(loop, t, NULL);
    il_future_unref(t);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* Interleaved: start all three, then run the loop until all are done.
 * il_gather gives one future that finishes when every task has. */
static int run_interleaved(il_loop_t *loop, worker_t *workers) {
  il_task_t *tasks[NTASKS] = {0};
  int rc = 0;
  for (int i = 0; i < NTASKS && rc == 0; i++)
    rc = il_task_spawn(loop, work, &workers[i], NULL, &tasks[i]);
  il_future_t *all = NULL;
  if (rc == 0)
    rc = il_gather(loop, tasks, NTASKS, IL_GATHER_DEFAULT, &all);
  if (rc == 0)
    rc = il_loop_run_until_complete(loop, all, NULL);
  il_future_unref(all);
  for (int i = 0; i < NTASKS; i++) {
    if (rc < 0 && tasks[i])
      il_task_cancel(tasks[i], NULL); /* cancelled, ends when the loop closes */
    il_future_unref(tasks[i]);
  }
  return rc;
}

/* Runs one way with fresh counters; returns its total time, or -1. */
static double timed(il_loop_t *loop, const char *title, run_t *run, double wait,
                    int (*how)(il_loop_t *, worker_t *)) {
  worker_t workers[NTASKS] = {{"A", 0, run}, {"B", 1, run}, {"C", 2, run}};
  memset(run, 0, sizeof(*run));
  run->wait = wait;
  printf("%s\n", title);
  run->start = il_loop_time(loop);
  int rc = how(loop, workers);
  double total = il_loop_time(loop) - run->start;
  if (rc < 0) {
    printf("  failed: %s\n", il_strerror(rc));
    return -1.0;
  }
  printf("  total %.2f s\n", total);
  return total;
}

int main(int argc, char **argv) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  double wait = 0.1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i]; /* NULL (default): $INTERLOOP_BACKEND */
    else if (!strcmp(argv[i], "--wait") && i + 1 < argc)
      wait = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: interloop-three-tasks [--backend NAME] "
                      "[--wait SECONDS]\n");
      return 2;
    }
  }
  il_loop_t *loop;
  if (il_loop_new(&loop, &opts) < 0) {
    fprintf(stderr, "three_tasks: %s\n", il_loop_last_error_message());
    printf("RESULT three_tasks FAILED: no backend\n");
    return 1;
  }
  printf("three tasks, %d steps each, %.2f s wait per step, backend %s\n",
         NSTEPS, wait, il_loop_backend_name(loop));

  run_t serial, inter;
  double ts = timed(loop, "one after another:", &serial, wait, run_serial);
  double ti =
      timed(loop, "interleaved on one loop:", &inter, wait, run_interleaved);
  il_loop_free(loop);

  /* The checks behind "ok". Interleaved, every task has done its first step
   * before any has done its last: the steps really took turns. Timing on a
   * busy machine is noisy, so the speed-up only has to beat 1.5 (about 3 is
   * expected). */
  const char *why = NULL;
  if (ts < 0 || ti < 0)
    why = "a run failed";
  else if (serial.steps_done != NTASKS * NSTEPS ||
           inter.steps_done != NTASKS * NSTEPS)
    why = "steps missing";
  else if (serial.all_started_at != (NTASKS - 1) * NSTEPS + 1)
    why = "the serial run overlapped";
  else if (inter.all_started_at > inter.first_done_at)
    why = "the interleaved run did not take turns";
  else if (ts < 1.5 * ti)
    why = "interleaving was not faster";
  if (!why)
    printf("speed-up %.1fx\n", ts / ti);
  if (why)
    printf("RESULT three_tasks FAILED: %s\n", why);
  else
    printf("RESULT three_tasks ok serial=%.2f interleaved=%.2f\n", ts, ti);
  return why ? 1 : 0;
}
