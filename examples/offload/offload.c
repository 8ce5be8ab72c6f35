/* examples/offload/offload.c — blocking work off the loop thread.
 *
 * Writing a file and fsync'ing it blocks the calling thread until the disk
 * is done. On the loop thread that would freeze everything else the loop
 * serves. il_loop_run_in_executor runs such a call on a worker thread and
 * hands back a future that completes on the loop thread, so a task can
 * il_await it while the loop keeps going.
 *
 *   interloop-offload [--backend NAME] [--files N]
 *
 * A timer ticks every 20 ms all along. The program saves one file on the
 * loop thread (no ticks happen meanwhile: the loop is stuck), then N files
 * (default 5) through the executor (the ticks go on), prints the files
 * saved, and removes them and their temporary directory.
 *
 * A save on a fast disk, or in a tmpfs, takes less than a tick, which would
 * hide the point; so each save also sleeps 0.2 s, the way a slow disk makes
 * fsync wait.
 *
 * The backend is NAME, else $INTERLOOP_BACKEND, else builtin. The last line
 * is "RESULT offload ok files=N ticks=T" (T: ticks during the executor's
 * saves, more than 0), or "RESULT offload FAILED: why" with exit status 1. */
#include <interloop/interloop.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 32
#define FILE_BYTES (256 * 1024)
#define TICK_SECONDS 0.02
#define SLOW_DISK_SECONDS 0.2

/* ---- the blocking part: runs on a worker thread (or, once, on the loop's) */

typedef struct save {
  char path[PATH_MAX];
  size_t bytes;
} save_t;

/* Writes `bytes` bytes to path and waits until they are on disk. Plain
 * blocking POSIX calls: on a worker thread, this must not call the loop. */
static int save_file(void *arg, void **result, il_destructor_fn *dtor) {
  (void)result, (void)dtor; /* no value: the future's result stays NULL */
  const save_t *s = arg;
  static const char chunk[4096] = {'i', 'n', 't', 'e', 'r',
                                   'l', 'o', 'o', 'p', '\n'};
  int fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return il_translate_sys_error(errno);
  int err = 0;
  for (size_t done = 0; done < s->bytes && !err;) {
    size_t n =
        s->bytes - done < sizeof(chunk) ? s->bytes - done : sizeof(chunk);
    ssize_t w = write(fd, chunk, n);
    if (w < 0 && errno != EINTR)
      err = errno;
    else if (w > 0)
      done += (size_t)w;
  }
  if (!err && fsync(fd) < 0)
    err = errno;
  if (close(fd) < 0 && !err)
    err = errno;
  struct timespec slow_disk = {0, (long)(SLOW_DISK_SECONDS * 1e9)};
  nanosleep(&slow_disk, NULL);
  return err ? il_translate_sys_error(err) : 0;
}

/* ---- the loop side --------------------------------------------------------
 */

typedef struct app {
  const char *dir; /* the temporary directory */
  int nfiles;
  save_t saves[MAX_FILES + 1]; /* [0]: the one saved on the loop thread */
  int ticks;                   /* timer ticks so far */
  int ticks_blocked;           /* ticks while saving on the loop thread */
  int ticks_offloaded;         /* ticks while the executor saved */
  il_handle_t *ticker;
} app_t;

/* The periodic timer: counts and re-arms itself. */
static int tick(il_loop_t *loop, void *arg) {
  app_t *app = arg;
  app->ticks++;
  il_handle_release(app->ticker); /* this tick's handle: done with it */
  app->ticker = NULL;
  return il_loop_call_later(loop, TICK_SECONDS, tick, app, &app->ticker);
}

static int save_everything(il_task_t *self, void *arg) {
  app_t *app = arg;
  il_loop_t *loop = il_future_loop(self);

  /* Let the ticker get going first. */
  int rc = il_sleep(loop, 3 * TICK_SECONDS);
  if (rc < 0)
    return rc;

  /* The wrong way: a blocking call on the loop thread. No callback can run
   * until it returns, so the ticker misses its turns. */
  printf("1 file saved on the loop thread (don't):\n");
  int before = app->ticks;
  double t = il_loop_time(loop);
  rc = save_file(&app->saves[0], NULL, NULL);
  if (rc < 0)
    return il_task_fail(self, rc, "saving on the loop thread");
  app->ticks_blocked = app->ticks - before;
  printf("  %.2f s, ticks meanwhile: %d\n", il_loop_time(loop) - t,
         app->ticks_blocked);

  /* The right way: every save goes to the executor's worker threads (4 by
   * default, so 4 run at once); the task awaits their futures while the
   * loop goes on serving the ticker. */
  printf("%d files saved through the executor:\n", app->nfiles);
  il_future_t *jobs[MAX_FILES] = {0};
  before = app->ticks;
  t = il_loop_time(loop);
  for (int i = 0; i < app->nfiles && rc == 0; i++)
    rc = il_loop_run_in_executor(loop, save_file, &app->saves[i + 1], &jobs[i]);
  for (int i = 0; i < app->nfiles && jobs[i]; i++) {
    if (rc < 0) /* a submission failed: drop the jobs not started yet */
      il_future_cancel(jobs[i], NULL);
    int job_rc = il_await(jobs[i], NULL);
    if (job_rc < 0 && rc == 0)
      rc = job_rc;
    il_future_unref(jobs[i]);
  }
  if (rc < 0)
    return il_task_fail(self, rc, "saving through the executor");
  app->ticks_offloaded = app->ticks - before;
  printf("  %.2f s, ticks meanwhile: %d\n", il_loop_time(loop) - t,
         app->ticks_offloaded);
  return 0;
}

/* Lists the files saved, with their sizes, then removes them and the
 * directory. Returns how many had the right size. */
static int list_and_clean_up(app_t *app) {
  int good = 0;
  for (int i = 0; i <= app->nfiles; i++) {
    struct stat st;
    const char *name = strrchr(app->saves[i].path, '/') + 1;
    if (stat(app->saves[i].path, &st) == 0) {
      printf("  %-12s %lld bytes\n", name, (long long)st.st_size);
      good += (size_t)st.st_size == app->saves[i].bytes;
      unlink(app->saves[i].path);
    } else {
      printf("  %-12s missing\n", name);
    }
  }
  if (rmdir(app->dir) == 0)
    printf("removed %s\n", app->dir);
  return good;
}

int main(int argc, char **argv) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  static app_t app = {.nfiles = 5}; /* static: about 130 KiB of paths */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i]; /* NULL (default): $INTERLOOP_BACKEND */
    else if (!strcmp(argv[i], "--files") && i + 1 < argc &&
             atoi(argv[i + 1]) >= 1 && atoi(argv[i + 1]) <= MAX_FILES)
      app.nfiles = atoi(argv[++i]);
    else {
      fprintf(stderr,
              "usage: interloop-offload [--backend NAME] "
              "[--files 1..%d]\n",
              MAX_FILES);
      return 2;
    }
  }

  const char *tmp = getenv("TMPDIR");
  static char dir[PATH_MAX / 2]; /* leaves room for the file names */
  int len = snprintf(dir, sizeof(dir), "%s/interloop-offload-XXXXXX",
                     tmp && *tmp ? tmp : "/tmp");
  if (len < 0 || (size_t)len >= sizeof(dir) || !mkdtemp(dir)) {
    perror("offload: mkdtemp");
    printf("RESULT offload FAILED: no temporary directory\n");
    return 1;
  }
  app.dir = dir;
  for (int i = 0; i <= app.nfiles; i++) {
    snprintf(app.saves[i].path, sizeof(app.saves[i].path), "%s/file-%d.dat",
             app.dir, i);
    app.saves[i].bytes = FILE_BYTES;
  }

  il_loop_t *loop;
  if (il_loop_new(&loop, &opts) < 0) {
    fprintf(stderr, "offload: %s\n", il_loop_last_error_message());
    rmdir(app.dir);
    printf("RESULT offload FAILED: no backend\n");
    return 1;
  }
  printf("saving %d KiB files in %s, a tick every %d ms, backend %s\n",
         FILE_BYTES / 1024, app.dir, (int)(TICK_SECONDS * 1000),
         il_loop_backend_name(loop));

  il_task_t *task;
  int rc = il_loop_call_later(loop, TICK_SECONDS, tick, &app, &app.ticker);
  if (rc == 0)
    rc = il_task_spawn(loop, save_everything, &app, NULL, &task);
  if (rc == 0) {
    rc = il_loop_run_until_complete(loop, task, NULL);
    if (rc < 0) {
      const char *what = "";
      il_future_error(task, &what);
      printf("%s: %s\n", what, il_strerror(rc));
    }
    il_future_unref(task);
  }
  il_handle_cancel(app.ticker); /* stop ticking */
  il_handle_release(app.ticker);
  il_loop_free(loop); /* also joins the executor's threads */

  printf("files saved:\n");
  int good = list_and_clean_up(&app);

  const char *why = NULL;
  if (rc < 0)
    why = il_strerror(rc);
  else if (good != app.nfiles + 1)
    why = "a file is missing or short";
  else if (app.ticks_offloaded == 0)
    why = "no ticks during the executor's saves";
  if (why) {
    printf("RESULT offload FAILED: %s\n", why);
    return 1;
  }
  printf("RESULT offload ok files=%d ticks=%d\n", app.nfiles,
         app.ticks_offloaded);
  return 0;
}
