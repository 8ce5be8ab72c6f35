/* core/transport_internal.h — what every kind of transport shares.
 *
 * struct il_transport is the common head of every transport (stream socket,
 * datagram, later pipes); `vt` holds what differs by kind. transport.c owns
 * the head: the public entry points (argument checks, then vt), the
 * reference count, the loop's list of transports, write-buffer limits and
 * pause/resume_writing, and the end of life (connection_lost, free). */
#ifndef IL__TRANSPORT_INTERNAL_H
#define IL__TRANSPORT_INTERNAL_H

#include "internal.h"

#include <interloop/transport.h>

enum il__transport_state {
  IL__T_OPEN = 0, /* connection_made scheduled or called */
  IL__T_CLOSING,  /* close() or abort() called, connection_lost not yet */
  IL__T_LOST      /* connection_lost called (or being called) */
};

typedef struct il__transport_vt {
  const char *name; /* "tcp", "unix", "udp", ... */
  /* Queue the data (total bytes > 0; state OPEN, no EOF written). */
  int (*write)(il_transport_t *t, const struct iovec *iov, int iovcnt,
               size_t total);
  /* NULL: IL_ENOTSUP. Called once, state OPEN. */
  int (*write_eof)(il_transport_t *t);
  /* close(): called once, state already set to CLOSING by transport.c. */
  void (*close)(il_transport_t *t);
  /* abort(): state OPEN or CLOSING (already CLOSING when it runs). */
  void (*abort)(il_transport_t *t);
  /* Start/stop reading (state OPEN; `reading` already updated). */
  void (*set_reading)(il_transport_t *t, int on);
  /* NULL: IL_ENOTSUP (stream transports). */
  int (*sendto)(il_transport_t *t, const void *data, size_t len,
                const struct sockaddr *addr, socklen_t addrlen);
  /* The loop is closing: stop the watchers, close the fd, and call
   * il__transport_lost(t, IL_ECLOSED) now. State OPEN or CLOSING. */
  void (*loop_closing)(il_transport_t *t);
  /* Free the kind's memory including t itself (last reference gone; the
   * head is already unlinked and its data destructor ran). */
  void (*free)(il_transport_t *t);
  /* write_eof closes the transport (a write pipe): a second write_eof is
   * then still a no-op rather than IL_ECLOSED. */
  int eof_closes;
} il__transport_vt_t;

struct il_transport {
  const il__transport_vt_t *vt;
  il_loop_t *loop;
  il_transport_t *prev, *next; /* the loop's transports (until freed) */
  il_protocol_t proto;         /* the protocol, copied */
  void *ud;
  void *data;
  il_destructor_fn data_dtor;
  /* Called by il__transport_lost before connection_lost (a server counts its
   * connections, a stream wakes its waiters). */
  void (*on_lost)(il_transport_t *t, int error, void *owner);
  void *owner;
  size_t high, low;  /* write-buffer limits */
  size_t wbuf_size;  /* bytes buffered: the kind keeps it current */
  int fd;            /* -1 once closed */
  uint32_t refs;     /* the core's (until lost) + il_transport_ref's */
  uint8_t state;     /* enum il__transport_state */
  uint8_t reading;   /* not paused by the application */
  uint8_t w_paused;  /* pause_writing was called, resume_writing not yet */
  uint8_t eof_sent;  /* write_eof was called */
  uint8_t in_lost;   /* connection_lost is running */
  int lost_error;    /* what a scheduled connection_lost reports */
};

/* Checks of the entry points: NULL, thread. IL_EINVAL, IL_EWRONGTHREAD. */
static inline int il__transport_check(const il_transport_t *t) {
  if (IL__UNLIKELY(!t))
    return IL_EINVAL;
  uintptr_t owner = atomic_load_explicit(&t->loop->owner, memory_order_relaxed);
  if (IL__UNLIKELY(owner != 0 && owner != (uintptr_t)pthread_self()))
    return IL_EWRONGTHREAD;
  return 0;
}

/* Copies a protocol as the API promises (only proto->size bytes are read;
 * the rest is zero). IL_EINVAL for NULL or a size below sizeof(size_t). */
int il__protocol_copy(il_protocol_t *dst, const il_protocol_t *src);

/* Fills the head: one reference (the core's), linked into the loop's list
 * (counted in stats.transports), a reference on the loop, default limits,
 * reading on. The protocol must have been checked with il__protocol_copy
 * (it is copied again here). */
void il__transport_init(il_transport_t *t, il_loop_t *loop,
                        const il__transport_vt_t *vt, int fd,
                        const il_protocol_t *proto, void *ud);

/* After the kind changed wbuf_size: calls pause_writing when it went above
 * `high`, resume_writing when it fell to `low` or below (each only on a
 * change of state, and only while the transport is not lost). */
void il__transport_flow(il_transport_t *t);

/* Schedules connection_made through the loop (with a core reference held
 * until it ran). The callback is skipped if the transport was lost first.
 * Returns 0, IL_ENOMEM, IL_ECLOSED. */
int il__transport_schedule_made(il_transport_t *t);

/* The end: state LOST, on_lost, protocol connection_lost(error), then the
 * core's reference is dropped (the transport may be freed before this
 * returns). Call it exactly once, with the fd already closed. */
void il__transport_lost(il_transport_t *t, int error);

/* Schedules il__transport_lost(t, error) through the loop (a reference is
 * held until it ran). Used by close and abort, which never call
 * connection_lost from inside the caller's call. If the loop is closing or
 * cannot schedule, calls it at once. */
void il__transport_schedule_lost(il_transport_t *t, int error);

/* Drops a reference; frees the transport with the last one. */
void il__transport_unref(il_transport_t *t);

/* The loop's read buffer (IL__READ_BUF bytes, allocated on first use, freed
 * at loop close): transports read into it and hand it to data_received or
 * datagram_received, which must not keep it. NULL when out of memory. */
#define IL__READ_BUF ((size_t)64 * 1024)
char *il__loop_read_buf(il_loop_t *loop);

/* Loop close (loop.c): every transport not yet lost gets loop_closing, so
 * its connection_lost(IL_ECLOSED) runs while the loop still works; then the
 * read buffer is freed. */
void il__transports_close(il_loop_t *loop);

/* ---- kinds --------------------------------------------------------------- */

/* transport_stream.c: a stream-socket transport on a connected, non-blocking,
 * close-on-exec fd that it then owns (also on failure: the fd is closed).
 * connection_made is scheduled. `name` is the vt name ("tcp" or "unix").
 * *out receives the transport (the core's reference; not an extra one).
 * Returns 0, IL_ENOMEM, IL_ECLOSED, or an fd watcher error. */
int il__stream_transport_new(il_loop_t *loop, int fd, int is_unix,
                             const il_protocol_t *proto, void *ud,
                             il_transport_t **out);

/* transport_stream.c: a read pipe (writing 0) or write pipe (writing 1)
 * transport on a pipe, FIFO, character device or socket (process.h). The
 * fd becomes the transport's on success; on failure it is left as it was.
 * *out (may be NULL) receives the core's reference. Returns 0, IL_EINVAL
 * (another kind of fd, bad arguments), IL_EBADF, an fd watcher error
 * (IL_EPERM), IL_ENOMEM, IL_ECLOSED, IL_EWRONGTHREAD. */
int il__pipe_transport_new(il_loop_t *loop, int fd, int writing,
                           const il_protocol_t *proto, void *ud,
                           il_transport_t **out);

/* server.c: loop close stops every server's listening sockets. */
void il__servers_close(il_loop_t *loop);

/* executor.c: loop close cancels queued jobs, joins the workers. Called
 * before the loop is marked closed. */
void il__executor_close(il_loop_t *loop);

/* executor.c: the core's own jobs (dns.c). Like il_executor_fn, plus
 * *message, a static string that becomes the future's error message. */
typedef int (*il__job_fn)(void *arg, void **result, il_destructor_fn *dtor,
                          const char **message);

/* executor.c: queues a core job; arg_dtor frees arg with the job (not when
 * this call fails). As il_loop_run_in_executor otherwise. */
int il__executor_submit(il_loop_t *loop, il__job_fn fn, void *arg,
                        il_destructor_fn arg_dtor, il_future_t **out);

/* Numeric-address helpers shared by connect.c, server.c and udp.c
 * (sockaddr.c). Fills *ss from a numeric host (NULL: the wildcard of
 * `family`) and port; returns its length, or IL_EAI (not numeric),
 * IL_EINVAL. */
int il__sockaddr_numeric(const char *host, int port, int family,
                         struct sockaddr_storage *ss, socklen_t *len);

/* connect.c: the Unix address of `path` ('@': abstract); IL_EINVAL when it
 * is empty or too long. */
struct sockaddr_un;
int il__sockaddr_unix(const char *path, struct sockaddr_un *sun,
                      socklen_t *len);

/* connect.c: copies an options struct that begins with `size_t size` (NULL:
 * all zero), reading only the `size` bytes the caller declared; the rest is
 * zero. IL_EINVAL when size cannot even hold itself. */
int il__options_read(void *dst, size_t cap, const void *src);

/* connect.c: at loop close (from il__servers_close), every connect under
 * way is stopped and its future cancelled. */
void il__connects_close(il_loop_t *loop);

/* Makes fd non-blocking and close-on-exec. 0 or IL_E*. */
int il__fd_prepare(int fd);

#endif /* IL__TRANSPORT_INTERNAL_H */
