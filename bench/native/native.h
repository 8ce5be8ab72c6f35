/* bench/native/native.h — what the loop benchmarks share (bench/loop_bench.c,
 * native_uv.c, native_ev.c, native_event.c, loop_epoll.c): the workload
 * shapes, the clocks, the resident set, the thread-safe ping-pong's threads,
 * and one output line per run:
 *   "<workload> <wall seconds> <cpu seconds> <count> [key=value ...]"
 * which bench/parts/loop.py reads. */
#ifndef IL_BENCH_NATIVE_H
#define IL_BENCH_NATIVE_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

/* Resident bytes of this process, from /proc/self/statm. */
static inline long nb_rss(void) {
  long virt = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &virt, &rss) != 2)
      rss = 0;
    fclose(f);
  }
  return rss * sysconf(_SC_PAGESIZE);
}

/* libuv's million_timers schedule: 1 000 timers per millisecond step, so
 * deadlines run from 1 ms to n/1000 ms. */
static inline unsigned nb_timer_ms(long i) {
  return (unsigned)(1 + i / 1000);
}

/* timer_mem's deadlines: an hour away (never due during the run), distinct
 * as in million_timers. */
static inline unsigned nb_far_ms(long i) {
  return 3600000u + nb_timer_ms(i);
}

/* The fd `iteration` keeps registered for reading: an eventfd nobody writes,
 * so the loop has something to poll and never anything ready. */
static inline int nb_idle_fd(void) {
  return eventfd(0, EFD_NONBLOCK);
}

static inline void nb_report(const char *workload, double wall, double cpu,
                             long count) {
  printf("%s %.6f %.6f %ld\n", workload, wall, cpu, count);
}

static inline void nb_report_mem(double wall, double cpu, long count,
                                 long rss_growth) {
  printf("timer_mem %.6f %.6f %ld bytes_per_timer=%.1f\n", wall, cpu, count,
         (double)rss_growth / (double)count);
}

static inline int nb_usage(const char *prog) {
  fprintf(stderr,
          "usage: %s chain|iteration|timers|timers_cancel|timer_mem N\n"
          "       %s threadsafe N THREADS   (N round trips in all)\n",
          prog, prog);
  return 2;
}

/* ---- thread-safe ping-pong ------------------------------------------------
 * libuv's async1..N shape: each of T threads sends to the loop (the
 * engine's cross-thread wakeup, given as `send`), the loop's callback
 * answers with nb_answer(), the thread waits for the answer (a semaphore
 * post, the same in every program), and sends again. */
typedef struct nb_pinger {
  pthread_t thread;
  sem_t answer;
  long trips;
  void (*send)(struct nb_pinger *);
  void *watcher; /* the engine's per-thread object, for `send` */
} nb_pinger_t;

static inline void *nb_pinger_main(void *arg) {
  nb_pinger_t *p = arg;
  for (long i = 0; i < p->trips; i++) {
    p->send(p);
    while (sem_wait(&p->answer) != 0 && errno == EINTR)
      ;
  }
  return NULL;
}

/* Threads' share of n round trips: n / threads each (at least one). */
static inline void nb_pingers_init(nb_pinger_t *p, int threads, long n,
                                   void (*send)(nb_pinger_t *)) {
  for (int i = 0; i < threads; i++) {
    sem_init(&p[i].answer, 0, 0);
    p[i].trips = n / threads > 0 ? n / threads : 1;
    p[i].send = send;
  }
}

static inline long nb_pingers_total(const nb_pinger_t *p, int threads) {
  long total = 0;
  for (int i = 0; i < threads; i++)
    total += p[i].trips;
  return total;
}

static inline void nb_pingers_start(nb_pinger_t *p, int threads) {
  for (int i = 0; i < threads; i++)
    pthread_create(&p[i].thread, NULL, nb_pinger_main, &p[i]);
}

static inline void nb_pingers_join(nb_pinger_t *p, int threads) {
  for (int i = 0; i < threads; i++) {
    pthread_join(p[i].thread, NULL);
    sem_destroy(&p[i].answer);
  }
}

static inline void nb_answer(nb_pinger_t *p) {
  sem_post(&p->answer);
}

static inline void nb_report_threads(double wall, double cpu, long trips,
                                     int threads) {
  printf("threadsafe %.6f %.6f %ld threads=%d\n", wall, cpu, trips, threads);
}

/* THREADS of `threadsafe` (argv[3]); 0 when missing or out of 1..64. */
static inline int nb_threads_arg(int argc, char **argv) {
  int t = argc > 3 ? atoi(argv[3]) : 0;
  return t >= 1 && t <= 64 ? t : 0;
}

#endif
