/* interloop/transport.h — protocols, transports, TCP / Unix-socket clients
 * and servers, UDP endpoints. See spec/SPEC.md §10.
 *
 * asyncio's split: a protocol is the application's struct of callbacks, a
 * transport is interloop's object that owns the socket, buffers writes and
 * calls the protocol. Every transport is built in the core on fd readiness,
 * so it behaves the same on every backend.
 *
 * Lifetime: a transport is held by the core from its creation until its
 * protocol's connection_lost has returned, and by every reference taken
 * with il_transport_ref() (a future whose value is a transport holds one
 * while it lives). It is freed when both are gone. After connection_lost
 * every operation on it returns IL_ECLOSED (queries report "nothing"), so a
 * pointer the application still references is safe to use.
 *
 * Threads: every function here is for the loop thread (IL_EWRONGTHREAD
 * otherwise); protocol callbacks run on it. */
#ifndef INTERLOOP_TRANSPORT_H
#define INTERLOOP_TRANSPORT_H

#include "common.h"
#include "future.h"
#include "loop.h"

#include <sys/socket.h>
#include <sys/uio.h>

IL_BEGIN_DECLS

typedef struct il_transport il_transport_t;
typedef struct il_server il_server_t;

/* ---- protocols ----------------------------------------------------------
 * Every member but `size` may be NULL (nothing is called). The core copies
 * the struct when the transport is created, reading only the `size` bytes
 * the application declared, so the struct can grow.
 *
 * Order, for a stream transport, exactly once each and never re-entered:
 *   connection_made → (data_received | get_buffer+buffer_updated)* →
 *   eof_received? → connection_lost
 * connection_made and connection_lost are always called from the loop (never
 * inside the call that created or closed the transport). pause_writing and
 * resume_writing alternate, starting with pause_writing, between made and
 * lost. `ud` is the value given with the protocol. */
typedef struct il_protocol {
  size_t size; /* sizeof(il_protocol_t) */

  void (*connection_made)(il_transport_t *t, void *ud);

  /* `len` > 0 bytes arrived; `data` is valid only during the call. */
  void (*data_received)(il_transport_t *t, const void *data, size_t len,
                        void *ud);

  /* The peer shut down its writing side. Return non-zero to keep the
   * connection half-open (it stays writable; close it yourself later);
   * return 0 and the transport closes itself (connection_lost(0) follows). */
  int (*eof_received)(il_transport_t *t, void *ud);

  /* The connection is gone: 0 after a clean close or EOF, IL_ECLOSED when the
   * loop was closed, else the error (IL_ECONNRESET, IL_ECANCELED after
   * abort, ...). The last call the transport makes. */
  void (*connection_lost)(il_transport_t *t, int error, void *ud);

  /* The write buffer went above the high-water mark / back to or below the
   * low-water mark. */
  void (*pause_writing)(il_transport_t *t, void *ud);
  void (*resume_writing)(il_transport_t *t, void *ud);

  /* Buffered variant: when get_buffer is set it is used instead of
   * data_received. get_buffer lends memory (at least 1 byte: *buf, *len) for
   * the next read, size_hint is a suggestion (65536); return 0, or an error
   * code to close the transport with that error. buffer_updated says how
   * many bytes the read put at the start of that memory. */
  int (*get_buffer)(il_transport_t *t, size_t size_hint, void **buf,
                    size_t *len, void *ud);
  void (*buffer_updated)(il_transport_t *t, size_t nbytes, void *ud);

  /* Datagram endpoints: one datagram (possibly empty) from `addr`. */
  void (*datagram_received)(il_transport_t *t, const void *data, size_t len,
                            const struct sockaddr *addr, socklen_t addrlen,
                            void *ud);
  /* Datagram endpoints: a send or receive failed (for example
   * IL_ECONNREFUSED for an unreachable port). Not fatal: the endpoint stays
   * open. */
  void (*error_received)(il_transport_t *t, int error, void *ud);
} il_protocol_t;

/* ---- transports --------------------------------------------------------- */

/* Write-buffer limits: the default high-water mark and "use the default". */
#define IL_WRITE_HIGH_DEFAULT ((size_t)64 * 1024)
#define IL_LIMIT_DEFAULT ((size_t)-1)

/* What il_transport_get_extra_info() can report. */
typedef enum il_extra_info {
  IL_INFO_PEERNAME = 1, /* struct sockaddr (buf, *len in/out) */
  IL_INFO_SOCKNAME = 2, /* struct sockaddr (buf, *len in/out) */
  IL_INFO_FD = 3        /* int: the socket; stays the transport's */
} il_extra_info_t;

/* Queues `len` bytes: the socket is tried at once, the rest is buffered and
 * written as the socket accepts it, in order. len 0 is a no-op. May call
 * pause_writing before it returns. The data is copied.
 * Errors (nothing is queued): IL_EINVAL (NULL t, NULL data with len > 0),
 * IL_ECLOSED (closing, closed or lost), IL_ESHUTDOWN (after write_eof),
 * IL_ENOTSUP (a datagram endpoint: use il_transport_sendto), IL_ENOMEM,
 * IL_EWRONGTHREAD. A socket error found while writing is not returned: the
 * transport is aborted and connection_lost reports it. */
IL_EXTERN int il_transport_write(il_transport_t *t, const void *data,
                                 size_t len);

/* As il_transport_write for the concatenation of iov[0..iovcnt). */
IL_EXTERN int il_transport_writev(il_transport_t *t, const struct iovec *iov,
                                  int iovcnt);

/* Closes the writing side once the buffer is flushed (shutdown(SHUT_WR));
 * reading continues. Idempotent. Errors: IL_EINVAL, IL_ECLOSED,
 * IL_ENOTSUP (the transport cannot half-close), IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_write_eof(il_transport_t *t);

/* 1 if write_eof is supported, 0 if not (or NULL). */
IL_EXTERN int il_transport_can_write_eof(const il_transport_t *t);

/* Stops reading, flushes the write buffer, then closes the socket and calls
 * connection_lost(0) from the loop. Idempotent (a second call returns 0).
 * Errors: IL_EINVAL, IL_EWRONGTHREAD. On a lost transport: IL_ECLOSED. */
IL_EXTERN int il_transport_close(il_transport_t *t);

/* Closes at once, dropping buffered data; connection_lost(IL_ECANCELED) is
 * called from the loop. Idempotent; aborting a closing transport drops its
 * buffer. Errors: as il_transport_close. */
IL_EXTERN int il_transport_abort(il_transport_t *t);

/* 1 if close/abort was called or the connection is lost, 0 otherwise;
 * 1 for NULL. */
IL_EXTERN int il_transport_is_closing(const il_transport_t *t);

/* Stops / restarts calling data_received (the socket is not read; the peer
 * sees TCP flow control). Idempotent. Errors: IL_EINVAL, IL_ECLOSED,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_pause_reading(il_transport_t *t);
/* See il_transport_pause_reading. */
IL_EXTERN int il_transport_resume_reading(il_transport_t *t);

/* 1 if reading (not paused, not closing), 0 otherwise. */
IL_EXTERN int il_transport_is_reading(const il_transport_t *t);

/* Sets the write-buffer limits. IL_LIMIT_DEFAULT for `high` means
 * IL_WRITE_HIGH_DEFAULT (or 4 × low when low is given); for `low`,
 * high / 4. pause_writing may be called before it returns. Errors:
 * IL_EINVAL (NULL, low > high), IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_set_write_buffer_limits(il_transport_t *t,
                                                   size_t high, size_t low);

/* Reads the limits into *high and *low (either may be NULL).
 * Errors: IL_EINVAL. */
IL_EXTERN int il_transport_get_write_buffer_limits(const il_transport_t *t,
                                                   size_t *high, size_t *low);

/* Bytes queued and not yet accepted by the socket; 0 for NULL. */
IL_EXTERN size_t il_transport_get_write_buffer_size(const il_transport_t *t);

/* Reports `what` into buf (size *len in, used *len out). Errors: IL_EINVAL
 * (NULL, unknown what), IL_ERANGE (buf too small; *len says how much is
 * needed), IL_ENOTCONN (no peer, e.g. an unconnected UDP endpoint),
 * IL_ECLOSED. */
IL_EXTERN int il_transport_get_extra_info(const il_transport_t *t,
                                          il_extra_info_t what, void *buf,
                                          size_t *len);

/* Replaces the protocol (copied as at creation) and its ud; later callbacks
 * go to the new one. connection_made is not repeated. Errors: IL_EINVAL,
 * IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_set_protocol(il_transport_t *t,
                                        const il_protocol_t *proto, void *ud);

/* Application data. The destructor (may be NULL) runs when the data is
 * replaced or the transport is freed. Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_set_data(il_transport_t *t, void *data,
                                    il_destructor_fn dtor);
/* The application data; NULL for NULL. Loop thread. */
IL_EXTERN void *il_transport_get_data(const il_transport_t *t);

/* The loop of the transport; NULL for NULL. */
IL_EXTERN il_loop_t *il_transport_loop(const il_transport_t *t);

/* Takes / drops a reference (see Lifetime above). ref returns t. NULL-safe. */
IL_EXTERN il_transport_t *il_transport_ref(il_transport_t *t);
/* See il_transport_ref. The last reference of a lost transport frees it. */
IL_EXTERN void il_transport_unref(il_transport_t *t);

/* ---- TCP and Unix-socket clients ---------------------------------------- */

#define IL_CONNECT_NO_NODELAY 1u /* leave Nagle on (TCP_NODELAY is default) */

typedef struct il_connect_options {
  size_t size;            /* sizeof(il_connect_options_t) */
  int family;             /* AF_UNSPEC (0), AF_INET or AF_INET6 */
  const char *local_host; /* bind to this numeric address first, or NULL */
  int local_port;         /* with local_host (0: any) */
  double timeout;         /* seconds for the whole connect; 0: no limit */
  unsigned flags;         /* IL_CONNECT_* */
} il_connect_options_t;

#define IL_CONNECT_OPTIONS_INIT {sizeof(il_connect_options_t), 0, NULL, 0, 0.0, 0u}

/* Connects to host:port. `host` is a numeric address or a name, resolved
 * off the loop thread (il_getaddrinfo); each address is tried in turn, IPv4
 * and IPv6. *out receives a future (the caller's reference) that completes
 * with the transport (a reference the future holds) once connection_made
 * has been called, or with the error: the last address's (IL_ECONNREFUSED,
 * IL_ENETUNREACH, ...), IL_EAI (the name does not resolve), IL_ETIMEDOUT
 * (opts->timeout passed), IL_ECANCELED (the future was cancelled: the
 * attempt is stopped). `opts` may be NULL. The protocol is copied.
 * Errors returned at once: IL_EINVAL (NULL loop/host/proto/out, port out of
 * 0..65535, bad options), IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_create_connection(il_loop_t *loop, const char *host, int port,
                                   const il_connect_options_t *opts,
                                   const il_protocol_t *proto, void *ud,
                                   il_future_t **out);

/* As il_create_connection to a Unix stream socket at `path` (a leading '@'
 * names the Linux abstract namespace). opts->timeout applies. */
IL_EXTERN int il_create_unix_connection(il_loop_t *loop, const char *path,
                                        const il_connect_options_t *opts,
                                        const il_protocol_t *proto, void *ud,
                                        il_future_t **out);

/* Wraps an already-connected stream socket (TCP or Unix), which the
 * transport then owns (made non-blocking and close-on-exec; closed with the
 * transport, also on error). *out (may be NULL) receives the transport,
 * held by the core until connection_lost. connection_made comes from the
 * loop. Errors (fd left open and untouched): IL_EINVAL, IL_ENOTSOCK,
 * IL_EBADF, IL_ENOTSUP (not a stream socket), IL_ECLOSED, IL_ENOMEM,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_transport_adopt(il_loop_t *loop, int fd,
                                 const il_protocol_t *proto, void *ud,
                                 il_transport_t **out);

/* ---- servers ------------------------------------------------------------
 * A server owns listening sockets and accepts connections on them; each
 * accepted connection asks the factory for its protocol. */

/* Called for each accepted connection, before connection_made: set *proto
 * (copied) and *ud. Return 0 to accept, or an error code to refuse (the
 * connection is closed; the error is not reported). */
typedef int (*il_protocol_factory_fn)(il_server_t *server, void *server_ud,
                                      const il_protocol_t **proto, void **ud);

#define IL_SERVER_REUSEPORT 1u    /* SO_REUSEPORT on every listening socket */
#define IL_SERVER_NO_REUSEADDR 2u /* leave SO_REUSEADDR off (on by default) */
#define IL_SERVER_NO_NODELAY 4u   /* leave Nagle on for accepted sockets */

typedef struct il_server_options {
  size_t size;        /* sizeof(il_server_options_t) */
  int family;         /* AF_UNSPEC (0), AF_INET or AF_INET6 */
  int backlog;        /* listen() backlog; 0: 100 */
  unsigned flags;     /* IL_SERVER_* */
  double retry_delay; /* seconds accepting pauses after EMFILE/ENFILE/
                         ENOBUFS/ENOMEM; 0: 0.1 */
} il_server_options_t;

#define IL_SERVER_OPTIONS_INIT {sizeof(il_server_options_t), 0, 0, 0u, 0.0}

/* Listens on host:port and starts accepting. host NULL or "" listens on
 * every interface, IPv4 and IPv6 (one socket each, IPV6_V6ONLY on the IPv6
 * one); "localhost" on 127.0.0.1 and ::1; otherwise a numeric address (names
 * would need a blocking lookup: resolve them with il_getaddrinfo first).
 * port 0 picks a free port (the same one for every socket of the server).
 * *out receives the server, owned by the caller (il_server_free). Accept
 * errors that the server survives (EMFILE, ENFILE, ENOBUFS, ENOMEM: it
 * pauses accepting for retry_delay; ECONNABORTED and the like: skipped) go
 * to the loop's error handler with source IL_SOURCE_SERVER.
 * Errors (nothing listens): IL_EINVAL, IL_EAI (not a numeric address),
 * IL_EADDRINUSE, IL_EACCES, IL_EMFILE, IL_ECLOSED, IL_ENOMEM,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_create_server(il_loop_t *loop, const char *host, int port,
                               const il_server_options_t *opts,
                               il_protocol_factory_fn factory, void *server_ud,
                               il_server_t **out);

/* As il_create_server on a Unix stream socket at `path` ('@': abstract). A
 * stale socket file left at path is replaced; any other file is
 * IL_EADDRINUSE. The socket file is removed when the server closes. */
IL_EXTERN int il_create_unix_server(il_loop_t *loop, const char *path,
                                    const il_server_options_t *opts,
                                    il_protocol_factory_fn factory,
                                    void *server_ud, il_server_t **out);

/* Serves on an already-listening stream socket, which the server then owns.
 * Errors (fd untouched): IL_EINVAL, IL_ENOTSOCK, IL_ENOTSUP (not a
 * listening stream socket), IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_server_adopt(il_loop_t *loop, int fd,
                              const il_server_options_t *opts,
                              il_protocol_factory_fn factory, void *server_ud,
                              il_server_t **out);

/* Stops listening and closes the listening sockets (new connections are
 * refused); connections already accepted go on. Idempotent. Errors:
 * IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_server_close(il_server_t *s);

/* *out receives a future (caller's reference) that completes with 0 once the
 * server is closed and every connection it accepted is lost. Errors:
 * IL_EINVAL, IL_ECLOSED (loop closed), IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_server_wait_closed(il_server_t *s, il_future_t **out);

/* 1 while the server listens, else 0 (also for NULL). */
IL_EXTERN int il_server_is_serving(const il_server_t *s);

/* Writes up to cap listening fds into fds (may be NULL when cap is 0) and
 * returns how many the server has (0 once closed). */
IL_EXTERN size_t il_server_sockets(const il_server_t *s, int *fds, size_t cap);

/* The port the server listens on (the first socket's), or IL_EINVAL /
 * IL_ECLOSED / IL_ENOTSUP (a Unix server). */
IL_EXTERN int il_server_port(const il_server_t *s);

/* The number of accepted connections not yet lost. */
IL_EXTERN size_t il_server_connections(const il_server_t *s);

/* Closes the server if it is not closed and drops the caller's reference;
 * the memory goes once its connections are gone too. NULL is a no-op. Loop
 * thread (any thread once the loop is closed). */
IL_EXTERN void il_server_free(il_server_t *s);

/* ---- datagram (UDP) endpoints ------------------------------------------- */

#define IL_DGRAM_BROADCAST 1u /* SO_BROADCAST */
#define IL_DGRAM_REUSEPORT 2u /* SO_REUSEPORT */

typedef struct il_datagram_options {
  size_t size;             /* sizeof(il_datagram_options_t) */
  int family;              /* AF_UNSPEC (0), AF_INET or AF_INET6 */
  const char *local_host;  /* numeric address to bind, or NULL */
  int local_port;          /* with local_host, or alone (0: any) */
  const char *remote_host; /* numeric address or name to connect, or NULL */
  int remote_port;
  unsigned flags; /* IL_DGRAM_* */
} il_datagram_options_t;

#define IL_DATAGRAM_OPTIONS_INIT                                               \
  {sizeof(il_datagram_options_t), 0, NULL, 0, NULL, 0, 0u}

/* Creates a UDP endpoint bound to the local address and/or connected to the
 * remote one (at least one of them, or `family`, must be given). *out
 * receives a future (caller's reference) completing with the transport (a
 * reference the future holds) after connection_made, or the error
 * (IL_EAI, IL_EADDRINUSE, ...). Received datagrams go to datagram_received;
 * close and abort call connection_lost. Errors returned at once: IL_EINVAL,
 * IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_create_datagram_endpoint(il_loop_t *loop,
                                          const il_datagram_options_t *opts,
                                          const il_protocol_t *proto, void *ud,
                                          il_future_t **out);

/* Sends one datagram (copied; buffered when the socket would block, with the
 * write-buffer limits and pause/resume_writing of stream transports). addr
 * NULL sends to the connected remote address. Errors: IL_EINVAL (NULL t,
 * NULL data with len > 0), IL_EDESTADDRREQ (no addr, not connected),
 * IL_EISCONN (addr given to a connected endpoint, differing from its remote),
 * IL_EMSGSIZE, IL_ECLOSED, IL_ENOTSUP (a stream transport), IL_ENOMEM,
 * IL_EWRONGTHREAD. A send error reported by the kernel later goes to
 * error_received. */
IL_EXTERN int il_transport_sendto(il_transport_t *t, const void *data,
                                  size_t len, const struct sockaddr *addr,
                                  socklen_t addrlen);

IL_END_DECLS

#endif /* INTERLOOP_TRANSPORT_H */
