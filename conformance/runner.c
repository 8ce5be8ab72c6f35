/* conformance/runner.c — interloop-conformance: runs the suite against any
 * backend.
 *
 *   interloop-conformance [--backend NAME|PATH]... [--mode owned|adopted]
 *                         [--filter GLOB] [--list] [--junit FILE]
 *                         [--timeout-scale X] [--no-fork]
 *
 * Every test runs in a child process of its own (as libuv's runner does), so
 * a crash or a hang fails that test by name and never the suite: a test that
 * outlives its time limit is killed and reported as TIMEOUT. */
#include "harness.h"
#include "test_list.h"

#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct test_entry {
  const char *name;
  CMUnitTestFunction fn;
  double timeout;
} test_entry_t;

static const test_entry_t all_tests[] = {
#define X_ENTRY(name, timeout) {#name, name, timeout},
    IL_CONFORMANCE_TESTS(X_ENTRY)
#undef X_ENTRY
};
#define NTESTS (sizeof(all_tests) / sizeof(all_tests[0]))

typedef struct result {
  const char *backend;
  const char *name;
  int status; /* 0 pass, 1 fail, 2 timeout, 3 skipped */
  double seconds;
  char *output;
} result_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_in_process(const test_entry_t *t) {
  struct CMUnitTest one[1] = {
      {t->name, t->fn, il_test_setup, il_test_teardown, NULL}};
  return _cmocka_run_group_tests(t->name, one, 1, NULL, NULL);
}

/* Keeps cmocka's per-test lines, drops its one-test group header and
 * summary (everything cmocka prints after "[==========] 1 test(s) run."),
 * but keeps what others print after it — sanitizer reports come at exit. */
static void print_filtered(const char *out) {
  const char *p = out;
  int summary = 0;
  while (*p) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int header = len >= 12 && !strncmp(p, "[==========]", 12);
    if (header && memmem(p, len, "test(s) run", 11))
      summary = 1;
    int cmocka_summary =
        summary && ((len > 0 && p[0] == '[') ||
                    (len > 1 && p[0] == ' ' && memmem(p, len, "TEST(S)", 7)));
    if (!header && !cmocka_summary && len > 0)
      printf("%.*s\n", (int)len, p);
    p += len + (end ? 1 : 0);
  }
}

static result_t run_forked(const char *backend, const test_entry_t *t,
                           double scale) {
  result_t r = {backend, t->name, 1, 0, NULL};
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    perror("pipe");
    exit(2);
  }
  fflush(stdout);
  fflush(stderr);
  double start = now_s();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    setpgid(0, 0);
    close(pipefd[0]);
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    close(pipefd[1]);
    setvbuf(stdout, NULL, _IONBF, 0);
    int failed = run_in_process(t);
    fflush(stdout);
    exit(failed ? 1 : 0); /* exit, not _exit: LeakSanitizer checks at exit */
  }
  setpgid(pid, pid);
  close(pipefd[1]);
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  double limit = t->timeout * scale;
  int status = 0, exited = 0, timed_out = 0, eof = 0;
  while (!exited || !eof) {
    struct pollfd pfd = {pipefd[0], POLLIN, 0};
    int n = eof ? 0 : poll(&pfd, 1, 20);
    if (n > 0) {
      if (len + 1024 > cap) {
        cap *= 2;
        buf = realloc(buf, cap);
      }
      ssize_t got = read(pipefd[0], buf + len, cap - len - 1);
      if (got > 0)
        len += (size_t)got;
      else if (got == 0 || (errno != EINTR && errno != EAGAIN))
        eof = 1;
    } else if (eof) {
      il_test_sleep(0.005);
    }
    if (!exited && waitpid(pid, &status, WNOHANG) == pid)
      exited = 1;
    /* A grandchild may keep the pipe open after the test process exits. */
    if (exited && !eof && now_s() - start > limit)
      eof = 1;
    if (!exited && now_s() - start > limit) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      exited = 1;
      timed_out = 1;
    }
  }
  kill(-pid, SIGKILL); /* leftovers of the test's own children, if any */
  close(pipefd[0]);
  buf[len] = '\0';
  r.seconds = now_s() - start;
  r.output = buf;
  if (timed_out) {
    r.status = 2;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    r.status = strstr(buf, "[  SKIPPED ]") ? 3 : 0;
  } else {
    r.status = 1;
    if (WIFSIGNALED(status)) {
      char extra[96];
      snprintf(extra, sizeof(extra), "[  ERROR   ] %s: killed by signal %d\n",
               t->name, WTERMSIG(status));
      size_t el = strlen(extra);
      buf = realloc(buf, len + el + 1);
      memcpy(buf + len, extra, el + 1);
      r.output = buf;
    }
  }
  print_filtered(r.output);
  if (timed_out)
    printf("[  TIMEOUT ] %s (killed after %.1f s)\n", t->name, limit);
  fflush(stdout);
  return r;
}

static void xml_escape(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
        fputc(*s, f);
    }
  }
}

static void write_junit(const char *path, const char *suite, result_t *res,
                        size_t n) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return;
  }
  size_t failures = 0, skipped = 0;
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    failures += res[i].status == 1 || res[i].status == 2;
    skipped += res[i].status == 3;
    total += res[i].seconds;
  }
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
  fprintf(f,
          "<testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
          "skipped=\"%zu\" time=\"%.3f\">\n",
          suite, n, failures, skipped, total);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
            res[i].backend, res[i].name, res[i].seconds);
    if (res[i].status == 0) {
      fputs("/>\n", f);
      continue;
    }
    fputs(">\n", f);
    if (res[i].status == 3)
      fputs("    <skipped/>\n", f);
    else {
      fprintf(f, "    <failure message=\"%s\"><![CDATA[",
              res[i].status == 2 ? "timeout" : "failed");
      xml_escape(f, res[i].output ? res[i].output : "");
      fputs("]]></failure>\n", f);
    }
    fputs("  </testcase>\n", f);
  }
  fputs("</testsuite>\n</testsuites>\n", f);
  fclose(f);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: interloop-conformance [--backend NAME|PATH]... "
          "[--mode owned|adopted]\n"
          "         [--filter GLOB] [--list] [--junit FILE] "
          "[--timeout-scale X] [--no-fork]\n"
          "Runs interloop's conformance suite against each backend (default: "
          "every backend\nthis build can find). Each test runs in its own "
          "process with a time limit.\n");
}

int main(int argc, char **argv) {
  const char *backends[16];
  size_t nbackends = 0;
  const char *filter = NULL, *junit = NULL;
  int list = 0, no_fork = 0, adopted = 0;
  double scale = 1.0;
  const char *env_scale = getenv("INTERLOOP_TEST_TIMEOUT_SCALE");
  if (env_scale)
    scale = atof(env_scale) > 0 ? atof(env_scale) : 1.0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--backend") && v) {
      if (nbackends < 16)
        backends[nbackends++] = v;
      i++;
    } else if (!strcmp(a, "--mode") && v) {
      if (!strcmp(v, "adopted"))
        adopted = 1;
      else if (strcmp(v, "owned")) {
        fprintf(stderr, "unknown mode \"%s\" (owned or adopted)\n", v);
        return 2;
      }
      i++;
    } else if (!strcmp(a, "--filter") && v) {
      filter = v;
      i++;
    } else if (!strcmp(a, "--junit") && v) {
      junit = v;
      i++;
    } else if (!strcmp(a, "--timeout-scale") && v) {
      scale = atof(v) > 0 ? atof(v) : 1.0;
      i++;
    } else if (!strcmp(a, "--list")) {
      list = 1;
    } else if (!strcmp(a, "--no-fork")) {
      no_fork = 1;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "unknown argument \"%s\"\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (list) {
    for (size_t i = 0; i < NTESTS; i++)
      if (!filter || fnmatch(filter, all_tests[i].name, 0) == 0)
        printf("%s\n", all_tests[i].name);
    return 0;
  }
  if (nbackends == 0) {
    nbackends = il_backend_names(backends, 16);
    if (nbackends > 16)
      nbackends = 16;
  }
  /* Refuse unknown or unusable backends before running anything. */
  for (size_t b = 0; b < nbackends; b++) {
    const il_backend_ops_t *ops;
    if (il_backend_load(backends[b], &ops) < 0) {
      fprintf(stderr, "interloop-conformance: %s\n",
              il_loop_last_error_message());
      return 2;
    }
    if (adopted && !(ops->features & IL_BACKEND_F_ADOPT && ops->foreign_new &&
                     ops->foreign_free)) {
      fprintf(stderr,
              "interloop-conformance: backend \"%s\" does not support "
              "adopted mode (IL_ENOTSUP: no foreign-loop support)\n",
              backends[b]);
      return 2;
    }
  }
  il_test_adopted = adopted;
  result_t *results = calloc(NTESTS * nbackends, sizeof(*results));
  size_t nres = 0, failed = 0, passed = 0, skipped = 0;
  for (size_t b = 0; b < nbackends; b++) {
    il_test_backend = backends[b];
    printf("[==========] backend %s (%s mode)\n", backends[b],
           adopted ? "adopted" : "owned");
    for (size_t i = 0; i < NTESTS; i++) {
      const test_entry_t *t = &all_tests[i];
      if (filter && fnmatch(filter, t->name, 0) != 0)
        continue;
      result_t r;
      if (no_fork) {
        double start = now_s();
        r = (result_t){backends[b], t->name, run_in_process(t) ? 1 : 0, 0,
                       NULL};
        r.seconds = now_s() - start;
      } else {
        r = run_forked(backends[b], t, scale);
      }
      results[nres++] = r;
      failed += r.status == 1 || r.status == 2;
      passed += r.status == 0;
      skipped += r.status == 3;
    }
  }
  printf("[==========] %zu test(s) run: %zu passed, %zu skipped, %zu failed\n",
         nres, passed, skipped, failed);
  for (size_t i = 0; i < nres; i++)
    if (results[i].status == 1 || results[i].status == 2)
      printf("[  FAILED  ] %s: %s%s\n", results[i].backend, results[i].name,
             results[i].status == 2 ? " (timeout)" : "");
  if (junit) {
    char suite[128];
    snprintf(suite, sizeof(suite), "interloop-conformance%s",
             adopted ? "-adopted" : "");
    write_junit(junit, suite, results, nres);
  }
  for (size_t i = 0; i < nres; i++)
    free(results[i].output);
  free(results);
  return failed ? 1 : 0;
}
