/* core/udp.c — datagram (UDP) endpoints: il_create_datagram_endpoint and
 * the "udp" transport kind.
 *
 * An endpoint is a transport head plus a FIFO of datagrams the socket would
 * not take yet. Creation goes through up to three steps:
 *   1. resolving: the remote host is a name and il_getaddrinfo runs; the
 *      transport already exists (fd -1, in the loop's list, so loop close
 *      finds it) but its protocol has not been told anything;
 *   2. made: the socket is bound and/or connected, connection_made is
 *      scheduled and the completion of the creation future right behind it
 *      (one pass runs both, in that order);
 *   3. the creation future completes with the transport.
 * An endpoint whose connection_made never ran (creation failed, was
 * cancelled while resolving, or the loop closed first) is dropped without
 * any protocol callback: connection_lost only follows connection_made.
 *
 * Errors are not fatal for a datagram socket (an ICMP port-unreachable turns
 * into ECONNREFUSED on the next send or receive of a connected socket): they
 * go to error_received and the endpoint stays open. */
#include "transport_internal.h"

#include <interloop/executor.h>
#include <interloop/future.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Datagrams read per readiness report, so one busy endpoint cannot hold the
 * loop. */
#define IL__DGRAM_READS_PER_PASS 32

/* The largest UDP payloads: 65535 minus the IPv4 (20) and UDP (8) headers,
 * and minus the UDP header for IPv6 (its length field excludes the fixed
 * header; jumbograms are not supported). */
#define IL__UDP4_MAX 65507
#define IL__UDP6_MAX 65527

typedef union il__inaddr {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} il__inaddr_t;

/* A datagram the socket did not take yet. */
typedef struct il__dgram_msg {
  struct il__dgram_msg *next;
  size_t len;
  socklen_t addrlen; /* 0: to the connected peer */
  il__inaddr_t addr;
  char data[];
} il__dgram_msg_t;

typedef struct il__dgram {
  il_transport_t t; /* first: the head transport.c works on */
  il__dgram_msg_t *head, *tail;
  il_future_t *fut; /* the creation future (the core's reference) until it
                       completed */
  il_future_t *dns; /* the remote's lookup while resolving */
  il__inaddr_t local, remote;
  socklen_t local_len;  /* 0: nothing to bind (or the wildcard, below) */
  socklen_t remote_len; /* 0: not connected */
  int family;           /* requested, then the socket's */
  int local_port;       /* bind the wildcard of the final family to it */
  int remote_port;
  unsigned flags;        /* IL_DGRAM_* */
  uint8_t bind_wildcard; /* local_port given without local_host */
  uint8_t resolving;     /* dns_done is registered on `dns` */
  uint8_t watching;      /* user_done is registered on `fut` */
  uint8_t made;          /* connection_made was scheduled */
  uint8_t writing;       /* the writer is registered */
  uint8_t lost_sched;    /* connection_lost is scheduled (fd closed) */
} il__dgram_t;

static il__dgram_t *dgram_of(il_transport_t *t) {
  return (il__dgram_t *)(void *)t;
}

static int would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

/* The future's value destructor: the reference the future holds. */
static void value_unref(void *p) {
  il_transport_unref(p);
}

/* ---- the end ------------------------------------------------------------- */

static void drop_queue(il__dgram_t *d) {
  il__dgram_msg_t *m = d->head;
  while (m) {
    il__dgram_msg_t *next = m->next;
    free(m);
    m = next;
  }
  d->head = d->tail = NULL;
  d->t.wbuf_size = 0;
}

static void close_fd(il__dgram_t *d) {
  if (d->t.fd < 0)
    return;
  il_loop_remove_reader(d->t.loop, d->t.fd);
  if (d->writing)
    il_loop_remove_writer(d->t.loop, d->t.fd);
  d->writing = 0;
  close(d->t.fd);
  d->t.fd = -1;
}

/* The socket is done with: close it and schedule connection_lost(error).
 * May free the transport (when the loop cannot schedule): the caller's last
 * touch. */
static void finish(il__dgram_t *d, int error) {
  close_fd(d);
  d->lost_sched = 1;
  il__transport_schedule_lost(&d->t, error);
}

/* Drops an endpoint whose protocol was never told anything (creation failed
 * or was cancelled before connection_made was scheduled). */
static void discard(il__dgram_t *d) {
  close_fd(d);
  d->t.state = IL__T_LOST;
  il__transport_unref(&d->t);
}

/* Creation failed: the future gets the error, the endpoint goes. */
static void fail(il__dgram_t *d, int code, const char *message) {
  if (!il_future_done(d->fut))
    il_future_set_error(d->fut, code, message);
  il_future_unref(d->fut);
  d->fut = NULL;
  discard(d);
}

/* ---- receiving ------------------------------------------------------------
 */

static void report(il__dgram_t *d, int error) {
  if (d->t.state != IL__T_LOST && d->t.proto.error_received)
    d->t.proto.error_received(&d->t, error, d->t.ud);
}

static int on_readable(il_loop_t *loop, int fd, void *arg) {
  il__dgram_t *d = arg;
  il_transport_t *t = &d->t;
  char *buf = il__loop_read_buf(loop);
  t->refs++; /* callbacks may close it; keep it until we are done */
  for (int i = 0; i < IL__DGRAM_READS_PER_PASS; i++) {
    if (t->state != IL__T_OPEN || !t->reading || t->fd != fd)
      break;
    il__inaddr_t from;
    socklen_t fromlen = sizeof(from);
    char spare;
    /* Without the shared buffer (out of memory) the datagram is dropped
     * rather than left to make the socket ready for ever. */
    ssize_t n = buf ? recvfrom(fd, buf, IL__READ_BUF, 0, &from.sa, &fromlen)
                    : recvfrom(fd, &spare, 1, MSG_TRUNC, &from.sa, &fromlen);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        report(d, il_translate_sys_error(errno));
      break;
    }
    if (!buf)
      report(d, IL_ENOMEM);
    else if (t->proto.datagram_received)
      t->proto.datagram_received(t, buf, (size_t)n, &from.sa, fromlen, t->ud);
  }
  il__transport_unref(t);
  return 0;
}

/* ---- sending --------------------------------------------------------------
 */

static int send_one(int fd, const void *data, size_t len,
                    const struct sockaddr *to, socklen_t tolen) {
  for (;;) {
    ssize_t n =
        to ? sendto(fd, data, len, 0, to, tolen) : send(fd, data, len, 0);
    if (n >= 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

static int on_writable(il_loop_t *loop, int fd, void *arg) {
  IL__UNUSED(loop);
  il__dgram_t *d = arg;
  il_transport_t *t = &d->t;
  t->refs++;
  while (d->head && !d->lost_sched) {
    il__dgram_msg_t *m = d->head;
    int err = send_one(fd, m->data, m->len, m->addrlen ? &m->addr.sa : NULL,
                       m->addrlen);
    if (err && would_block(err))
      break;
    d->head = m->next;
    if (!d->head)
      d->tail = NULL;
    t->wbuf_size -= m->len;
    free(m);
    if (err) /* the datagram is gone; the rest still go */
      report(d, il_translate_sys_error(err));
  }
  if (!d->lost_sched) {
    if (!d->head && d->writing) {
      il_loop_remove_writer(t->loop, fd);
      d->writing = 0;
    }
    il__transport_flow(t);
    /* close() waits for the queue: this was the last of it. */
    if (t->state == IL__T_CLOSING && !d->head && !d->lost_sched)
      finish(d, 0);
  }
  il__transport_unref(t);
  return 0;
}

static socklen_t family_len(int family) {
  return family == AF_INET ? (socklen_t)sizeof(struct sockaddr_in)
                           : (socklen_t)sizeof(struct sockaddr_in6);
}

static int same_addr(const struct sockaddr *a, const il__inaddr_t *b) {
  if (a->sa_family != b->sa.sa_family)
    return 0;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)(const void *)a;
    return x->sin_port == b->in4.sin_port &&
           x->sin_addr.s_addr == b->in4.sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)(const void *)a;
  return x->sin6_port == b->in6.sin6_port &&
         memcmp(&x->sin6_addr, &b->in6.sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static int udp_sendto(il_transport_t *t, const void *data, size_t len,
                      const struct sockaddr *addr, socklen_t addrlen) {
  il__dgram_t *d = dgram_of(t);
  const struct sockaddr *to = NULL;
  socklen_t tolen = 0;
  if (addr) {
    /* An address the socket could never use is bad input, not a send
     * error. */
    if (addrlen < (socklen_t)sizeof(sa_family_t) ||
        addr->sa_family != d->family || addrlen < family_len(d->family) ||
        addrlen > (socklen_t)sizeof(struct sockaddr_storage))
      return IL_EINVAL;
    if (d->remote_len) {
      if (!same_addr(addr, &d->remote))
        return IL_EISCONN;
    } else {
      to = addr;
      tolen = family_len(d->family);
    }
  } else if (!d->remote_len) {
    return IL_EDESTADDRREQ;
  }
  /* Checked here too so a datagram that would be queued gets the answer
   * the kernel would give. */
  if (len > (d->family == AF_INET ? IL__UDP4_MAX : IL__UDP6_MAX))
    return IL_EMSGSIZE;
  if (!d->head) {
    int err = send_one(t->fd, data, len, to, tolen);
    if (!err)
      return 0;
    if (err == EMSGSIZE)
      return IL_EMSGSIZE;
    if (!would_block(err)) {
      report(d, il_translate_sys_error(err));
      return 0;
    }
  }
  il__dgram_msg_t *m = malloc(sizeof(*m) + len);
  if (!m)
    return IL_ENOMEM;
  m->next = NULL;
  m->len = len;
  m->addrlen = tolen;
  if (to)
    memcpy(&m->addr, to, tolen);
  if (len)
    memcpy(m->data, data, len);
  if (!d->writing) {
    int rc = il__io_add(t->loop, t->fd, on_writable, d, IL_IO_WRITE);
    if (rc < 0) {
      free(m);
      return rc;
    }
    d->writing = 1;
  }
  if (d->tail)
    d->tail->next = m;
  else
    d->head = m;
  d->tail = m;
  t->wbuf_size += len;
  il__transport_flow(t);
  return 0;
}

/* ---- the vt ---------------------------------------------------------------
 */

static void udp_close(il_transport_t *t) {
  il__dgram_t *d = dgram_of(t);
  if (t->fd >= 0)
    il_loop_remove_reader(t->loop, t->fd);
  if (!d->head)
    finish(d, 0);
  /* else on_writable finishes once the queue is sent */
}

static void udp_abort(il_transport_t *t) {
  il__dgram_t *d = dgram_of(t);
  drop_queue(d);
  if (!d->lost_sched)
    finish(d, IL_ECANCELED);
}

static void udp_set_reading(il_transport_t *t, int on) {
  if (t->fd < 0)
    return;
  if (!on) {
    il_loop_remove_reader(t->loop, t->fd);
    return;
  }
  int rc = il__io_add(t->loop, t->fd, on_readable, dgram_of(t), IL_IO_READ);
  if (rc < 0)
    il__report(t->loop, rc, IL_SOURCE_TRANSPORT,
               "udp: could not resume reading", NULL, t, t->fd);
}

static void udp_loop_closing(il_transport_t *t);

static void udp_free(il_transport_t *t) {
  il__dgram_t *d = dgram_of(t);
  drop_queue(d);
  free(d);
}

static const il__transport_vt_t udp_vt = {
    .name = "udp",
    .write = NULL,
    .write_eof = NULL,
    .close = udp_close,
    .abort = udp_abort,
    .set_reading = udp_set_reading,
    .sendto = udp_sendto,
    .loop_closing = udp_loop_closing,
    .free = udp_free,
};

/* ---- creation -------------------------------------------------------------
 */

static int user_done(il_future_t *f, void *arg);

/* Makes sure the next two il__schedule calls cannot fail for want of a
 * handle, so connection_made and the completion go out as a pair. */
static int reserve_two_handles(il_loop_t *loop) {
  il_handle_t *a = il__handle_get(loop);
  il_handle_t *b = il__handle_get(loop);
  if (a)
    il__handle_put(loop, a);
  if (b)
    il__handle_put(loop, b);
  return a && b ? 0 : IL_ENOMEM;
}

/* The creation future completes after connection_made ran (it was queued
 * just before this). */
static int complete_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il__dgram_t *d = arg;
  il_future_t *f = d->fut;
  d->fut = NULL;
  if (!il_future_done(f))
    il_future_set_result(f, il_transport_ref(&d->t), value_unref);
  else if (d->t.state == IL__T_OPEN)
    il_transport_abort(&d->t); /* cancelled by its owner: stop */
  il_future_unref(f);
  return 0;
}

/* The socket is ready: tell the protocol, then complete the future. */
static void start(il__dgram_t *d) {
  int rc = reserve_two_handles(d->t.loop);
  if (rc < 0) {
    fail(d, rc, NULL);
    return;
  }
  d->made = 1;
  /* Neither can fail now: the loop is open and the handles are there. */
  il__transport_schedule_made(&d->t);
  il__schedule(d->t.loop, complete_cb, d, IL__H_SOON, NULL);
}

/* Creates, configures, binds and connects the socket of `family`. On
 * failure nothing is left open. */
static int open_socket(il__dgram_t *d, int family) {
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return il_translate_sys_error(errno);
  int one = 1;
  if ((d->flags & IL_DGRAM_BROADCAST) &&
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
    goto sys_error;
  if ((d->flags & IL_DGRAM_REUSEPORT) &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
    goto sys_error;
  if (d->bind_wildcard) {
    struct sockaddr_storage ss;
    socklen_t len;
    il__sockaddr_numeric(NULL, d->local_port, family, &ss, &len);
    memcpy(&d->local, &ss, len);
    d->local_len = len;
  }
  if (d->local_len && bind(fd, &d->local.sa, d->local_len) < 0)
    goto sys_error;
  if (d->remote_len && connect(fd, &d->remote.sa, d->remote_len) < 0)
    goto sys_error;
  int rc = il__io_add(d->t.loop, fd, on_readable, d, IL_IO_READ);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  d->t.fd = fd;
  d->family = family;
  return 0;
sys_error:
  rc = il_translate_sys_error(errno);
  close(fd);
  return rc;
}

/* Each resolved address of a usable family in turn, until one works. */
static int try_addresses(il__dgram_t *d, const struct addrinfo *res) {
  int rc = IL_EAI;
  for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        (d->family && ai->ai_family != d->family) ||
        ai->ai_addrlen > sizeof(d->remote) ||
        ai->ai_addrlen < family_len(ai->ai_family))
      continue;
    memcpy(&d->remote, ai->ai_addr, ai->ai_addrlen);
    d->remote_len = ai->ai_addrlen;
    uint16_t port = htons((uint16_t)d->remote_port);
    if (ai->ai_family == AF_INET)
      d->remote.in4.sin_port = port;
    else
      d->remote.in6.sin6_port = port;
    if ((rc = open_socket(d, ai->ai_family)) == 0)
      return 0;
  }
  return rc;
}

static void abandon(il__dgram_t *d) {
  fail(d, 0, NULL);
}

static int dns_done(il_future_t *dns, void *arg) {
  il__dgram_t *d = arg;
  d->resolving = 0;
  d->dns = NULL;
  if (d->watching && il_future_remove_done_callback(d->fut, user_done, d) == 1)
    d->watching = 0;
  const char *msg = NULL;
  int rc = il_future_error(dns, &msg); /* retrieves it in every case */
  if (il_future_done(d->fut)) {
    /* Cancelled by its owner while resolving; when user_done is still to
     * run, it lets the endpoint go. */
    if (!d->watching)
      abandon(d);
  } else {
    if (rc == 0) {
      struct addrinfo *res = NULL;
      il_future_result(dns, (void **)&res);
      rc = try_addresses(d, res);
      msg =
          rc == IL_EAI ? "remote_host has no address of a usable family" : NULL;
    }
    if (rc < 0)
      fail(d, rc, msg);
    else
      start(d);
  }
  il_future_unref(dns);
  return 0;
}

/* The creation future was cancelled (or completed by someone else) while
 * resolving: stop the lookup, or finish what dns_done left to us. */
static int user_done(il_future_t *f, void *arg) {
  IL__UNUSED(f);
  il__dgram_t *d = arg;
  d->watching = 0;
  if (d->resolving)
    il_future_cancel(d->dns, NULL); /* dns_done follows and lets it go */
  else
    abandon(d);
  return 0;
}

static void resolve(il__dgram_t *d, const char *host) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = d->family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  int rc = il_getaddrinfo(d->t.loop, host, NULL, &hints, &d->dns);
  if (rc < 0) {
    d->dns = NULL;
    fail(d, rc, "could not start resolving remote_host");
    return;
  }
  rc = il_future_add_done_callback(d->dns, dns_done, d);
  if (rc < 0) {
    il_future_cancel(d->dns, NULL);
    il_future_unref(d->dns);
    d->dns = NULL;
    fail(d, rc, NULL);
    return;
  }
  d->resolving = 1;
  /* Without this watch a cancellation is only noticed when the lookup
   * ends. */
  if (il_future_add_done_callback(d->fut, user_done, d) == 0)
    d->watching = 1;
}

/* A numeric address of `family` (AF_UNSPEC: any); "" is the wildcard. */
static int numeric(const char *host, int port, int family, il__inaddr_t *out,
                   socklen_t *outlen) {
  struct sockaddr_storage ss;
  socklen_t len;
  int rc =
      il__sockaddr_numeric(host, port, *host ? AF_UNSPEC : family, &ss, &len);
  if (rc < 0)
    return rc;
  if (family && ss.ss_family != family)
    return IL_EAFNOSUPPORT;
  memcpy(out, &ss, len);
  *outlen = len;
  return 0;
}

static void begin(il__dgram_t *d, const il_datagram_options_t *o) {
  int rc;
  if (o->local_host) {
    rc = numeric(o->local_host, o->local_port, d->family, &d->local,
                 &d->local_len);
    if (rc < 0) {
      fail(d, rc,
           rc == IL_EAI ? "local_host is not a numeric address"
                        : "local_host is not of the requested family");
      return;
    }
    d->family = d->local.sa.sa_family;
  } else if (o->local_port) {
    d->bind_wildcard = 1;
  }
  if (o->remote_host) {
    rc = numeric(o->remote_host, o->remote_port, d->family, &d->remote,
                 &d->remote_len);
    if (rc == IL_EAI) {
      resolve(d, o->remote_host);
      return;
    }
    if (rc < 0) {
      fail(d, rc, "remote_host is not of the local address's family");
      return;
    }
    d->family = d->remote.sa.sa_family;
  }
  rc = open_socket(d, d->family ? d->family : AF_INET);
  if (rc < 0)
    fail(d, rc, NULL);
  else
    start(d);
}

/* Copies the caller's options as far as its `size` covers. */
static int options_copy(il_datagram_options_t *dst,
                        const il_datagram_options_t *src) {
  if (!src || src->size < sizeof(size_t))
    return IL_EINVAL;
  size_t n = src->size < sizeof(*dst) ? src->size : sizeof(*dst);
  memset(dst, 0, sizeof(*dst));
  memcpy(dst, src, n);
  return 0;
}

static int options_check(const il_datagram_options_t *o) {
  if (o->family != AF_UNSPEC && o->family != AF_INET && o->family != AF_INET6)
    return IL_EINVAL;
  if (o->local_port < 0 || o->local_port > 65535 || o->remote_port < 0 ||
      o->remote_port > 65535)
    return IL_EINVAL;
  if (o->flags & ~(unsigned)(IL_DGRAM_BROADCAST | IL_DGRAM_REUSEPORT))
    return IL_EINVAL;
  if (o->remote_host ? !*o->remote_host : o->remote_port != 0)
    return IL_EINVAL; /* "" or a port without a host */
  if (!o->local_host && !o->local_port && !o->remote_host && !o->family)
    return IL_EINVAL; /* nothing says what socket to make */
  return 0;
}

/* See transport.h. Loop thread. The future (caller's reference) completes
 * with the transport after connection_made, or with the error; errors
 * returned at once: IL_EINVAL, IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
int il_create_datagram_endpoint(il_loop_t *loop,
                                const il_datagram_options_t *opts,
                                const il_protocol_t *proto, void *ud,
                                il_future_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_datagram_options_t o;
  il_protocol_t pc;
  if (options_copy(&o, opts) < 0 || options_check(&o) < 0 ||
      il__protocol_copy(&pc, proto) < 0)
    return IL_EINVAL;
  il__dgram_t *d = calloc(1, sizeof(*d));
  if (!d)
    return IL_ENOMEM;
  il_future_t *fut = NULL;
  rc = il_future_new(loop, &fut);
  if (rc < 0) {
    free(d);
    return rc;
  }
  il__transport_init(&d->t, loop, &udp_vt, -1, &pc, ud);
  d->fut = il_future_ref(fut);
  d->family = o.family;
  d->local_port = o.local_port;
  d->remote_port = o.remote_port;
  d->flags = o.flags;
  *out = fut;
  begin(d, &o);
  return 0;
}

/* ---- loop close ---------------------------------------------------------- */

static void udp_loop_closing(il_transport_t *t) {
  il__dgram_t *d = dgram_of(t);
  drop_queue(d);
  close_fd(d);
  /* Registrations already scheduled are dropped with the loop's queues and
   * never run; the others are taken back here. */
  if (d->resolving) {
    il_future_remove_done_callback(d->dns, dns_done, d);
    il_future_cancel(d->dns, NULL);
    il_future_error(d->dns, NULL);
    il_future_unref(d->dns);
    d->dns = NULL;
    d->resolving = 0;
  }
  if (d->watching) {
    il_future_remove_done_callback(d->fut, user_done, d);
    d->watching = 0;
  }
  if (d->fut && !il_future_done(d->fut))
    il_future_cancel(d->fut, "the loop was closed");
  /* connection_made and the completion run in the same pass (queued one
   * after the other), so a completion still queued means connection_made
   * never ran either: the protocol hears nothing. */
  if (!d->made || d->fut) {
    abandon(d);
    return;
  }
  il__transport_lost(t, d->lost_sched ? t->lost_error : IL_ECLOSED);
}
