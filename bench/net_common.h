/* bench/net_common.h — what the network benchmarks share: the echo servers'
 * command line, their listening socket and the write buffer of the servers
 * that do their own buffering (libev, raw libevent, raw epoll).
 *
 * Every echo server (bench/echo_server.c on interloop, bench/native/echo_*.c
 * on each engine directly) takes
 *   [--port N] [--once] [--backend NAME] [--style protocol|streams]
 *   [--bufferevent] [--heap]
 * (the last four only where they mean something), listens on 127.0.0.1
 * (port 0: any free port), prints "port N" on stdout, and echoes every byte
 * it reads back to its sender. With --once it exits when its last
 * connection is gone (so valgrind can write its profile); otherwise it runs
 * until killed.
 *
 * Flow control is the same everywhere, asyncio's default: a connection
 * stops reading while more than NET_HIGH bytes wait to be written, and
 * reads again once the queue is down to NET_LOW. */
#ifndef IL_BENCH_NET_COMMON_H
#define IL_BENCH_NET_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_READ_BUF ((size_t)64 * 1024) /* bytes asked of each read() */
#define NET_HIGH ((size_t)64 * 1024)     /* interloop's default high mark */
#define NET_LOW (NET_HIGH / 4)
#define NET_BACKLOG 511

typedef struct net_args {
  int port;
  int once;
  const char *backend; /* echo_server only */
  const char *style;   /* echo_server only: "protocol" or "streams" */
  int bufferevent;     /* echo_event only */
  int heap;            /* echo_server only: "heap N" on SIGUSR1 */
} net_args_t;

static inline int net_usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [--port N] [--once] [--backend NAME] "
          "[--style protocol|streams] [--bufferevent] [--heap]\n",
          prog);
  return 2;
}

/* Raises the soft limit on open files to the hard limit (10 000 idle
 * connections need more than the usual 1 024). */
static inline void net_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Parses the servers' common command line and raises the open-files limit;
 * 0, or -1 after a usage message. */
static inline int net_init(int argc, char **argv, net_args_t *a) {
  memset(a, 0, sizeof(*a));
  a->backend = "builtin";
  a->style = "protocol";
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(o, "--port") && more)
      a->port = atoi(argv[++i]);
    else if (!strcmp(o, "--once"))
      a->once = 1;
    else if (!strcmp(o, "--backend") && more)
      a->backend = argv[++i];
    else if (!strcmp(o, "--style") && more)
      a->style = argv[++i];
    else if (!strcmp(o, "--bufferevent"))
      a->bufferevent = 1;
    else if (!strcmp(o, "--heap"))
      a->heap = 1;
    else {
      net_usage(argv[0]);
      return -1;
    }
  }
  net_raise_nofile();
  return 0;
}

/* Tells the load generator where to connect. */
static inline void net_announce(int port) {
  printf("port %d\n", port);
  fflush(stdout);
}

/* A non-blocking listening socket on 127.0.0.1:port; prints its port.
 * Exits with status 1 on failure (a benchmark has nothing to fall back
 * on). */
static inline int net_listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in sin;
  socklen_t len = sizeof(sin);
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
      bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
      listen(fd, NET_BACKLOG) ||
      getsockname(fd, (struct sockaddr *)&sin, &len)) {
    perror("listen");
    exit(1);
  }
  net_announce(ntohs(sin.sin_port));
  return fd;
}

/* Echoes up to `reads` datagrams waiting on the UDP socket fd, each back
 * to its sender, through buf (cap bytes). A datagram the socket cannot
 * take is dropped, as UDP allows; stops at EAGAIN. */
static inline void net_udp_echo(int fd, char *buf, size_t cap, int reads) {
  for (int i = 0; i < reads; i++) {
    struct sockaddr_storage from;
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return;
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
  }
}

/* A non-blocking UDP socket bound to 127.0.0.1:port (0: any free port);
 * prints its port (net_announce). Exits on failure, naming prog. */
static inline int net_udp_bind(int port, const char *prog) {
  struct sockaddr_in sin;
  socklen_t len = sizeof(sin);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
      getsockname(fd, (struct sockaddr *)&sin, &len)) {
    fprintf(stderr, "%s: bind: %s\n", prog, strerror(errno));
    exit(1);
  }
  net_announce(ntohs(sin.sin_port));
  return fd;
}

/* Accepts one connection: non-blocking, close-on-exec, TCP_NODELAY (as
 * interloop sets it by default). -1 when there is none (or an error the
 * server skips). */
static inline int net_accept(int lfd) {
  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  int one = 1;
  if (fd >= 0)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

/* ---- a write buffer: what write() did not take, in order ---------------- */

typedef struct net_wbuf {
  char *data;
  size_t off, len, cap; /* pending bytes are data[off..len) */
} net_wbuf_t;

static inline size_t net_wbuf_pending(const net_wbuf_t *b) {
  return b->len - b->off;
}

static inline int net_wbuf_append(net_wbuf_t *b, const char *p, size_t n) {
  if (b->off > 0 && b->len + n > b->cap) { /* slide down before growing */
    memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
  }
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
      return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static inline void net_wbuf_free(net_wbuf_t *b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

/* Writes what is pending. 0: all written; 1: some left (wait for
 * writability); -1: the connection failed. */
static inline int net_wbuf_flush(int fd, net_wbuf_t *b) {
  while (b->off < b->len) {
    ssize_t w = write(fd, b->data + b->off, b->len - b->off);
    if (w < 0)
      return errno == EAGAIN || errno == EINTR ? 1 : -1;
    b->off += (size_t)w;
  }
  b->off = b->len = 0;
  return 0;
}

/* Echoes n bytes: straight to the socket when nothing is queued, the rest
 * into the buffer. Returns as net_wbuf_flush. */
static inline int net_echo(int fd, net_wbuf_t *b, const char *p, size_t n) {
  if (net_wbuf_pending(b) == 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno != EAGAIN && errno != EINTR)
      return -1;
    if (w == (ssize_t)n)
      return 0;
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    }
  }
  return net_wbuf_append(b, p, n) ? -1 : 1;
}

#endif
