/* examples/subprocess/subprocess.c — runs shell commands concurrently and
 * prints their output as it arrives, written twice: with the subprocess
 * protocol (callbacks) and with tasks and streams.
 *
 *   interloop-subprocess [--tasks] [--backend NAME] [--] [COMMAND...]
 *
 * Each COMMAND is one string for /bin/sh -c; without any, a small default
 * set runs. Every line a child writes is printed as "[i out] line" or
 * "[i err] line" (i: the command's index), and when a child is done,
 * "[i] exit N" or "[i] killed by signal N". The exit status is 0 when every
 * command exited with 0. The backend is NAME, else $INTERLOOP_BACKEND (builtin,
 * builtin-poll, uv, ev, event). */
#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const default_commands[] = {
    "echo hello",
    "ls /",
    "for i in 1 2 3; do echo tick $i; sleep 0.2; done",
    "echo oops >&2; exit 3",
};

/* One command and what became of it. */
typedef struct job {
  int index;
  const char *cmd;
  int started;    /* the child could be started */
  int returncode; /* as il_subprocess_returncode: exit status or -signal */
  /* protocol style */
  il_future_t *start; /* il_subprocess_shell's future */
  il_future_t *done;  /* set when the child is finished */
  char line[2][1024]; /* a partial line of stdout / stderr */
  size_t line_len[2];
  /* task style */
  il_stream_reader_t *err;
} job_t;

static void print_line(const job_t *job, int fd, const char *s, size_t len) {
  if (len > 0 && s[len - 1] == '\n')
    len--;
  printf("[%d %s] %.*s\n", job->index, fd == 1 ? "out" : "err", (int)len, s);
}

static void print_status(const job_t *job) {
  if (job->returncode >= 0)
    printf("[%d] exit %d\n", job->index, job->returncode);
  else
    printf("[%d] killed by signal %d\n", job->index, -job->returncode);
}

/* stdin is /dev/null: the commands cannot take this program's input. */
static il_subprocess_options_t spawn_options(void) {
  il_subprocess_options_t opts = IL_SUBPROCESS_OPTIONS_INIT;
  opts.stdio[0] = IL_STDIO_DEVNULL;
  return opts;
}

/* ---- protocol style -------------------------------------------------------
 * The loop calls these for every child. Data comes in chunks of any size,
 * not lines: keep the unfinished line until its '\n' arrives (or the buffer
 * is full, or the pipe closes). connection_lost comes last, once the child
 * has exited and both pipes are closed. */
static void on_data(il_subprocess_t *p, int fd, const void *data, size_t len,
                    void *ud) {
  (void)p;
  job_t *job = ud;
  char *line = job->line[fd - 1];
  size_t *n = &job->line_len[fd - 1];
  for (const char *s = data; len > 0; s++, len--) {
    line[(*n)++] = *s;
    if (*s == '\n' || *n == sizeof(job->line[0])) {
      print_line(job, fd, line, *n);
      *n = 0;
    }
  }
}

static void on_pipe_closed(il_subprocess_t *p, int fd, int error, void *ud) {
  (void)p;
  job_t *job = ud;
  if (fd >= 1 && job->line_len[fd - 1] > 0) /* a last line without '\n' */
    print_line(job, fd, job->line[fd - 1], job->line_len[fd - 1]);
  if (error)
    fprintf(stderr, "[%d] fd %d: %s\n", job->index, fd, il_strerror(error));
}

static void on_exited(il_subprocess_t *p, void *ud) {
  job_t *job = ud;
  il_subprocess_returncode(p, &job->returncode);
}

static void on_finished(il_subprocess_t *p, int error, void *ud) {
  (void)p, (void)error;
  job_t *job = ud;
  print_status(job);
  il_future_set_result(job->done, NULL, NULL);
}

static const il_subprocess_protocol_t command_protocol = {
    .size = sizeof(il_subprocess_protocol_t),
    .pipe_data_received = on_data,
    .pipe_connection_lost = on_pipe_closed,
    .process_exited = on_exited,
    .connection_lost = on_finished,
};

/* The start future fails when the child cannot be started (no /bin/sh, no
 * fds left); then no protocol callback ever runs. */
static int on_started(il_future_t *start, void *arg) {
  job_t *job = arg;
  int rc = il_future_result(start, NULL);
  if (rc < 0) {
    printf("[%d] cannot start: %s\n", job->index, il_strerror(rc));
    il_future_set_result(job->done, NULL, NULL);
  } else {
    job->started = 1;
  }
  return 0;
}

/* Starts the job's command; the returned future is done when it is. */
static int start_with_protocol(il_loop_t *loop, job_t *job,
                               il_future_t **done) {
  il_subprocess_options_t opts = spawn_options();
  int rc = il_future_new(loop, &job->done);
  if (rc < 0)
    return rc;
  rc = il_subprocess_shell(loop, job->cmd, &opts, &command_protocol, job,
                           &job->start);
  if (rc == 0)
    rc = il_future_add_done_callback(job->start, on_started, job);
  if (rc < 0) {
    printf("[%d] cannot start: %s\n", job->index, il_strerror(rc));
    il_future_set_result(job->done, NULL, NULL);
  }
  *done = il_future_ref(job->done);
  return 0;
}

/* ---- task style -----------------------------------------------------------
 * One task per command reads its stdout line by line while a second task
 * reads its stderr, so neither pipe can fill up and stall the child. */
static int print_lines(job_t *job, int fd, il_stream_reader_t *r) {
  for (;;) {
    char *line;
    size_t len;
    int rc = il_stream_readline(r, &line, &len);
    if (rc == IL_ELIMIT) { /* a line longer than the limit: print a piece */
      char piece[1024];
      if ((rc = il_stream_read(r, piece, sizeof(piece), &len)) < 0)
        return rc;
      print_line(job, fd, piece, len);
      continue;
    }
    if (rc < 0)
      return rc;
    if (len > 0)
      print_line(job, fd, line, len);
    free(line);
    if (len == 0) /* end of file */
      return 0;
  }
}

/* Owns the stderr reader: releases it when done. */
static int stderr_task(il_task_t *self, void *arg) {
  (void)self;
  job_t *job = arg;
  int rc = print_lines(job, 2, job->err);
  il_stream_release(job->err, NULL);
  return rc;
}

static int command_task(il_task_t *self, void *arg) {
  job_t *job = arg;
  il_loop_t *loop = il_future_loop(self);
  const char *const argv[] = {"/bin/sh", "-c", job->cmd, NULL};
  il_subprocess_options_t opts = spawn_options();
  il_subprocess_t *proc;
  il_stream_reader_t *out;
  int rc = il_process_open(loop, argv, &opts, 0, &proc, NULL, &out, &job->err);
  if (rc < 0) {
    printf("[%d] cannot start: %s\n", job->index, il_strerror(rc));
    return 0;
  }
  job->started = 1;
  il_task_t *err_reader;
  rc = il_task_spawn(loop, stderr_task, job, NULL, &err_reader);
  if (rc == 0) {
    rc = print_lines(job, 1, out);
    int err_rc = il_await(err_reader, NULL);
    rc = rc < 0 ? rc : err_rc;
    il_future_unref(err_reader);
  } else {
    il_stream_release(job->err, NULL);
  }
  if (rc < 0)
    fprintf(stderr, "[%d] reading: %s\n", job->index, il_strerror(rc));
  /* Both pipes are at their end, but the child may still run (it can
   * close them and go on): wait for its exit. */
  il_stream_release(out, NULL);
  if (il_process_wait(proc, &job->returncode) == 0)
    print_status(job);
  il_subprocess_unref(proc);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
  fprintf(
      stderr,
      "usage: interloop-subprocess [--tasks] [--backend NAME] [--] [CMD...]\n");
  return 2;
}

int main(int argc, char **argv) {
  il_loop_options_t loop_opts = IL_LOOP_OPTIONS_INIT;
  int tasks = 0, first = 1; /* argv[first..] are the commands */
  while (first < argc && argv[first][0] == '-') {
    const char *opt = argv[first++];
    if (!strcmp(opt, "--")) /* only commands follow */
      break;
    if (!strcmp(opt, "--tasks"))
      tasks = 1;
    else if (!strcmp(opt, "--backend") && first < argc)
      loop_opts.backend = argv[first++];
    else
      return usage();
  }
  const char *const *cmds = (const char *const *)argv + first;
  size_t n = (size_t)(argc - first);
  if (n == 0) {
    cmds = default_commands;
    n = sizeof(default_commands) / sizeof(default_commands[0]);
  }

  il_loop_t *loop;
  if (il_loop_new(&loop, &loop_opts) < 0) {
    fprintf(stderr, "il_loop_new: %s\n", il_loop_last_error_message());
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* each line as soon as it is printed */
  printf("running %zu commands (%s) on backend %s\n", n,
         tasks ? "tasks" : "protocol", il_loop_backend_name(loop));

  /* One future per command, done when the command is; gather waits for
   * them all. */
  job_t *jobs = calloc(n, sizeof(*jobs));
  il_future_t **done = calloc(n, sizeof(*done));
  if (!jobs || !done) {
    fprintf(stderr, "interloop-subprocess: out of memory\n");
    return 1;
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    jobs[i].index = (int)i;
    jobs[i].cmd = cmds[i];
    printf("[%zu] $ %s\n", i, cmds[i]);
    if (tasks)
      rc = il_task_spawn(loop, command_task, &jobs[i], NULL, &done[i]);
    else
      rc = start_with_protocol(loop, &jobs[i], &done[i]);
  }
  il_future_t *all = NULL;
  if (rc == 0)
    rc = il_gather(loop, done, n, IL_GATHER_COLLECT_ERRORS, &all);
  if (rc == 0)
    rc = il_loop_run_until_complete(loop, all, NULL);
  if (rc < 0)
    fprintf(stderr, "interloop-subprocess: %s\n", il_strerror(rc));

  /* After an error, children may still run: closing the loop kills
   * (SIGKILL) and reaps them, and finishes their callbacks and tasks. */
  il_loop_close(loop);
  int status = rc < 0;
  for (size_t i = 0; i < n; i++) {
    if (!jobs[i].started || jobs[i].returncode != 0)
      status = 1;
    il_future_unref(done[i]);
    il_future_unref(jobs[i].done);
    il_future_unref(jobs[i].start); /* frees the process */
  }
  il_future_unref(all);
  il_loop_free(loop);
  free(done);
  free(jobs);
  return status;
}
