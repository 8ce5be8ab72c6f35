/* bench/echo_client.c — the load generator for the echo servers (bench/
 * echo_server.c, bench/native/echo_*.c), on raw epoll so it costs as little
 * as it can: it shares the machine with the server it measures.
 *
 *   bench_echo_client pingpong PORT [--conns 50] [--size 64] [--trips N]
 *                             [--warmup W] [--pid PID]
 *       --conns connections each send --size bytes, wait for the whole
 *       echo (checked byte for byte), and send again; W round trips per
 *       connection first (default 100), then N round trips in all
 *       (default 200 000), spread evenly. The measured window is the N.
 *   bench_echo_client pump PORT [--bytes B] [--chunk C] [--pid PID]
 *       one connection; B bytes (default 256 MiB) offered in write() calls
 *       of C bytes (default 1 MiB) while the echo is read back as it comes.
 *   bench_echo_client idle PORT [--conns 10000] [--pid PID] [--hold]
 *       opens the connections one by one, each sending one byte and waiting
 *       for its echo (so the server has accepted it and made its transport),
 *       and reports the growth of the server's resident set. With --hold it
 *       keeps them open after its line until its stdin is closed (so the
 *       caller can look at the server meanwhile).
 *
 * Output, one line (bench/run.py's format, as loop_bench's):
 *   "<workload> <wall s> <server cpu s> <count> [key=value]..."
 * The server's CPU time is read from outside, before and after the
 * measured window, as the sum over its threads of /proc/PID/task/TID/
 * schedstat's first field (time on CPU, user + system, in nanoseconds);
 * /proc/PID/stat's utime + stime count in 10 ms ticks, too coarse for a
 * one-second window, and are given alongside (stat_cpu=) as a check.
 * Without --pid the CPU figures are 0. pingpong adds ns_per_trip (server
 * CPU per round trip), waits_per_trip (the server's voluntary context
 * switches per round trip: how often it found nothing to do and slept, which
 * sets how many round trips each poll serves) and client_cpu; pump adds
 * mb_per_s (10^6 bytes echoed per second), ns_per_kb (server CPU per KiB
 * echoed) and client_cpu; idle adds rss_before, rss_after (bytes) and
 * rss_per_conn. */
#include "native/native.h"
#include "net_common.h"
#include "server_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* ---- the server, seen from outside: bench/server_proc.h ---------------- */

static int port;

/* A blocking connection to 127.0.0.1:port with TCP_NODELAY. */
static int dial(void) {
  struct sockaddr_in sin;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
    die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static void set_nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- pingpong ------------------------------------------------------------
 */

typedef struct pp_conn {
  int fd;
  size_t got; /* bytes of the current echo received */
  long left;  /* round trips still to do in this phase */
  long trips; /* done, in all */
  char in[];  /* msg_size bytes */
} pp_conn_t;

static size_t msg_size = 64;
static char *msg; /* what every connection sends */

static pp_conn_t *pp_new(void) {
  pp_conn_t *c = calloc(1, sizeof(pp_conn_t) + msg_size);
  if (!c)
    die("calloc");
  return c;
}

static void pp_send(pp_conn_t *c) {
  /* A message of at most 64 KiB on a socket with nothing queued is taken
   * whole. */
  ssize_t w = write(c->fd, msg, msg_size);
  if (w != (ssize_t)msg_size)
    die("write (short)");
  c->got = 0;
}

/* Runs every connection through `quota` round trips and returns when all
 * are done (the server is then idle). */
static void pp_phase(int ep, pp_conn_t **cs, int n, const long *quota) {
  int busy = 0;
  for (int i = 0; i < n; i++) {
    cs[i]->left = quota[i];
    if (quota[i] > 0) {
      pp_send(cs[i]);
      busy++;
    }
  }
  struct epoll_event evs[256];
  while (busy > 0) {
    int k = epoll_wait(ep, evs, 256, 10000);
    if (k == 0) {
      fprintf(stderr, "bench_echo_client: no echo for 10 s\n");
      exit(1);
    }
    for (int j = 0; j < k; j++) {
      pp_conn_t *c = evs[j].data.ptr;
      ssize_t r = read(c->fd, c->in + c->got, msg_size - c->got);
      if (r < 0 && errno == EAGAIN)
        continue;
      if (r <= 0) {
        fprintf(stderr, "bench_echo_client: connection lost\n");
        exit(1);
      }
      c->got += (size_t)r;
      if (c->got < msg_size)
        continue;
      if (memcmp(c->in, msg, msg_size)) {
        fprintf(stderr, "bench_echo_client: echo differs\n");
        exit(1);
      }
      c->trips++;
      if (--c->left > 0)
        pp_send(c);
      else
        busy--;
    }
  }
}

static int pingpong(int conns, long trips, long warmup) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  pp_conn_t **cs = calloc((size_t)conns, sizeof(*cs));
  long *quota = calloc((size_t)conns, sizeof(*quota));
  msg = malloc(msg_size);
  if (!cs || !quota || !msg)
    die("calloc");
  for (size_t i = 0; i < msg_size; i++)
    msg[i] = (char)('a' + i % 26);
  for (int i = 0; i < conns; i++) {
    cs[i] = pp_new();
    cs[i]->fd = dial();
    set_nonblock(cs[i]->fd);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cs[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i]->fd, &ev);
    quota[i] = warmup;
  }
  pp_phase(ep, cs, conns, quota);
  for (int i = 0; i < conns; i++)
    quota[i] = trips / conns + (i < trips % conns);
  double c0 = server_cpu(), s0 = server_stat_cpu(), m0 = nb_cpu();
  long w0 = server_waits();
  double t0 = nb_wall();
  pp_phase(ep, cs, conns, quota);
  double wall = nb_wall() - t0;
  double cpu = server_cpu() - c0, stat = server_stat_cpu() - s0;
  double mine = nb_cpu() - m0;
  long waits = server_waits() - w0;
  printf("pingpong %.6f %.6f %ld ns_per_trip=%.1f waits_per_trip=%.4f "
         "client_cpu=%.6f stat_cpu=%.3f\n",
         wall, cpu, trips, cpu / (double)trips * 1e9,
         (double)waits / (double)trips, mine, stat);
  for (int i = 0; i < conns; i++) {
    close(cs[i]->fd);
    free(cs[i]);
  }
  free(cs);
  free(quota);
  free(msg);
  close(ep);
  return 0;
}

/* ---- pump ----------------------------------------------------------------
 */

static int pump(long long total, size_t chunk) {
  int fd = dial();
  set_nonblock(fd);
  char *out = malloc(chunk), *in = malloc(chunk);
  if (!out || !in)
    die("malloc");
  for (size_t i = 0; i < chunk; i++)
    out[i] = (char)(i * 7 + (i >> 10));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  long long sent = 0, got = 0;
  size_t off = 0; /* into the current chunk */
  double c0 = server_cpu(), s0 = server_stat_cpu(), m0 = nb_cpu();
  double t0 = nb_wall();
  while (got < total) {
    struct epoll_event e;
    if (epoll_wait(ep, &e, 1, 10000) != 1) {
      fprintf(stderr, "bench_echo_client: pump stalled\n");
      return 1;
    }
    if ((e.events & EPOLLOUT) && sent < total) {
      size_t n = chunk - off;
      if ((long long)n > total - sent)
        n = (size_t)(total - sent);
      ssize_t w = write(fd, out + off, n);
      if (w < 0 && errno != EAGAIN)
        die("write");
      if (w > 0) {
        sent += w;
        off = (off + (size_t)w) % chunk;
      }
      if (sent == total) {
        ev.events = EPOLLIN;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      }
    }
    if (e.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      ssize_t r = read(fd, in, chunk);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        fprintf(stderr, "bench_echo_client: connection lost\n");
        return 1;
      }
      if (r > 0)
        got += r;
    }
  }
  double wall = nb_wall() - t0;
  double cpu = server_cpu() - c0, stat = server_stat_cpu() - s0;
  double mine = nb_cpu() - m0;
  printf("pump %.6f %.6f %lld mb_per_s=%.1f ns_per_kb=%.1f client_cpu=%.6f "
         "stat_cpu=%.3f\n",
         wall, cpu, got, (double)got / wall / 1e6,
         cpu / ((double)got / 1024) * 1e9, mine, stat);
  close(fd);
  close(ep);
  free(out);
  free(in);
  return 0;
}

/* ---- idle ----------------------------------------------------------------
 */

static int idle(int conns, int hold) {
  int *fds = malloc((size_t)conns * sizeof(int));
  if (!fds)
    die("malloc");
  long rss0 = server_rss();
  double t0 = nb_wall();
  for (int i = 0; i < conns; i++) {
    char b = 'x';
    fds[i] = dial();
    if (write(fds[i], &b, 1) != 1 || read(fds[i], &b, 1) != 1)
      die("idle echo");
  }
  double wall = nb_wall() - t0;
  long rss1 = server_rss();
  printf("idle %.6f 0 %d rss_before=%ld rss_after=%ld rss_per_conn=%.1f\n",
         wall, conns, rss0, rss1, (double)(rss1 - rss0) / conns);
  fflush(stdout);
  if (hold)
    while (getchar() != EOF)
      ;
  /* Reset rather than close: 10 000 connections per run would otherwise
   * leave as many ports in TIME_WAIT. */
  struct linger lg = {1, 0};
  for (int i = 0; i < conns; i++) {
    setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fds[i]);
  }
  free(fds);
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: bench_echo_client pingpong|pump|idle PORT [--conns N] "
          "[--size B] [--trips N] [--warmup W] [--bytes B] "
          "[--chunk B] [--pid PID] [--hold]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  const char *wl = argv[1];
  port = atoi(argv[2]);
  int conns = !strcmp(wl, "idle") ? 10000 : 50;
  long trips = 200000, warmup = 100;
  long long bytes = 256LL << 20;
  size_t chunk = 1 << 20;
  int hold = 0;
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "--hold")) {
      hold = 1;
      continue;
    }
    if (i + 1 >= argc)
      return usage();
    const char *o = argv[i], *v = argv[++i];
    if (!strcmp(o, "--conns"))
      conns = atoi(v);
    else if (!strcmp(o, "--size"))
      msg_size = (size_t)atol(v);
    else if (!strcmp(o, "--trips"))
      trips = atol(v);
    else if (!strcmp(o, "--warmup"))
      warmup = atol(v);
    else if (!strcmp(o, "--bytes"))
      bytes = atoll(v);
    else if (!strcmp(o, "--chunk"))
      chunk = (size_t)atol(v);
    else if (!strcmp(o, "--pid"))
      server_pid = atol(v);
    else
      return usage();
  }
  if (port <= 0 || conns <= 0 || msg_size == 0 || msg_size > 65536 ||
      trips < conns || warmup < 0 || bytes <= 0 || chunk == 0)
    return usage();
  net_raise_nofile();
  if (!strcmp(wl, "pingpong"))
    return pingpong(conns, trips, warmup);
  if (!strcmp(wl, "pump"))
    return pump(bytes, chunk);
  if (!strcmp(wl, "idle"))
    return idle(conns, hold);
  return usage();
}
