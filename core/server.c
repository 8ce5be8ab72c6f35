/* core/server.c — TCP and Unix-socket servers: listening sockets, the accept
 * loop, and the count of live connections that il_server_wait_closed waits
 * for.
 *
 * A server is held by the caller (until il_server_free) and by each accepted
 * connection not yet lost: the transport head's on_lost hook gives that
 * reference back. Accepting is bounded per readiness (IL__ACCEPT_BATCH), so a
 * busy listener cannot starve the loop, and errors that mean "out of fds or
 * memory" pause accepting for retry_delay instead of spinning on a listener
 * that stays readable. */
#include "transport_internal.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define IL__ACCEPT_BATCH 64
#define IL__BACKLOG_DEFAULT 100
#define IL__RETRY_DELAY_DEFAULT 0.1

typedef struct il__listener {
  il_server_t *server;
  int fd; /* -1 once closed */
} il__listener_t;

struct il_server {
  il_loop_t *loop;
  il_server_t *prev, *next; /* the loop's servers (until freed) */
  il_protocol_factory_fn factory;
  void *ud;
  il__listener_t *ls;
  size_t nls;
  il_handle_t *retry;    /* accepting paused until it runs */
  il_future_t **waiters; /* il_server_wait_closed futures (references) */
  size_t nwaiters, cap_waiters;
  size_t conns;  /* accepted connections not yet lost */
  uint32_t refs; /* the caller's + one per live connection */
  double retry_delay;
  uint8_t is_unix;
  uint8_t nodelay;
  uint8_t closed;
  uint8_t freed; /* il_server_free was called */
  char *path;    /* Unix socket file to remove at close, or NULL */
  dev_t path_dev;
  ino_t path_ino;
};

/* ---- options and checks ------------------------------------------------- */

static int server_check(const il_server_t *s) {
  if (!s)
    return IL_EINVAL;
  uintptr_t owner = atomic_load_explicit(&s->loop->owner, memory_order_relaxed);
  if (owner != 0 && owner != (uintptr_t)pthread_self())
    return IL_EWRONGTHREAD;
  return 0;
}

/* Reads the caller's options (only the `size` bytes it declared) and checks
 * them; fills the defaults. */
static int read_options(const il_server_options_t *opts,
                        il_server_options_t *o) {
  if (il__options_read(o, sizeof(*o), opts) < 0)
    return IL_EINVAL;
  if (o->family != AF_UNSPEC && o->family != AF_INET && o->family != AF_INET6)
    return IL_EINVAL;
  if (o->backlog < 0 ||
      (o->flags &
       ~(IL_SERVER_REUSEPORT | IL_SERVER_NO_REUSEADDR | IL_SERVER_NO_NODELAY)))
    return IL_EINVAL;
  if (!isfinite(o->retry_delay) || o->retry_delay < 0)
    return IL_EINVAL;
  if (o->backlog == 0)
    o->backlog = IL__BACKLOG_DEFAULT;
  if (o->retry_delay == 0)
    o->retry_delay = IL__RETRY_DELAY_DEFAULT;
  return 0;
}

/* The checks every way to start a server begins with; reads the options
 * into *o. */
static int start_checks(il_loop_t *loop, il_protocol_factory_fn factory,
                        const il_server_options_t *opts, il_server_options_t *o,
                        il_server_t **out) {
  if (out)
    *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  return factory && out && read_options(opts, o) == 0 ? 0 : IL_EINVAL;
}

/* ---- the server object -------------------------------------------------- */

static il_server_t *server_new(il_loop_t *loop, const il_server_options_t *o,
                               il_protocol_factory_fn factory, void *ud,
                               size_t nls) {
  il_server_t *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->ls = calloc(nls ? nls : 1, sizeof(*s->ls));
  if (!s->ls) {
    free(s);
    return NULL;
  }
  for (size_t i = 0; i < nls; i++) {
    s->ls[i].server = s;
    s->ls[i].fd = -1;
  }
  s->loop = loop;
  s->factory = factory;
  s->ud = ud;
  s->refs = 1;
  s->retry_delay = o->retry_delay;
  s->nodelay = !(o->flags & IL_SERVER_NO_NODELAY);
  return s;
}

/* Closes what is still open of the server (a failed start: the listening
 * sockets) and frees it. */
static void server_discard(il_server_t *s) {
  for (size_t i = 0; i < s->nls; i++)
    if (s->ls[i].fd >= 0)
      close(s->ls[i].fd);
  free(s->path);
  free(s->ls);
  free(s);
}

static void complete_waiters(il_server_t *s) {
  il_future_t **w = s->waiters;
  size_t n = s->nwaiters;
  s->waiters = NULL;
  s->nwaiters = s->cap_waiters = 0;
  for (size_t i = 0; i < n; i++) {
    if (!il_future_done(w[i]))
      il_future_set_result(w[i], NULL, NULL);
    il_future_unref(w[i]);
  }
  free(w);
}

static void server_unref(il_server_t *s) {
  if (--s->refs > 0)
    return;
  il_loop_t *loop = s->loop;
  if (s->prev)
    s->prev->next = s->next;
  else
    loop->servers = s->next;
  if (s->next)
    s->next->prev = s->prev;
  loop->stats.servers--;
  complete_waiters(s); /* none left: closed with no connections */
  server_discard(s);
  il__loop_unref(loop);
}

/* Removes the Unix socket file if it is still the one this server bound
 * (another process may have replaced it since). */
static void remove_socket_file(il_server_t *s) {
  struct stat st;
  if (s->path && lstat(s->path, &st) == 0 && st.st_dev == s->path_dev &&
      st.st_ino == s->path_ino)
    unlink(s->path);
  free(s->path);
  s->path = NULL;
}

static void stop_retry(il_server_t *s) {
  il__handle_drop(&s->retry);
}

static void close_listeners(il_server_t *s) {
  if (s->closed)
    return;
  s->closed = 1;
  for (size_t i = 0; i < s->nls; i++) {
    if (s->ls[i].fd < 0)
      continue;
    il_loop_remove_reader(s->loop, s->ls[i].fd);
    close(s->ls[i].fd);
    s->ls[i].fd = -1;
  }
  stop_retry(s);
  remove_socket_file(s);
  if (s->conns == 0)
    complete_waiters(s);
}

/* ---- accepting ---------------------------------------------------------- */

static void report(il_server_t *s, int code, const char *what, int fd) {
  char msg[160];
  snprintf(msg, sizeof(msg), "server: %s: %s", what, il_strerror(code));
  il__report(s->loop, code, IL_SOURCE_SERVER, msg, NULL, s, fd);
}

static int on_acceptable(il_loop_t *loop, int fd, void *arg);

static int start_reading(il_server_t *s) {
  for (size_t i = 0; i < s->nls; i++) {
    int rc =
        il__io_add(s->loop, s->ls[i].fd, on_acceptable, &s->ls[i], IL_IO_READ);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int resume_accepting(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il_server_t *s = arg;
  il_handle_release(s->retry);
  s->retry = NULL;
  if (!s->closed) {
    int rc = start_reading(s);
    if (rc < 0)
      report(s, rc, "could not resume accepting", -1);
  }
  return 0;
}

/* Out of fds or memory: the listener stays readable, so accepting again at
 * once would spin. Stop watching every listener for retry_delay. */
static void pause_accepting(il_server_t *s, int code, int fd) {
  char what[96];
  snprintf(what, sizeof(what), "accept failed, pausing for %g s",
           s->retry_delay);
  report(s, code, what, fd);
  for (size_t i = 0; i < s->nls; i++)
    il_loop_remove_reader(s->loop, s->ls[i].fd);
  if (il_loop_call_later(s->loop, s->retry_delay, resume_accepting, s,
                         &s->retry) == 0)
    il__handle_mark_internal(s->retry);
  else
    start_reading(s); /* no timer: keep serving rather than stop for good */
}

static void conn_lost(il_transport_t *t, int error, void *owner) {
  IL__UNUSED(t);
  IL__UNUSED(error);
  il_server_t *s = owner;
  if (--s->conns == 0 && s->closed)
    complete_waiters(s);
  server_unref(s);
}

static void serve(il_server_t *s, int fd) {
  if (!s->is_unix && s->nodelay) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  const il_protocol_t *proto = NULL;
  void *ud = NULL;
  if (s->factory(s, s->ud, &proto, &ud) != 0) {
    close(fd);
    return;
  }
  il_protocol_t check;
  if (il__protocol_copy(&check, proto) < 0) {
    close(fd);
    report(s, IL_EINVAL, "the protocol factory gave no valid protocol", fd);
    return;
  }
  il_transport_t *t = NULL;
  int rc = il__stream_transport_new(s->loop, fd, s->is_unix, proto, ud, &t);
  if (rc < 0) {
    report(s, rc, "could not create a transport for a connection", -1);
    return;
  }
  t->on_lost = conn_lost;
  t->owner = s;
  s->conns++;
  s->refs++;
}

/* Errors after which the next pending connection may well be fine: the
 * peer gave up, or (accept(2)) a network error of the new connection. */
static int accept_skippable(int e) {
  switch (e) {
  case EINTR:
  case ECONNABORTED:
  case EPROTO:
  case EPERM:
  case ENETDOWN:
  case ENETUNREACH:
  case EHOSTDOWN:
  case EHOSTUNREACH:
  case ENONET:
  case ENOPROTOOPT:
  case EOPNOTSUPP:
    return 1;
  default:
    return 0;
  }
}

static int on_acceptable(il_loop_t *loop, int fd, void *arg) {
  IL__UNUSED(loop);
  IL__UNUSED(fd);
  il__listener_t *l = arg;
  il_server_t *s = l->server;
  s->refs++; /* the factory may free the server */
  for (int i = 0; i < IL__ACCEPT_BATCH && l->fd >= 0 && !s->retry; i++) {
    int c = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      serve(s, c);
      continue;
    }
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK)
      break;
    if (accept_skippable(e))
      continue;
    /* EMFILE, ENFILE, ENOBUFS, ENOMEM, and anything unexpected. */
    pause_accepting(s, il_translate_sys_error(e), l->fd);
    break;
  }
  server_unref(s);
  return 0;
}

/* ---- listening sockets -------------------------------------------------- */

static int sys_error(void) {
  return il_translate_sys_error(errno);
}

/* A listening socket bound to `sa`; returns the fd or an error. */
static int listen_on(const struct sockaddr *sa, socklen_t len,
                     const il_server_options_t *o) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sys_error();
  int one = 1, rc = 0;
  if (sa->sa_family != AF_UNIX && !(o->flags & IL_SERVER_NO_REUSEADDR) &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
    rc = sys_error();
  if (!rc && (o->flags & IL_SERVER_REUSEPORT) &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
    rc = errno == ENOPROTOOPT ? IL_ENOTSUP : sys_error();
  /* Each IPv6 socket serves IPv6 only: IPv4 has its own socket. */
  if (!rc && sa->sa_family == AF_INET6 &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
    rc = sys_error();
  if (!rc && bind(fd, sa, len) < 0)
    rc = sys_error();
  if (!rc && listen(fd, o->backlog) < 0)
    rc = sys_error();
  if (rc) {
    close(fd);
    return rc;
  }
  return fd;
}

static void set_port(struct sockaddr_storage *ss, int port) {
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
    return sys_error();
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return IL_ENOTSUP;
}

/* The addresses a TCP server listens on; returns how many, or an error. */
static int server_addresses(const char *host, int port, int family,
                            struct sockaddr_storage ss[2], socklen_t len[2]) {
  const char *two[2];
  int fams[2] = {AF_INET, AF_INET6};
  if (!host || !*host) {
    two[0] = two[1] = NULL;
  } else if (strcmp(host, "localhost") == 0) {
    two[0] = "127.0.0.1";
    two[1] = "::1";
  } else {
    int rc = il__sockaddr_numeric(host, port, family, &ss[0], &len[0]);
    return rc < 0 ? rc : 1;
  }
  int n = 0;
  for (int i = 0; i < 2; i++) {
    if (family != AF_UNSPEC && family != fams[i])
      continue;
    int rc = il__sockaddr_numeric(two[i], port, fams[i], &ss[n], &len[n]);
    if (rc < 0)
      return rc;
    n++;
  }
  return n;
}

/* IPv6 missing from this host (the second socket of a dual-stack or
 * "localhost" server is then left out). */
static int ipv6_unavailable(int rc) {
  return rc == IL_EAFNOSUPPORT || rc == IL_EADDRNOTAVAIL ||
         rc == IL_EPROTONOSUPPORT;
}

/* Binds every address; with port 0 the first socket picks the port and the
 * others reuse it (tried again a few times if that port is taken for the
 * other family). */
static int bind_all(il_server_t *s, struct sockaddr_storage *ss, socklen_t *len,
                    int n, int port, const il_server_options_t *o) {
  int rc = 0;
  for (int attempt = 0; attempt < (port == 0 ? 5 : 1); attempt++) {
    rc = 0;
    int chosen = port;
    for (int i = 0; i < n; i++) {
      set_port(&ss[i], chosen);
      int fd = listen_on((struct sockaddr *)&ss[i], len[i], o);
      if (fd < 0 && i > 0 && ss[i].ss_family == AF_INET6 &&
          ipv6_unavailable(fd))
        continue;
      if (fd < 0) {
        rc = fd;
        break;
      }
      s->ls[s->nls++].fd = fd;
      if (chosen == 0 && (chosen = bound_port(fd)) < 0) {
        rc = chosen;
        break;
      }
    }
    if (rc == 0)
      return 0;
    for (size_t i = 0; i < s->nls; i++) {
      close(s->ls[i].fd);
      s->ls[i].fd = -1;
    }
    s->nls = 0;
    if (rc != IL_EADDRINUSE || n < 2)
      break; /* else: the port was free for one family only; another one */
  }
  return rc;
}

/* Links the server into the loop and starts accepting; on failure
 * discards it. */
static int server_start(il_server_t *s, il_server_t **out) {
  il_loop_t *loop = s->loop;
  int rc = start_reading(s);
  if (rc < 0) {
    for (size_t i = 0; i < s->nls; i++)
      il_loop_remove_reader(loop, s->ls[i].fd);
    if (s->path)
      remove_socket_file(s);
    server_discard(s);
    return rc;
  }
  s->next = loop->servers;
  if (loop->servers)
    loop->servers->prev = s;
  loop->servers = s;
  loop->stats.servers++;
  loop->refs++;
  *out = s;
  return 0;
}

int il_create_server(il_loop_t *loop, const char *host, int port,
                     const il_server_options_t *opts,
                     il_protocol_factory_fn factory, void *server_ud,
                     il_server_t **out) {
  il_server_options_t o;
  int rc = start_checks(loop, factory, opts, &o, out);
  if (rc < 0)
    return rc;
  if (port < 0 || port > 65535)
    return IL_EINVAL;
  struct sockaddr_storage ss[2];
  socklen_t len[2];
  int n = server_addresses(host, port, o.family, ss, len);
  if (n <= 0)
    return n < 0 ? n : IL_EINVAL;
  il_server_t *s = server_new(loop, &o, factory, server_ud, (size_t)n);
  if (!s)
    return IL_ENOMEM;
  rc = bind_all(s, ss, len, n, port, &o);
  if (rc < 0) {
    server_discard(s);
    return rc;
  }
  return server_start(s, out);
}

/* A socket file at path: stale (nobody listens: connecting is refused) is
 * removed; anything else is in use. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *sun,
                              socklen_t len) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : sys_error();
  if (!S_ISSOCK(st.st_mode))
    return IL_EADDRINUSE;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sys_error();
  int r = connect(fd, (const struct sockaddr *)sun, len);
  int e = errno;
  close(fd);
  if (r == 0 || (e != ECONNREFUSED && e != ENOENT))
    return IL_EADDRINUSE; /* someone listens (maybe with a full backlog) */
  if (unlink(path) < 0 && errno != ENOENT)
    return sys_error();
  return 0;
}

int il_create_unix_server(il_loop_t *loop, const char *path,
                          const il_server_options_t *opts,
                          il_protocol_factory_fn factory, void *server_ud,
                          il_server_t **out) {
  il_server_options_t o;
  int rc = start_checks(loop, factory, opts, &o, out);
  if (rc < 0)
    return rc;
  struct sockaddr_un sun;
  socklen_t len;
  if (il__sockaddr_unix(path, &sun, &len) < 0)
    return IL_EINVAL;
  int abstract = path[0] == '@';
  if (!abstract && (rc = clear_stale_socket(path, &sun, len)) < 0)
    return rc;
  il_server_t *s = server_new(loop, &o, factory, server_ud, 1);
  if (!s)
    return IL_ENOMEM;
  s->is_unix = 1;
  int fd = listen_on((struct sockaddr *)&sun, len, &o);
  if (fd < 0) {
    server_discard(s);
    return fd;
  }
  s->ls[0].fd = fd;
  s->nls = 1;
  struct stat st;
  if (!abstract) {
    if (!(s->path = strdup(path))) {
      unlink(path);
      server_discard(s);
      return IL_ENOMEM;
    }
    if (lstat(path, &st) == 0) {
      s->path_dev = st.st_dev;
      s->path_ino = st.st_ino;
    }
  }
  return server_start(s, out);
}

int il_server_adopt(il_loop_t *loop, int fd, const il_server_options_t *opts,
                    il_protocol_factory_fn factory, void *server_ud,
                    il_server_t **out) {
  il_server_options_t o;
  int rc = start_checks(loop, factory, opts, &o, out);
  if (rc < 0)
    return rc;
  if (fd < 0)
    return IL_EINVAL;
  int type = 0, listening = 0;
  socklen_t sl = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) < 0)
    return sys_error(); /* IL_ENOTSOCK, IL_EBADF */
  sl = sizeof(listening);
  if (type != SOCK_STREAM ||
      getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) < 0 ||
      !listening)
    return IL_ENOTSUP;
  struct sockaddr_storage ss;
  sl = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
    return sys_error();
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 &&
      ss.ss_family != AF_UNIX)
    return IL_ENOTSUP;
  il_server_t *s = server_new(loop, &o, factory, server_ud, 1);
  if (!s)
    return IL_ENOMEM;
  if ((rc = il__fd_prepare(fd)) < 0) {
    server_discard(s); /* holds no fd yet */
    return rc;
  }
  s->is_unix = ss.ss_family == AF_UNIX;
  s->ls[0].fd = fd;
  s->nls = 1;
  return server_start(s, out);
}

/* ---- the public object -------------------------------------------------- */

int il_server_close(il_server_t *s) {
  int rc = server_check(s);
  if (rc < 0)
    return rc;
  close_listeners(s);
  return 0;
}

int il_server_wait_closed(il_server_t *s, il_future_t **out) {
  if (out)
    *out = NULL;
  int rc = server_check(s);
  if (rc < 0)
    return rc;
  if (!out)
    return IL_EINVAL;
  il_future_t *f = NULL;
  if ((rc = il_future_new(s->loop, &f)) < 0)
    return rc;
  if (s->closed && s->conns == 0) {
    il_future_set_result(f, NULL, NULL);
  } else {
    if (s->nwaiters == s->cap_waiters) {
      size_t cap = s->cap_waiters ? 2 * s->cap_waiters : 4;
      il_future_t **w = realloc(s->waiters, cap * sizeof(*w));
      if (!w) {
        il_future_unref(f);
        return IL_ENOMEM;
      }
      s->waiters = w;
      s->cap_waiters = cap;
    }
    s->waiters[s->nwaiters++] = il_future_ref(f);
  }
  *out = f;
  return 0;
}

int il_server_is_serving(const il_server_t *s) {
  return s && !s->closed;
}

size_t il_server_sockets(const il_server_t *s, int *fds, size_t cap) {
  if (!s || s->closed)
    return 0;
  for (size_t i = 0; fds && i < cap && i < s->nls; i++)
    fds[i] = s->ls[i].fd;
  return s->nls;
}

int il_server_port(const il_server_t *s) {
  if (!s)
    return IL_EINVAL;
  if (s->closed)
    return IL_ECLOSED;
  if (s->is_unix)
    return IL_ENOTSUP;
  return bound_port(s->ls[0].fd);
}

size_t il_server_connections(const il_server_t *s) {
  return s ? s->conns : 0;
}

void il_server_free(il_server_t *s) {
  if (!s || s->freed || server_check(s) < 0)
    return;
  s->freed = 1;
  close_listeners(s);
  server_unref(s);
}

void il__servers_close(il_loop_t *loop) {
  il__connects_close(loop);
  for (il_server_t *s = loop->servers; s; s = s->next)
    close_listeners(s);
}
