/* tools/interloop-info.c — which backends this installation can load.
 *
 *   interloop-info                 every backend found, with engine versions
 *   interloop-info --backend NAME  load one; on failure say why (exit 1)
 *   interloop-info --engine NAME   print only its engine's version (scripts)
 */
#include <interloop/backend.h>
#include <interloop/interloop.h>

#include <stdio.h>
#include <string.h>

static void features(const il_backend_ops_t *ops, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s%s%s",
           ops->features & IL_BACKEND_F_ADOPT ? "adopt " : "",
           ops->features & IL_BACKEND_F_SIGNALS ? "signals " : "",
           ops->features & IL_BACKEND_F_FORK ? "fork " : "",
           ops->foreign_new ? "adopted-mode-tests" : "");
}

/* Loads the backend and creates (then frees) a loop on it, so a plugin
 * whose engine library is missing or broken is caught here too. */
static int show(const char *name, int verbose) {
  const il_backend_ops_t *ops;
  if (il_backend_load(name, &ops) != 0) {
    printf("%-14s NOT LOADABLE: %s\n", name, il_loop_last_error_message());
    return 1;
  }
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = name;
  il_loop_t *loop;
  int rc = il_loop_new(&loop, &opts);
  if (rc != 0) {
    printf("%-14s LOADED BUT UNUSABLE: %s (%s)\n", name,
           il_loop_last_error_message(), il_err_name(rc));
    return 1;
  }
  il_loop_free(loop);
  char f[128];
  features(ops, f, sizeof(f));
  printf("%-14s %-36s abi %u.%u  %s\n", ops->name, ops->engine_version(),
         IL_BACKEND_ABI_MAJOR_OF(ops->abi_version), ops->abi_version & 0xffffu,
         f);
  (void)verbose;
  return 0;
}

int main(int argc, char **argv) {
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
      only = argv[++i];
    } else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
      const il_backend_ops_t *ops;
      if (il_backend_load(argv[++i], &ops) != 0) {
        fprintf(stderr, "%s\n", il_loop_last_error_message());
        return 1;
      }
      printf("%s\n", ops->engine_version());
      return 0;
    } else {
      fprintf(stderr,
              "usage: interloop-info [--backend NAME|PATH | --engine NAME]\n");
      return 2;
    }
  }
  printf("interloop %s, adapter ABI %d.%d\n", il_version_string(),
         IL_BACKEND_ABI_MAJOR, IL_BACKEND_ABI_MINOR);
  printf("plugin path: %s\n", il_backend_search_path());
  if (only)
    return show(only, 1);
  const char *names[32];
  size_t n = il_backend_names(names, 32);
  int failures = 0;
  for (size_t i = 0; i < n && i < 32; i++)
    failures += show(names[i], 0);
  return failures ? 1 : 0;
}
