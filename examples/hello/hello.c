/* examples/hello/hello.c — the smallest interloop program: print "Hello",
 * and "World" two seconds later from a timer, then stop.
 *
 *   interloop-hello [--backend NAME] [--delay SECONDS]
 *
 * The backend is NAME, else $INTERLOOP_BACKEND, else builtin (the others:
 * builtin-poll, uv, ev, event). The last line is "RESULT hello ok", or
 * "RESULT hello FAILED: why" with exit status 1. */
#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hello {
  double start;    /* il_loop_time() when "Hello" was printed */
  double world_at; /* il_loop_time() when "World" was printed */
} hello_t;

/* A timer callback: runs on the loop thread once the delay has passed. */
static int say_world(il_loop_t *loop, void *arg) {
  hello_t *h = arg;
  h->world_at = il_loop_time(loop);
  printf("World (%.2f s later)\n", h->world_at - h->start);
  /* Nothing else to do: ask il_loop_run() to return. A loop does not stop by
   * itself when it runs out of work (like asyncio's run_forever). */
  return il_loop_stop(loop);
}

int main(int argc, char **argv) {
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  double delay = 2.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i]; /* NULL (default): $INTERLOOP_BACKEND */
    else if (!strcmp(argv[i], "--delay") && i + 1 < argc)
      delay = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: interloop-hello [--backend NAME] "
                      "[--delay SECONDS]\n");
      return 2;
    }
  }

  il_loop_t *loop;
  if (il_loop_new(&loop, &opts) < 0) {
    fprintf(stderr, "hello: %s\n", il_loop_last_error_message());
    printf("RESULT hello FAILED: no backend\n");
    return 1;
  }
  printf("backend %s (%s)\n", il_loop_backend_name(loop),
         il_loop_engine_version(loop));

  hello_t h = {0};
  h.start = il_loop_time(loop);
  printf("Hello\n");
  int rc = il_loop_call_later(loop, delay, say_world, &h, NULL);
  if (rc == 0)
    rc = il_loop_run(loop, IL_RUN_DEFAULT); /* returns after il_loop_stop */
  il_loop_free(loop);

  /* A timer never fires early (SPEC §4.4): check it, so the test means it. */
  if (rc < 0)
    printf("RESULT hello FAILED: %s\n", il_strerror(rc));
  else if (h.world_at - h.start < delay)
    printf("RESULT hello FAILED: World came early\n");
  else
    printf("RESULT hello ok\n");
  return rc < 0 || h.world_at - h.start < delay ? 1 : 0;
}
