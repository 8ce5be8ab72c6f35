/* bench/udp_client.c — the load generator for the UDP echo servers (bench/
 * udp_server.c, bench/native/udp_*.c, bench/py/asyncio_udp.py), on raw
 * epoll so it costs as little as it can: it shares the machine with the
 * server it measures.
 *
 *   bench_udp_client PORT [--socks 50] [--size 64] [--trips N]
 *                    [--warmup W] [--loss-ms 200] [--pid PID]
 *
 * --socks UDP sockets, each connected to 127.0.0.1:PORT, each keep one
 * datagram of --size bytes in flight: send it, wait for its echo (checked
 * byte for byte), send the next. W round trips per socket first (default
 * 100), then N round trips in all (default 100 000), spread evenly; the
 * measured window is the N. Every datagram carries its socket's number and
 * a sequence number. Loopback does not drop datagrams, but when nothing at
 * all arrives for --loss-ms, every datagram still awaited counts as lost
 * and its socket sends the next one (a late echo of a lost datagram is
 * counted and ignored); after 5 s without an echo the run fails.
 *
 * Output, one line (bench/run.py's format):
 *   "udp_pingpong <wall s> <server cpu s> <trips> [key=value]..."
 * with ns_per_trip (server CPU per round trip), trips_per_s, waits_per_trip
 * (the server's voluntary context switches per round trip: how often it
 * found nothing to do and slept), lost, late, client_cpu and stat_cpu. The
 * server's CPU time is the sum over its threads of /proc/PID/task/TID/
 * schedstat's first field (ns on CPU), read before and after the window;
 * stat_cpu is /proc/PID/stat's utime + stime (10 ms ticks) as a check.
 * Without --pid the server figures are 0. As bench/echo_client.c. */
#include "native/native.h"
#include "net_common.h"
#include "server_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/epoll.h>

#define STALL_S 5.0 /* no echo at all for this long: the run fails */

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void fail(const char *why) {
  fprintf(stderr, "bench_udp_client: %s\n", why);
  exit(1);
}

/* ---- the server, seen from outside: bench/server_proc.h ---------------- */

/* What is read before and after the measured window. */
typedef struct sample {
  double wall, cpu, stat, mine, waits;
} sample_t;

static sample_t take_sample(void) {
  sample_t s;
  s.cpu = per_thread_sum("schedstat", parse_schedstat);
  s.stat = server_stat_cpu();
  s.waits = per_thread_sum("status", parse_waits);
  s.mine = nb_cpu();
  s.wall = nb_wall();
  return s;
}

/* ---- the sockets ----------------------------------------------------------
 */

typedef struct sock {
  int fd;
  uint32_t id;  /* its number, in every datagram it sends */
  uint32_t seq; /* the sequence number of the datagram in flight */
  int waiting;  /* a datagram is in flight */
  long left;    /* round trips still to do in this phase */
} sock_t;

static size_t msg_size = 64;
static char *out_msg, *in_msg; /* msg_size bytes; in_msg: + 1 */
static long lost, late;

/* A non-blocking UDP socket connected to 127.0.0.1:port. */
static int dial(int port) {
  struct sockaddr_in sin;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
    die("connect");
  return fd;
}

/* Sends the socket's next datagram: its id and a new sequence number, then
 * the fixed body. */
static void send_next(sock_t *s) {
  s->seq++;
  memcpy(out_msg, &s->id, 4);
  memcpy(out_msg + 4, &s->seq, 4);
  ssize_t w = send(s->fd, out_msg, msg_size, 0);
  if (w < 0 && errno == ECONNREFUSED)
    fail("server gone (connection refused)");
  if (w != (ssize_t)msg_size)
    die("send");
  s->waiting = 1;
}

/* Reads one datagram of s: 1 if it is the echo awaited, 0 if there was
 * nothing or it was a late echo of a datagram counted lost. */
static int receive(sock_t *s) {
  ssize_t r = recv(s->fd, in_msg, msg_size + 1, 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (r < 0 && errno == ECONNREFUSED)
    fail("server gone (connection refused)");
  if (r < 0)
    die("recv");
  uint32_t id, seq;
  memcpy(&id, in_msg, 4);
  memcpy(&seq, in_msg + 4, 4);
  if (r == (ssize_t)msg_size && id == s->id && seq != s->seq &&
      seq - s->seq > UINT32_MAX / 2) {
    late++;
    return 0;
  }
  if (r != (ssize_t)msg_size || id != s->id || seq != s->seq || !s->waiting ||
      memcmp(in_msg + 8, out_msg + 8, msg_size - 8))
    fail("echo differs");
  s->waiting = 0;
  return 1;
}

/* Nothing arrived for the loss timeout: every datagram awaited is lost;
 * its socket goes on with the next one. */
static void resend_lost(sock_t *ss, int n) {
  for (int i = 0; i < n; i++)
    if (ss[i].waiting) {
      lost++;
      send_next(&ss[i]);
    }
}

/* Runs every socket through its quota of round trips; returns when all are
 * done (the server is then idle). */
static void phase(int ep, sock_t *ss, int n, const long *quota, int loss_ms) {
  int busy = 0, quiet = 0;
  for (int i = 0; i < n; i++) {
    ss[i].left = quota[i];
    if (quota[i] > 0) {
      send_next(&ss[i]);
      busy++;
    }
  }
  struct epoll_event evs[256];
  while (busy > 0) {
    int k = epoll_wait(ep, evs, 256, loss_ms);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      if (++quiet * loss_ms >= STALL_S * 1000)
        fail("no echo for 5 s");
      resend_lost(ss, n);
      continue;
    }
    quiet = 0;
    for (int j = 0; j < k; j++) {
      sock_t *s = evs[j].data.ptr;
      if (!receive(s))
        continue;
      if (--s->left > 0)
        send_next(s);
      else
        busy--;
    }
  }
}

static void fill_body(void) {
  out_msg = malloc(msg_size);
  in_msg = malloc(msg_size + 1);
  if (!out_msg || !in_msg)
    die("malloc");
  for (size_t i = 0; i < msg_size; i++)
    out_msg[i] = (char)('a' + i % 26);
}

static void report(const sample_t *a, const sample_t *b, long trips) {
  double wall = b->wall - a->wall, cpu = b->cpu - a->cpu;
  printf("udp_pingpong %.6f %.6f %ld ns_per_trip=%.1f trips_per_s=%.0f "
         "waits_per_trip=%.4f lost=%ld late=%ld client_cpu=%.6f "
         "stat_cpu=%.3f\n",
         wall, cpu, trips, cpu / (double)trips * 1e9, (double)trips / wall,
         (b->waits - a->waits) / (double)trips, lost, late, b->mine - a->mine,
         b->stat - a->stat);
}

static int pingpong(int port, int n, long trips, long warmup, int loss_ms) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  sock_t *ss = calloc((size_t)n, sizeof(*ss));
  long *quota = calloc((size_t)n, sizeof(*quota));
  if (ep < 0 || !ss || !quota)
    die("setup");
  fill_body();
  for (int i = 0; i < n; i++) {
    ss[i].fd = dial(port);
    ss[i].id = (uint32_t)i;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ss[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, ss[i].fd, &ev);
    quota[i] = warmup;
  }
  phase(ep, ss, n, quota, loss_ms);
  lost = late = 0; /* the window's alone */
  for (int i = 0; i < n; i++)
    quota[i] = trips / n + (i < trips % n);
  sample_t a = take_sample();
  phase(ep, ss, n, quota, loss_ms);
  sample_t b = take_sample();
  report(&a, &b, trips);
  for (int i = 0; i < n; i++)
    close(ss[i].fd);
  close(ep);
  free(ss);
  free(quota);
  free(out_msg);
  free(in_msg);
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: bench_udp_client PORT [--socks N] [--size B] "
                  "[--trips N] [--warmup W] [--loss-ms MS] [--pid PID]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  int port = atoi(argv[1]), socks = 50, loss_ms = 200;
  long trips = 100000, warmup = 100;
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc)
      return usage();
    const char *o = argv[i], *v = argv[++i];
    if (!strcmp(o, "--socks"))
      socks = atoi(v);
    else if (!strcmp(o, "--size"))
      msg_size = (size_t)atol(v);
    else if (!strcmp(o, "--trips"))
      trips = atol(v);
    else if (!strcmp(o, "--warmup"))
      warmup = atol(v);
    else if (!strcmp(o, "--loss-ms"))
      loss_ms = atoi(v);
    else if (!strcmp(o, "--pid"))
      server_pid = atol(v);
    else
      return usage();
  }
  if (port <= 0 || socks <= 0 || msg_size < 8 || msg_size > 65507 ||
      trips < socks || warmup < 0 || loss_ms <= 0)
    return usage();
  net_raise_nofile();
  return pingpong(port, socks, trips, warmup, loss_ms);
}
