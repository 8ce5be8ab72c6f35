/* core/connect.c — TCP and Unix-socket clients: il_create_connection.
 *
 * An attempt resolves the host (numeric hosts inline, names on the
 * executor), then tries each address in turn with a non-blocking connect,
 * waiting for writability and reading SO_ERROR. The whole attempt is bounded
 * by opts->timeout. On success the stream transport is created (it schedules
 * connection_made) and the future is completed by a callback queued behind
 * connection_made, so a caller woken by the future finds the protocol
 * started.
 *
 * Life of an attempt: it is "running" until it finishes (success, failure,
 * timeout, cancellation, loop close) and is freed once no callback that
 * names it can still run: its done-callback on the caller's future (the
 * caller cancelling is how it learns to stop), its done-callback on the
 * lookup, and the queued completion. Loop close frees it at once: queued
 * callbacks are dropped without being run then. */
#include "transport_internal.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <interloop/executor.h>

typedef struct il__addr {
  struct sockaddr_storage ss;
  socklen_t len;
} il__addr_t;

typedef struct il__connect {
  struct il__connect *prev, *next; /* loop->connects */
  il_loop_t *loop;
  il_future_t *fut;   /* the caller's future (a reference of ours) */
  il_future_t *dns;   /* the lookup while it runs */
  il_handle_t *timer; /* opts->timeout */
  il_transport_t *t;  /* connected: the completion is queued */
  il_protocol_t proto;
  void *ud;
  il__addr_t *addrs;
  size_t naddrs, next_addr;
  il__addr_t local; /* bind first when local.len or local_port */
  int local_port;
  int fd; /* the socket connecting now, or -1 */
  int last_error;
  int port;
  unsigned flags;
  uint8_t is_unix;
  uint8_t running;
  uint8_t pending; /* callbacks still to run that name the attempt */
  char *name;      /* host or path, for error messages */
} il__connect_t;

/* Every attempt not yet freed is on its loop's list (loop->connects); loop
 * close takes them out. */
static void attempts_link(il__connect_t *c) {
  il_loop_t *loop = c->loop;
  c->prev = NULL;
  c->next = loop->connects;
  if (loop->connects)
    loop->connects->prev = c;
  loop->connects = c;
}

static void attempts_unlink(il__connect_t *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    c->loop->connects = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

int il__sockaddr_unix(const char *path, struct sockaddr_un *sun,
                      socklen_t *len) {
  size_t n = path ? strlen(path) : 0;
  if (n == 0 || n >= sizeof(sun->sun_path) || (path[0] == '@' && n < 2))
    return IL_EINVAL;
  memset(sun, 0, sizeof(*sun));
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, n);
  if (path[0] == '@') {
    /* Abstract: a leading NUL, and the length counts the name exactly. */
    sun->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)sizeof(*sun);
  }
  return 0;
}

/* ---- ending an attempt -------------------------------------------------- */

static void transport_value_free(void *t) {
  il_transport_unref(t);
}

static int on_fut_done(il_future_t *f, void *arg);
static int on_resolved(il_future_t *f, void *arg);

static void attempt_discard(il__connect_t *c) {
  il_future_unref(c->fut);
  free(c->addrs);
  free(c->name);
  free(c);
}

static void attempt_free(il__connect_t *c) {
  attempts_unlink(c);
  attempt_discard(c);
}

static void maybe_free(il__connect_t *c) {
  if (!c->running && !c->pending)
    attempt_free(c);
}

static void stop_socket(il__connect_t *c) {
  if (c->fd < 0)
    return;
  il_loop_remove_writer(c->loop, c->fd);
  close(c->fd);
  c->fd = -1;
}

static void stop_timer(il__connect_t *c) {
  il__handle_drop(&c->timer);
}

static void stop_lookup(il__connect_t *c) {
  if (!c->dns)
    return;
  if (il_future_remove_done_callback(c->dns, on_resolved, c) > 0)
    c->pending--;
  il_future_cancel(c->dns, NULL);
  il_future_unref(c->dns);
  c->dns = NULL;
}

/* Stops the socket, the timer and the lookup; the attempt is over (its
 * future is for the caller of this function to complete). */
static void stop_all(il__connect_t *c) {
  stop_socket(c);
  stop_timer(c);
  stop_lookup(c);
  c->running = 0;
}

/* Our own completion: the done-callback must not run for it. */
static int claim_future(il__connect_t *c) {
  if (il_future_done(c->fut))
    return 0;
  if (il_future_remove_done_callback(c->fut, on_fut_done, c) > 0)
    c->pending--;
  return 1;
}

static void fail(il__connect_t *c, int code, const char *detail) {
  stop_all(c);
  if (claim_future(c)) {
    char msg[300];
    if (c->is_unix)
      snprintf(msg, sizeof(msg), "connect to %s: %s", c->name,
               detail ? detail : il_strerror(code));
    else
      snprintf(msg, sizeof(msg), "connect to %s port %d: %s", c->name, c->port,
               detail ? detail : il_strerror(code));
    if (code == IL_ECANCELED)
      il_future_cancel(c->fut, msg);
    else
      il_future_set_error(c->fut, code, msg);
  }
  maybe_free(c);
}

/* ---- connecting --------------------------------------------------------- */

/* Queued behind connection_made: completes the future with the transport. */
static int on_made(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il__connect_t *c = arg;
  il_transport_t *t = c->t;
  c->t = NULL;
  c->pending--;
  if (claim_future(c)) {
    il_future_set_result(c->fut, t, transport_value_free);
  } else {
    /* Cancelled while connection_made was queued. */
    il_transport_close(t);
    il_transport_unref(t);
  }
  maybe_free(c);
  return 0;
}

static void connected(il__connect_t *c, int fd) {
  c->fd = -1;
  stop_all(c);
  if (!c->is_unix && !(c->flags & IL_CONNECT_NO_NODELAY)) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  il_transport_t *t = NULL;
  int rc =
      il__stream_transport_new(c->loop, fd, c->is_unix, &c->proto, c->ud, &t);
  if (rc < 0) {
    fail(c, rc, NULL);
    return;
  }
  c->t = il_transport_ref(t);
  c->pending++;
  if (il__schedule(c->loop, on_made, c, IL__H_SOON, NULL) < 0)
    on_made(c->loop, c);
}

static int on_writable(il_loop_t *loop, int fd, void *arg);

/* Starts connecting to one address: 1 in progress (c->fd is watched), 0
 * connected (the attempt is over), or the error. */
static int try_address(il__connect_t *c, const il__addr_t *a) {
  il__addr_t local = c->local;
  int family = a->ss.ss_family;
  if (!local.len && c->local_port &&
      il__sockaddr_numeric(NULL, c->local_port, family, &local.ss, &local.len) <
          0)
    return IL_EAFNOSUPPORT;
  if (local.len && local.ss.ss_family != family)
    return IL_EAFNOSUPPORT; /* the local address is of the other family */
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return il_translate_sys_error(errno);
  int rc = 0;
  if (local.len && bind(fd, (struct sockaddr *)&local.ss, local.len) < 0) {
    rc = il_translate_sys_error(errno);
  } else if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
    connected(c, fd);
    return 0;
  } else if (errno != EINPROGRESS && errno != EINTR) {
    /* EINTR: the connect goes on in the background, as EINPROGRESS. EAGAIN
     * (a Unix listener's backlog is full) is an error of its own: that
     * socket is not connecting, so it would be writable at once. */
    rc = il_translate_sys_error(errno);
  } else if ((rc = il__io_add(c->loop, fd, on_writable, c, IL_IO_WRITE)) == 0) {
    c->fd = fd;
    return 1;
  }
  close(fd);
  return rc;
}

/* Tries the remaining addresses until one is in progress or connected;
 * fails the attempt with the last error when none is left. */
static void next_address(il__connect_t *c) {
  while (c->next_addr < c->naddrs) {
    int rc = try_address(c, &c->addrs[c->next_addr++]);
    if (rc >= 0)
      return;
    c->last_error = rc;
  }
  fail(c, c->last_error ? c->last_error : IL_EAI, NULL);
}

static int on_writable(il_loop_t *loop, int fd, void *arg) {
  il__connect_t *c = arg;
  il_loop_remove_writer(loop, fd);
  if (il_future_done(c->fut)) { /* cancelled: on_fut_done finishes */
    stop_socket(c);
    return 0;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == 0) {
    connected(c, fd);
    return 0;
  }
  close(fd);
  c->fd = -1;
  c->last_error = il_translate_sys_error(err);
  next_address(c);
  return 0;
}

static int on_timeout(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il__connect_t *c = arg;
  il_handle_release(c->timer);
  c->timer = NULL;
  fail(c, IL_ETIMEDOUT, NULL);
  return 0;
}

/* The caller's future is done and we did not complete it: cancelled. */
static int on_fut_done(il_future_t *f, void *arg) {
  IL__UNUSED(f);
  il__connect_t *c = arg;
  c->pending--;
  if (c->running)
    stop_all(c);
  maybe_free(c);
  return 0;
}

static int on_resolved(il_future_t *f, void *arg) {
  il__connect_t *c = arg;
  c->pending--;
  if (!c->running || c->dns != f) {
    maybe_free(c);
    return 0;
  }
  void *value = NULL;
  int rc = il_future_result(f, &value);
  if (rc < 0) {
    const char *msg = NULL;
    il_future_error(f, &msg);
    fail(c, rc, msg && *msg ? msg : NULL);
    return 0;
  }
  size_t n = 0;
  for (struct addrinfo *ai = value; ai; ai = ai->ai_next)
    n++;
  il__addr_t *addrs = n ? calloc(n, sizeof(*addrs)) : NULL;
  if (n && !addrs) {
    fail(c, IL_ENOMEM, NULL);
    return 0;
  }
  n = 0;
  for (struct addrinfo *ai = value; ai; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(addrs[n].ss))
      continue;
    memcpy(&addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
    addrs[n++].len = ai->ai_addrlen;
  }
  il_future_unref(c->dns);
  c->dns = NULL;
  free(c->addrs);
  c->addrs = addrs;
  c->naddrs = n;
  c->next_addr = 0;
  c->last_error = IL_EAI;
  next_address(c);
  return 0;
}

/* ---- starting ----------------------------------------------------------- */

/* Copies an options struct that begins with `size_t size` (NULL: all
 * zero), reading only the `size` bytes the caller declared; the rest is
 * zero. IL_EINVAL when size cannot even hold itself. */
int il__options_read(void *dst, size_t cap, const void *src) {
  memset(dst, 0, cap);
  if (!src)
    return 0;
  size_t size;
  memcpy(&size, src, sizeof(size));
  if (size < sizeof(size_t))
    return IL_EINVAL;
  memcpy(dst, src, size < cap ? size : cap);
  return 0;
}

static int read_options(const il_connect_options_t *opts,
                        il_connect_options_t *o) {
  if (il__options_read(o, sizeof(*o), opts) < 0)
    return IL_EINVAL;
  if (o->family != AF_UNSPEC && o->family != AF_INET && o->family != AF_INET6)
    return IL_EINVAL;
  if (o->local_port < 0 || o->local_port > 65535 ||
      (o->flags & ~IL_CONNECT_NO_NODELAY))
    return IL_EINVAL;
  if (isnan(o->timeout) || o->timeout < 0)
    return IL_EINVAL;
  return 0;
}

static il__connect_t *attempt_new(il_loop_t *loop, const char *name,
                                  const il_protocol_t *proto, void *ud,
                                  const il_connect_options_t *o) {
  il__connect_t *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  if (!(c->name = strdup(name)) || !(c->addrs = calloc(1, sizeof(*c->addrs)))) {
    free(c->name);
    free(c);
    return NULL;
  }
  c->loop = loop;
  il__protocol_copy(&c->proto, proto);
  c->ud = ud;
  c->fd = -1;
  c->flags = o->flags;
  return c;
}

/* Hands the attempt its future and timer, then starts it: the numeric
 * address in c->addrs[0] (naddrs 1), or a lookup of `host`. */
static int attempt_start(il__connect_t *c, const char *host, int family,
                         double timeout, il_future_t **out) {
  il_loop_t *loop = c->loop;
  il_future_t *f = NULL, *dns = NULL;
  int rc = il_future_new(loop, &f);
  if (rc < 0) {
    attempt_discard(c);
    return rc;
  }
  if (c->naddrs == 0) {
    char service[16];
    snprintf(service, sizeof(service), "%d", c->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = il_getaddrinfo(loop, host, service, &hints, &dns);
  }
  if (rc == 0)
    rc = il_future_add_done_callback(f, on_fut_done, c);
  if (rc == 0 && dns && (rc = il_future_add_done_callback(dns, on_resolved, c)))
    il_future_remove_done_callback(f, on_fut_done, c);
  if (rc == 0 && timeout > 0 && !isinf(timeout)) {
    rc = il_loop_call_later(loop, timeout, on_timeout, c, &c->timer);
    if (rc == 0) {
      il__handle_mark_internal(c->timer);
    } else {
      il_future_remove_done_callback(f, on_fut_done, c);
      if (dns)
        il_future_remove_done_callback(dns, on_resolved, c);
    }
  }
  if (rc < 0) {
    if (dns) {
      il_future_cancel(dns, NULL);
      il_future_unref(dns);
    }
    il_future_unref(f);
    attempt_discard(c);
    return rc;
  }
  c->fut = il_future_ref(f);
  c->dns = dns;
  c->pending = dns ? 2 : 1;
  c->running = 1;
  attempts_link(c);
  *out = f;
  if (!dns)
    next_address(c);
  return 0;
}

/* The checks both clients start with; reads the options into *o. */
static int connect_checks(il_loop_t *loop, const char *host,
                          const il_connect_options_t *opts,
                          il_connect_options_t *o, const il_protocol_t *proto,
                          il_future_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_protocol_t check;
  if (!host || !*host || !out || il__protocol_copy(&check, proto) < 0 ||
      read_options(opts, o) < 0)
    return IL_EINVAL;
  return 0;
}

int il_create_connection(il_loop_t *loop, const char *host, int port,
                         const il_connect_options_t *opts,
                         const il_protocol_t *proto, void *ud,
                         il_future_t **out) {
  il_connect_options_t o;
  int rc = connect_checks(loop, host, opts, &o, proto, out);
  if (rc < 0)
    return rc;
  il__addr_t local = {0};
  if (port < 0 || port > 65535 ||
      (o.local_host &&
       il__sockaddr_numeric(o.local_host, o.local_port, o.family, &local.ss,
                            &local.len) < 0))
    return IL_EINVAL;
  il__connect_t *c = attempt_new(loop, host, proto, ud, &o);
  if (!c)
    return IL_ENOMEM;
  c->port = port;
  c->local = local;
  c->local_port = o.local_port;
  if (il__sockaddr_numeric(host, port, o.family, &c->addrs[0].ss,
                           &c->addrs[0].len) >= 0)
    c->naddrs = 1;
  return attempt_start(c, host, o.family, o.timeout, out);
}

int il_create_unix_connection(il_loop_t *loop, const char *path,
                              const il_connect_options_t *opts,
                              const il_protocol_t *proto, void *ud,
                              il_future_t **out) {
  il_connect_options_t o;
  int rc = connect_checks(loop, path, opts, &o, proto, out);
  if (rc < 0)
    return rc;
  struct sockaddr_un sun;
  socklen_t len;
  if (il__sockaddr_unix(path, &sun, &len) < 0)
    return IL_EINVAL;
  il__connect_t *c = attempt_new(loop, path, proto, ud, &o);
  if (!c)
    return IL_ENOMEM;
  c->is_unix = 1; /* no local address, no family: only the timeout counts */
  memcpy(&c->addrs[0].ss, &sun, len);
  c->addrs[0].len = len;
  c->naddrs = 1;
  return attempt_start(c, path, AF_UNIX, o.timeout, out);
}

void il__connects_close(il_loop_t *loop) {
  il__connect_t *mine = NULL;
  for (il__connect_t *c = loop->connects, *next; c; c = next) {
    next = c->next;
    attempts_unlink(c);
    c->next = mine;
    mine = c;
  }
  while (mine) {
    il__connect_t *c = mine;
    mine = c->next;
    stop_all(c);
    if (c->t) { /* connected; the completion is queued */
      il_transport_unref(c->t);
      c->t = NULL;
    }
    if (claim_future(c))
      il_future_cancel(c->fut, "the loop was closed");
    /* Callbacks still queued are dropped by the close, never run. */
    attempt_discard(c);
  }
}
