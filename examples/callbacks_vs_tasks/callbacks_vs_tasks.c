/* examples/callbacks_vs_tasks/callbacks_vs_tasks.c — the same three
 * dependent steps written twice: as a chain of callbacks, and as one task
 * with il_await.
 *
 *   interloop-callbacks-vs-tasks [--backend NAME] [HOST]
 *
 * The job: find the title of HOST's home page (default example.org). It
 * takes three steps, each needing the one before: look up the host's
 * address, fetch the page from that address, parse the title out of the
 * page. Each step is a slow operation, simulated with a 0.1 s timer (no
 * network is used), that reports its result through a callback, as C
 * libraries usually do.
 *
 * Both styles print the same timeline and the same title. The backend is
 * NAME, else $INTERLOOP_BACKEND, else builtin. The last line is
 * "RESULT callbacks_vs_tasks ok title=<title>", or
 * "RESULT callbacks_vs_tasks FAILED: why" with exit status 1 (for instance
 * for a HOST the simulated directory does not know). */
#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_SECONDS 0.1

static double t0; /* il_loop_time() when the current style started */

/* ---- the three slow operations ---------------------------------------------
 * Each one is started with a callback, returns at once, and calls
 * done(error, value, arg) about 0.1 s later from a timer: with error 0 and a
 * value (a malloc'ed string the callback now owns), or with a negative
 * IL_E* code and no value. Starting one fails (returns < 0, and done is not
 * called) only if the timer cannot be scheduled. */
typedef void (*step_done_fn)(int error, char *value, void *arg);

typedef struct pending {
  int error;
  char *value;
  step_done_fn done;
  void *arg;
} pending_t;

static int deliver(il_loop_t *loop, void *arg) {
  (void)loop;
  pending_t *p = arg;
  p->done(p->error, p->value, p->arg);
  free(p);
  return 0;
}

/* Computes the result now, delivers it STEP_SECONDS later. */
static int finish_later(il_loop_t *loop, int error, char *value,
                        step_done_fn done, void *arg) {
  pending_t *p = malloc(sizeof(*p));
  if (!p) {
    free(value);
    return IL_ENOMEM;
  }
  *p = (pending_t){error, value, done, arg};
  int rc = il_loop_call_later(loop, STEP_SECONDS, deliver, p, NULL);
  if (rc < 0) {
    free(p->value);
    free(p);
  }
  return rc;
}

static char *format(const char *fmt, const char *s) {
  size_t n = strlen(fmt) + strlen(s) + 1;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, fmt, s);
  return out;
}

/* Step 1: host name -> address, from a tiny simulated directory. */
static int look_up(il_loop_t *loop, const char *host, step_done_fn done,
                   void *arg) {
  static const char *const directory[][2] = {
      {"example.org", "192.0.2.10"},
      {"interloop.test", "192.0.2.20"},
  };
  for (size_t i = 0; i < sizeof(directory) / sizeof(directory[0]); i++)
    if (!strcmp(host, directory[i][0]))
      return finish_later(loop, 0, strdup(directory[i][1]), done, arg);
  return finish_later(loop, IL_EAI, NULL, done, arg); /* unknown host */
}

/* Step 2: address -> the page served there. */
static int fetch(il_loop_t *loop, const char *address, step_done_fn done,
                 void *arg) {
  char *page = format("<html><head><title>Welcome to %s</title></head>"
                      "<body>...</body></html>",
                      address);
  return finish_later(loop, page ? 0 : IL_ENOMEM, page, done, arg);
}

/* Step 3: page -> the text between <title> and </title>. */
static int parse_title(il_loop_t *loop, const char *page, step_done_fn done,
                       void *arg) {
  const char *start = strstr(page, "<title>");
  const char *end = start ? strstr(start, "</title>") : NULL;
  if (!end)
    return finish_later(loop, IL_EINVAL, NULL, done, arg);
  start += strlen("<title>");
  char *title = strndup(start, (size_t)(end - start));
  return finish_later(loop, title ? 0 : IL_ENOMEM, title, done, arg);
}

static void show(il_loop_t *loop, const char *what, const char *value) {
  printf("  %4.2f s  %-9s -> %.40s%s\n", il_loop_time(loop) - t0, what, value,
         strlen(value) > 40 ? "..." : "");
}

/* ---- style 1: a chain of callbacks -----------------------------------------
 * Each step's callback starts the next step. The state the steps share has
 * to live in a struct passed along by hand, every callback checks for
 * errors on its own, and the order of the steps is spread over three
 * functions that read bottom to top. */
typedef struct chain {
  il_loop_t *loop;
  int error;   /* how it ended: 0 or an IL_E* code */
  char *title; /* the result, malloc'ed */
} chain_t;

/* Ends the chain: record the outcome and stop the loop run by main. */
static void chain_end(chain_t *c, int error, char *title) {
  c->error = error;
  c->title = title;
  il_loop_stop(c->loop);
}

static void on_title(int error, char *title, void *arg) {
  chain_t *c = arg;
  if (error == 0)
    show(c->loop, "parsed", title);
  chain_end(c, error, title);
}

static void on_page(int error, char *page, void *arg) {
  chain_t *c = arg;
  if (error == 0) {
    show(c->loop, "fetched", page);
    error = parse_title(c->loop, page, on_title, c);
    free(page);
  }
  if (error < 0)
    chain_end(c, error, NULL);
}

static void on_address(int error, char *address, void *arg) {
  chain_t *c = arg;
  if (error == 0) {
    show(c->loop, "looked up", address);
    error = fetch(c->loop, address, on_page, c);
    free(address);
  }
  if (error < 0)
    chain_end(c, error, NULL);
}

static int with_callbacks(il_loop_t *loop, const char *host, char **title) {
  chain_t c = {loop, 0, NULL};
  int rc = look_up(loop, host, on_address, &c);
  if (rc == 0)
    rc = il_loop_run(loop, IL_RUN_DEFAULT); /* until chain_end stops it */
  if (rc == 0)
    rc = c.error;
  *title = c.title;
  return rc;
}

/* ---- style 2: one task -----------------------------------------------------
 * To await a callback operation, wrap it once in a future: the callback
 * completes the future, il_await waits for it. After that the three steps
 * read top to bottom, like blocking code, with ordinary local variables and
 * one error check per step — but the loop keeps running other work while
 * the task waits. */
typedef int (*step_fn)(il_loop_t *loop, const char *input, step_done_fn done,
                       void *arg);

/* The operation's callback: completes the future. The future holds the
 * value from now on and frees it. If nobody waits any more (the task was
 * cancelled, which cancelled the future), the value is just dropped. */
static void complete_future(int error, char *value, void *arg) {
  il_future_t *f = arg;
  int rc = error < 0 ? il_future_set_error(f, error, NULL)
                     : il_future_set_result(f, value, free);
  if (error < 0 || rc < 0)
    free(value);
  il_future_unref(f); /* the reference the operation held */
}

/* Inside a task: runs one step and waits for it. On success *out is a copy
 * of the value, which the caller frees. */
static int await_step(il_loop_t *loop, step_fn step, const char *input,
                      char **out) {
  il_future_t *f;
  int rc = il_future_new(loop, &f);
  if (rc < 0)
    return rc;
  il_future_ref(f); /* one for the operation, released by complete_future */
  rc = step(loop, input, complete_future, f);
  if (rc < 0)
    il_future_unref(f); /* the operation did not start: drop its reference */
  void *value = NULL;
  if (rc == 0)
    rc = il_await(f, &value);
  if (rc == 0 && !(*out = strdup(value)))
    rc = IL_ENOMEM;
  il_future_unref(f);
  return rc;
}

static int get_title(il_task_t *self, void *arg) {
  il_loop_t *loop = il_future_loop(self);
  char *address = NULL, *page = NULL, *title = NULL;

  int rc = await_step(loop, look_up, arg, &address);
  if (rc == 0) {
    show(loop, "looked up", address);
    rc = await_step(loop, fetch, address, &page);
  }
  if (rc == 0) {
    show(loop, "fetched", page);
    rc = await_step(loop, parse_title, page, &title);
  }
  if (rc == 0) {
    show(loop, "parsed", title);
    rc = il_task_return(self, title, free); /* the task owns it now */
  }
  free(address);
  free(page);
  if (rc < 0)
    free(title);
  return rc;
}

static int with_a_task(il_loop_t *loop, const char *host, char **title) {
  il_task_t *task;
  int rc = il_task_spawn(loop, get_title, (void *)host, NULL, &task);
  if (rc < 0)
    return rc;
  void *value = NULL;
  rc = il_loop_run_until_complete(loop, task, &value);
  if (rc == 0 && !(*title = strdup(value)))
    rc = IL_ENOMEM;
  il_future_unref(task);
  return rc;
}

/* ---- main ------------------------------------------------------------------
 */

static void print_outcome(int rc, const char *title) {
  if (rc < 0)
    printf("  failed: %s\n", il_strerror(rc));
  else
    printf("  title: %s\n", title);
}

int main(int argc, char **argv) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  const char *host = "example.org";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i]; /* NULL (default): $INTERLOOP_BACKEND */
    else if (argv[i][0] != '-')
      host = argv[i];
    else {
      fprintf(stderr,
              "usage: interloop-callbacks-vs-tasks [--backend NAME] [HOST]\n");
      return 2;
    }
  }
  il_loop_t *loop;
  if (il_loop_new(&loop, &opts) < 0) {
    fprintf(stderr, "callbacks_vs_tasks: %s\n", il_loop_last_error_message());
    printf("RESULT callbacks_vs_tasks FAILED: no backend\n");
    return 1;
  }
  printf("the title of %s's home page, backend %s\n", host,
         il_loop_backend_name(loop));

  char *titles[2] = {NULL, NULL};
  int rcs[2];
  printf("with a chain of callbacks:\n");
  t0 = il_loop_time(loop);
  rcs[0] = with_callbacks(loop, host, &titles[0]);
  print_outcome(rcs[0], titles[0]);

  printf("with one task:\n");
  t0 = il_loop_time(loop);
  rcs[1] = with_a_task(loop, host, &titles[1]);
  print_outcome(rcs[1], titles[1]);
  il_loop_free(loop);

  int ok = rcs[0] == 0 && rcs[1] == 0 && !strcmp(titles[0], titles[1]);
  if (ok)
    printf("RESULT callbacks_vs_tasks ok title=%s\n", titles[0]);
  else if (rcs[0] == rcs[1] && rcs[0] < 0)
    printf("RESULT callbacks_vs_tasks FAILED: both styles: %s\n",
           il_strerror(rcs[0]));
  else
    printf("RESULT callbacks_vs_tasks FAILED: the styles disagree\n");
  free(titles[0]);
  free(titles[1]);
  return ok ? 0 : 1;
}
