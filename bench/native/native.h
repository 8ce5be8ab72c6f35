/* bench/native/native.h — what every native benchmark shares: the workload
 * names and sizes, the clocks, and one output line per run:
 *   "<workload> <wall seconds> <cpu seconds> <count>"
 * so bench/run.sh can compare them with loop_bench's figures. */
#ifndef IL_BENCH_NATIVE_H
#define IL_BENCH_NATIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double nb_wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double nb_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* libuv's million_timers schedule: 1 000 timers per millisecond step, so
 * deadlines run from 1 ms to n/1000 ms. */
static inline unsigned nb_timer_ms(long i) { return (unsigned)(1 + i / 1000); }

static inline void nb_report(const char *workload, double wall, double cpu,
                             long count) {
  printf("%s %.6f %.6f %ld\n", workload, wall, cpu, count);
}

static inline int nb_usage(const char *prog) {
  fprintf(stderr, "usage: %s chain|timers N\n", prog);
  return 2;
}

#endif
