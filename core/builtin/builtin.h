/* core/builtin/builtin.h — the built-in reference backend's private types.
 *
 * The backend is a small loop of its own around a "poller" (epoll, or poll()
 * as the portable fallback): it waits, reports readiness, its one timer and
 * wakeups to the host, then calls host->dispatch once per iteration. */
#ifndef IL__BUILTIN_H
#define IL__BUILTIN_H

#include "../internal.h"
#include <interloop/version.h>

#define IL_VERSION_STRING_BUILTIN IL_VERSION_STRING

#include <poll.h>

typedef struct il__bi il__bi_t;

typedef struct il__bi_io {
  struct il__bi_io *prev, *next; /* every started watcher, for fork */
  int fd;
  unsigned events;
  void *ud;
  size_t slot; /* poll poller: index in the pollfd array */
} il__bi_io_t;

typedef struct il__bi_sig {
  int signum;
  void *ud;
} il__bi_sig_t;

typedef struct il__poller {
  const char *name;
  int (*init)(il__bi_t *bi);
  void (*fini)(il__bi_t *bi);
  int (*add)(il__bi_t *bi, il__bi_io_t *io);
  int (*mod)(il__bi_t *bi, il__bi_io_t *io);
  void (*del)(il__bi_t *bi, il__bi_io_t *io);
  /* Waits up to timeout_ms (-1: no limit) and reports: io through
   * host->io, the wake fd through il__bi_on_wake(). */
  int (*wait)(il__bi_t *bi, int timeout_ms);
} il__poller_t;

struct il__bi {
  const il_backend_host_t *host;
  const il__poller_t *poller;
  int wakefd;
  atomic_int wake_pending;
  int soon;
  int stop;
  int timer_on;
  uint64_t timer_deadline;
  il__bi_io_t *ios;
  /* epoll */
  int epfd;
  /* poll: slot 0 is the wake fd */
  struct pollfd *pfds;
  il__bi_io_t **pios;
  size_t npfds, cappfds;
  /* signals */
  int sig_slot; /* -1 until the first signal watcher */
  il__bi_sig_t *sigs[IL__NSIG];
};

extern const il__poller_t il__poller_epoll;
extern const il__poller_t il__poller_poll;

/* The wake fd became readable: drain it, report wakeups and signals. */
void il__bi_on_wake(il__bi_t *bi);

/* core/builtin/signals.c: process-wide signal delivery to builtin loops. */
int il__bi_sig_slot_claim(int wakefd);
void il__bi_sig_slot_release(int slot);
void il__bi_sig_slot_set_fd(int slot, int wakefd);
int il__bi_sig_watch(int slot, int signum);
void il__bi_sig_unwatch(int slot, int signum);
uint64_t il__bi_sig_take_pending(int slot);

#endif /* IL__BUILTIN_H */
