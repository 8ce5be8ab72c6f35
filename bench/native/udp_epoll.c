/* bench/native/udp_epoll.c — the floor of the UDP ping-pong benchmark: a
 * UDP echo server on raw epoll, with nothing between the kernel and the
 * datagrams.
 *
 *   native_udp_epoll [--port N]
 *
 * One socket bound to 127.0.0.1 (prints "port N"), level-triggered; per
 * readiness up to 32 recvfrom() into one 64 KiB buffer, each datagram sent
 * straight back with sendto() (interloop and libuv read up to 32 per
 * readiness too). A datagram the socket cannot take is dropped, as UDP
 * allows (the client counts it lost). Exits with status 0 on SIGTERM
 * (a signalfd in the epoll set). Driven by bench/udp_client.c. */
#include "../net_common.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#define READS_PER_PASS 32

static char buf[NET_READ_BUF];

/* A signalfd for SIGTERM (blocked, so it is only read). */
static int term_fd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int main(int argc, char **argv) {
  net_args_t a;
  if (net_init(argc, argv, &a))
    return 2;
  int sfd = term_fd(), fd = net_udp_bind(a.port, "udp_epoll");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  ev.data.fd = sfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  for (int done = 0; !done;) {
    struct epoll_event evs[2];
    int n = epoll_wait(ep, evs, 2, -1);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == sfd)
        done = 1;
      else
        net_udp_echo(fd, buf, sizeof(buf), READS_PER_PASS);
    }
  }
  close(fd);
  close(sfd);
  close(ep);
  return 0;
}
