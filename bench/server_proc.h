/* bench/server_proc.h — a benchmark client's view of the server process
 * it drives, from /proc: CPU time of all its threads (schedstat, ns), its
 * voluntary context switches, utime + stime, and its resident set.
 * bench/echo_client.c and bench/udp_client.c set server_pid from --pid. */
#ifndef IL_BENCH_SERVER_PROC_H
#define IL_BENCH_SERVER_PROC_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long server_pid;

/* The sum over the server's threads of what `parse` reads from each
 * /proc/PID/task/TID/`file`; 0 without --pid. */
static inline double per_thread_sum(const char *file,
                                    double (*parse)(FILE *f)) {
  char path[64];
  double sum = 0;
  if (!server_pid)
    return 0;
  snprintf(path, sizeof(path), "/proc/%ld/task", server_pid);
  DIR *d = opendir(path);
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char p[400];
    snprintf(p, sizeof(p), "%s/%s/%s", path, e->d_name, file);
    FILE *f = fopen(p, "r");
    if (f) {
      sum += parse(f);
      fclose(f);
    }
  }
  closedir(d);
  return sum;
}

/* schedstat's first field: nanoseconds on CPU. */
static inline double parse_schedstat(FILE *f) {
  unsigned long long ns = 0;
  return fscanf(f, "%llu", &ns) == 1 ? (double)ns / 1e9 : 0;
}

/* Seconds on CPU of every thread of the server. */
static inline double server_cpu(void) {
  return per_thread_sum("schedstat", parse_schedstat);
}

/* status's voluntary_ctxt_switches. */
static inline double parse_waits(FILE *f) {
  char line[256];
  long v;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
      return (double)v;
  return 0;
}

/* How many times the server's threads blocked (voluntary context switches):
 * each is a poll that found nothing ready. */
static inline long server_waits(void) {
  return (long)per_thread_sum("status", parse_waits);
}

/* utime + stime of /proc/PID/stat, in seconds (10 ms resolution). */
static inline double server_stat_cpu(void) {
  char path[64], line[1024];
  if (!server_pid)
    return 0;
  snprintf(path, sizeof(path), "/proc/%ld/stat", server_pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t n = fread(line, 1, sizeof(line) - 1, f);
  fclose(f);
  line[n] = 0;
  char *p = strrchr(line, ')'); /* the name may hold spaces */
  unsigned long long ut = 0, st = 0;
  if (!p ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &ut, &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's resident set in bytes (/proc/PID/statm). */
static inline long server_rss(void) {
  char path[64];
  long virt = 0, rss = 0;
  snprintf(path, sizeof(path), "/proc/%ld/statm", server_pid);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &virt, &rss) != 2)
      rss = 0;
    fclose(f);
  }
  return rss * sysconf(_SC_PAGESIZE);
}

#endif
