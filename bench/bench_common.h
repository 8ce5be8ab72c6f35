/* bench/bench_common.h — what the interloop benchmark programs share. */
#ifndef IL_BENCH_COMMON_H
#define IL_BENCH_COMMON_H

#include <interloop/interloop.h>

#include <stdio.h>
#include <stdlib.h>

/* A loop on `backend`; exits with status 2 and the loader's reason (prefixed
 * with `prog`) when the backend cannot be loaded. */
static inline il_loop_t *bench_new_loop(const char *prog, const char *backend) {
  il_loop_t *loop;
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = backend;
  if (il_loop_new(&loop, &opts) != 0) {
    fprintf(stderr, "%s: %s\n", prog, il_loop_last_error_message());
    exit(2);
  }
  return loop;
}

#endif
