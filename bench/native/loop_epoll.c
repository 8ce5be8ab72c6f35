/* bench/native/loop_epoll.c — the raw epoll floor under loop_bench's
 * workloads where one applies: what the kernel calls alone cost.
 *   iteration   epoll_wait(ep, events, 64, 0) N times, one idle eventfd
 *               registered
 *   threadsafe  T threads ping-pong with the loop, each through its own
 *               eventfd: the thread writes it, the loop (epoll_wait, read)
 *               answers
 * Run: native_loop_epoll iteration N | threadsafe N THREADS; prints
 * native.h's line. */
#include "native.h"

#include <sys/epoll.h>

static void watch(int ep, int fd, void *ptr) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ptr};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    perror("epoll_ctl");
    exit(1);
  }
}

static void iteration(int ep, long n) {
  int fd = nb_idle_fd();
  struct epoll_event evs[64];
  watch(ep, fd, NULL);
  double w = nb_wall(), c = nb_cpu();
  for (long i = 0; i < n; i++)
    epoll_wait(ep, evs, 64, 0);
  nb_report("iteration", nb_wall() - w, nb_cpu() - c, n);
  close(fd);
}

static void efd_send(nb_pinger_t *p) {
  uint64_t one = 1;
  if (write(*(int *)p->watcher, &one, sizeof(one)) != sizeof(one))
    abort();
}

/* The loop: wait, and answer every thread whose eventfd was written. */
static void answer_all(int ep, long total) {
  struct epoll_event evs[64];
  while (total > 0) {
    int k = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < k; i++) {
      nb_pinger_t *p = evs[i].data.ptr;
      uint64_t v;
      if (read(*(int *)p->watcher, &v, sizeof(v)) == sizeof(v)) {
        nb_answer(p);
        total--;
      }
    }
  }
}

static void threadsafe(int ep, long n, int threads) {
  nb_pinger_t p[64];
  int fds[64];
  nb_pingers_init(p, threads, n, efd_send);
  for (int i = 0; i < threads; i++) {
    fds[i] = nb_idle_fd();
    p[i].watcher = &fds[i];
    watch(ep, fds[i], &p[i]);
  }
  long total = nb_pingers_total(p, threads);
  double w = nb_wall(), c = nb_cpu();
  nb_pingers_start(p, threads);
  answer_all(ep, total);
  nb_pingers_join(p, threads);
  nb_report_threads(nb_wall() - w, nb_cpu() - c, total, threads);
  for (int i = 0; i < threads; i++)
    close(fds[i]);
}

static int usage(void) {
  fprintf(stderr, "usage: native_loop_epoll iteration N\n"
                  "       native_loop_epoll threadsafe N THREADS\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  long n = atol(argv[2]);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!strcmp(argv[1], "iteration"))
    iteration(ep, n);
  else if (!strcmp(argv[1], "threadsafe") && nb_threads_arg(argc, argv))
    threadsafe(ep, n, nb_threads_arg(argc, argv));
  else
    return usage();
  close(ep);
  return 0;
}
