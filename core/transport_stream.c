/* core/transport_stream.c — the stream-socket transport (TCP and Unix).
 *
 * Reads go into the loop's shared buffer (or straight into the protocol's,
 * for a buffered protocol), so a transport holds no memory but its struct
 * unless it has unsent data. Writes are tried on the socket at once; what the
 * socket does not take is copied into a list of chunks and flushed when the
 * fd is writable. The writer is registered only while that list is non-empty
 * and the reader only while the application reads, so the echo path costs
 * one recv and one send per message and no other syscall.
 *
 * connection_made is scheduled at creation and the reader is started right
 * after it runs (as asyncio does), so no data can reach the protocol before
 * connection_made, even when the fd number was just reused by a closed
 * transport whose readiness is still queued.
 *
 * The fd is closed, and connection_lost scheduled, exactly once (finish());
 * `t->fd < 0` says it happened.
 *
 * The same code serves the pipe transports (process.h): a read-only or
 * write-only transport on a pipe, FIFO, character device or socket. Those
 * use read/write instead of recv/send (unless the fd is a socket), and a
 * write pipe watches its fd for readability only to notice that the
 * reading end went away. */
#include "transport_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* The smallest block of the write buffer; small writes fill the tail block,
 * a larger remainder gets a block of its own size. */
#define CHUNK_MIN ((size_t)16 * 1024)

/* Blocks handed to one sendmsg when flushing. Every block but the first and
 * the last is full, so this is at least ~2 MiB, more than a socket buffer
 * takes at once; it keeps the iovec array on the stack small. */
#define FLUSH_IOV (IOV_MAX < 128 ? IOV_MAX : 128)

/* Reads per readiness event while each read fills the whole buffer (then
 * the loop serves the other fds; level-triggered readiness brings us back). */
#define READS_PER_EVENT 32

typedef struct wchunk {
  struct wchunk *next;
  size_t off; /* first byte not yet sent */
  size_t len; /* bytes stored */
  size_t cap;
  char data[];
} wchunk_t;

typedef struct stream {
  il_transport_t t; /* first: the head transport.c knows */
  wchunk_t *head, *tail;
  uint8_t started;       /* connection_made ran: reading may start */
  uint8_t rd_on;         /* the reader is registered */
  uint8_t wr_on;         /* the writer is registered */
  uint8_t close_pending; /* close(): finish once the buffer is flushed */
  uint8_t eof_pending;   /* write_eof(): shut down once flushed */
  uint8_t eof_rcvd;      /* the peer's EOF was read: never read again */
  uint8_t dir;           /* DUPLEX, or a pipe: READ_ONLY / WRITE_ONLY */
  uint8_t not_sock;      /* read/write instead of recv/send */
  uint8_t tty;           /* a terminal: EIO on read is end of file */
  uint8_t hup_watch;     /* write pipe: watch for the reader going away */
} stream_t;

enum { DUPLEX = 0, READ_ONLY = 1, WRITE_ONLY = 2 };

_Static_assert(sizeof(stream_t) <= 512,
               "an idle stream transport must stay within 512 bytes");

static void chunks_free(stream_t *s) {
  wchunk_t *c = s->head;
  while (c) {
    wchunk_t *next = c->next;
    free(c);
    c = next;
  }
  s->head = s->tail = NULL;
  s->t.wbuf_size = 0;
}

/* Closes the fd and schedules connection_lost(error). The transport may be
 * freed before this returns (when the loop cannot schedule): callers return
 * right after it unless they hold a reference. */
static void finish(stream_t *s, int error) {
  il_transport_t *t = &s->t;
  if (s->rd_on)
    il_loop_remove_reader(t->loop, t->fd);
  if (s->wr_on)
    il_loop_remove_writer(t->loop, t->fd);
  s->rd_on = s->wr_on = 0;
  close(t->fd);
  t->fd = -1;
  chunks_free(s);
  il__transport_schedule_lost(t, error);
}

/* A socket error, or a failure of our own: abort with that error. */
static void fail(stream_t *s, int error) {
  if (s->t.fd < 0)
    return;
  s->t.state = IL__T_CLOSING;
  finish(s, error);
}

/* sendmsg for more than one piece (never more than IOV_MAX). A
 * non-blocking socket does not fail with EINTR; if one did, the caller
 * treats it as "try again later" like EAGAIN. */
static ssize_t send_pieces(int fd, const struct iovec *iov, int iovcnt) {
  struct msghdr m;
  memset(&m, 0, sizeof(m));
  m.msg_iov = (struct iovec *)(uintptr_t)iov;
  m.msg_iovlen = (size_t)(iovcnt < IOV_MAX ? iovcnt : IOV_MAX);
  return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* write/writev on a pipe or device, which has no MSG_NOSIGNAL: SIGPIPE is
 * blocked in this thread around the call, and one the call raised (it is
 * directed at this thread) is taken off the pending set before unblocking,
 * so the process's disposition is never consulted. */
static ssize_t pipe_write(int fd, const struct iovec *iov, int iovcnt) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  ssize_t n = iovcnt == 1
                  ? write(fd, iov[0].iov_base, iov[0].iov_len)
                  : writev(fd, iov, iovcnt < IOV_MAX ? iovcnt : IOV_MAX);
  int err = errno;
  if (n < 0 && err == EPIPE) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
      ;
  }
  if (!sigismember(&old, SIGPIPE))
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = err;
  return n;
}

static inline ssize_t send_iov(const stream_t *s, const struct iovec *iov,
                               int iovcnt) {
  if (IL__UNLIKELY(s->not_sock))
    return pipe_write(s->t.fd, iov, iovcnt);
  if (IL__LIKELY(iovcnt == 1))
    return send(s->t.fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  return send_pieces(s->t.fd, iov, iovcnt);
}

static inline ssize_t recv_some(const stream_t *s, void *buf, size_t n) {
  if (IL__UNLIKELY(s->not_sock))
    return read(s->t.fd, buf, n);
  return recv(s->t.fd, buf, n, 0);
}

static int try_later(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* Drops the reference a callback site took; frees with the last one. */
static inline void release(il_transport_t *t) {
  if (IL__LIKELY(t->refs > 1))
    t->refs--;
  else
    il__transport_unref(t);
}

static void stop_reading(stream_t *s) {
  if (s->rd_on) {
    il_loop_remove_reader(s->t.loop, s->t.fd);
    s->rd_on = 0;
  }
}

static int on_readable(il_loop_t *loop, int fd, void *arg);

static void start_reading(stream_t *s) {
  int rc = il__io_add(s->t.loop, s->t.fd, on_readable, s, IL_IO_READ);
  if (rc < 0)
    fail(s, rc);
  else
    s->rd_on = 1;
}

/* close(), also after an EOF the protocol did not keep open. The state is
 * already CLOSING. */
static void begin_close(stream_t *s) {
  stop_reading(s);
  if (s->head)
    s->close_pending = 1;
  else
    finish(s, 0);
}

/* ---- writing -------------------------------------------------------------
 */

/* Copies the `rest` bytes of iov that follow its first `skip` bytes to the
 * end of the buffer: into the room the tail block has left, then into at
 * most one new block. IL_ENOMEM leaves the buffer as it was. */
static int buffer_append(stream_t *s, const struct iovec *iov, int iovcnt,
                         size_t skip, size_t rest) {
  wchunk_t *tail = s->tail;
  size_t room = tail ? tail->cap - tail->len : 0;
  wchunk_t *fresh = NULL;
  if (rest > room) {
    size_t need = rest - room;
    size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;
    if (cap > SIZE_MAX - sizeof(wchunk_t) ||
        !(fresh = malloc(sizeof(wchunk_t) + cap)))
      return IL_ENOMEM;
    fresh->next = NULL;
    fresh->off = fresh->len = 0;
    fresh->cap = cap;
  }
  wchunk_t *c = room ? tail : fresh;
  for (int i = 0; i < iovcnt; i++) {
    const char *p = iov[i].iov_base;
    size_t n = iov[i].iov_len;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    p += skip;
    n -= skip;
    skip = 0;
    while (n) {
      if (c->len == c->cap)
        c = fresh;
      size_t k = c->cap - c->len;
      if (k > n)
        k = n;
      memcpy(c->data + c->len, p, k);
      c->len += k;
      p += k;
      n -= k;
    }
  }
  if (fresh) {
    if (tail)
      tail->next = fresh;
    else
      s->head = fresh;
    s->tail = fresh;
  }
  s->t.wbuf_size += rest;
  return 0;
}

static int on_writable(il_loop_t *loop, int fd, void *arg);

static int stream_write(il_transport_t *t, const struct iovec *iov, int iovcnt,
                        size_t total) {
  stream_t *s = (stream_t *)t;
  size_t sent = 0;
  if (IL__LIKELY(!s->head)) {
    ssize_t n = send_iov(s, iov, iovcnt);
    if (IL__LIKELY((size_t)n == total))
      return 0;
    if (n < 0) {
      if (!try_later(errno)) {
        fail(s, il_translate_sys_error(errno));
        return 0;
      }
      n = 0;
    }
    sent = (size_t)n;
  }
  int rc = buffer_append(s, iov, iovcnt, sent, total - sent);
  if (rc < 0) {
    if (sent == 0)
      return rc;
    /* Part of it is on the wire already: the rest cannot be refused
     * without breaking the byte stream. */
    fail(s, rc);
    return 0;
  }
  if (!s->wr_on) {
    rc = il__io_add(t->loop, t->fd, on_writable, s, IL_IO_WRITE);
    if (rc < 0) {
      fail(s, rc);
      return 0;
    }
    s->wr_on = 1;
  }
  il__transport_flow(t);
  return 0;
}

/* Drops n sent bytes from the front of the buffer. */
static void consume(stream_t *s, size_t n) {
  s->t.wbuf_size -= n;
  while (n) {
    wchunk_t *c = s->head;
    size_t k = c->len - c->off;
    if (n < k) {
      c->off += n;
      return;
    }
    n -= k;
    s->head = c->next;
    free(c);
  }
  if (!s->head)
    s->tail = NULL;
}

static int on_writable(il_loop_t *loop, int fd, void *arg) {
  stream_t *s = arg;
  il_transport_t *t = &s->t;
  struct iovec iov[FLUSH_IOV];
  int n = 0;
  for (wchunk_t *c = s->head; c && n < FLUSH_IOV; c = c->next, n++) {
    iov[n].iov_base = c->data + c->off;
    iov[n].iov_len = c->len - c->off;
  }
  if (n == 0) { /* not expected: the writer goes with the last block */
    il_loop_remove_writer(loop, fd);
    s->wr_on = 0;
    return 0;
  }
  ssize_t w = send_iov(s, iov, n);
  if (w < 0) {
    if (!try_later(errno))
      fail(s, il_translate_sys_error(errno));
    return 0;
  }
  consume(s, (size_t)w);
  /* resume_writing may close, abort or write: hold the transport and look
   * at its state again afterwards. */
  t->refs++;
  if (!s->head) {
    il_loop_remove_writer(loop, fd);
    s->wr_on = 0;
  }
  il__transport_flow(t);
  if (!s->head && t->fd >= 0) {
    if (s->close_pending)
      finish(s, 0);
    else if (s->eof_pending) {
      s->eof_pending = 0;
      shutdown(t->fd, SHUT_WR);
    }
  }
  release(t);
  return 0;
}

static int stream_write_eof(il_transport_t *t) {
  stream_t *s = (stream_t *)t;
  if (s->head)
    s->eof_pending = 1;
  else
    shutdown(t->fd, SHUT_WR); /* ENOTCONN (reset): the reader reports it */
  return 0;
}

/* ---- reading -------------------------------------------------------------
 */

static void got_eof(stream_t *s) {
  il_transport_t *t = &s->t;
  stop_reading(s);
  s->eof_rcvd = 1;
  int keep = t->proto.eof_received ? t->proto.eof_received(t, t->ud) : 0;
  if ((!keep || s->dir == READ_ONLY) && t->state == IL__T_OPEN) {
    t->state = IL__T_CLOSING;
    begin_close(s);
  }
}

/* A recv that brought nothing: the peer's EOF, nothing yet, or an error.
 * On a terminal, EIO says the other side (a PTY's slave) is gone. */
static void read_ended(stream_t *s, ssize_t n) {
  if (n == 0 || (s->tty && errno == EIO))
    got_eof(s);
  else if (!try_later(errno))
    fail(s, il_translate_sys_error(errno));
}

/* A protocol with get_buffer: each read goes straight into the memory it
 * lends. */
static void read_buffered(il_loop_t *loop, int fd, stream_t *s) {
  il_transport_t *t = &s->t;
  IL__UNUSED(loop);
  IL__UNUSED(fd);
  for (int i = 0; i < READS_PER_EVENT && s->rd_on && t->proto.get_buffer; i++) {
    void *buf = NULL;
    size_t cap = 0;
    int rc = t->proto.get_buffer(t, IL__READ_BUF, &buf, &cap, t->ud);
    if (rc != 0 || !buf || !cap) {
      fail(s, rc < 0 ? rc : IL_ENOBUFS);
      return;
    }
    if (!s->rd_on)
      return; /* paused or closed from inside get_buffer */
    ssize_t n = recv_some(s, buf, cap);
    if (n <= 0) {
      read_ended(s, n);
      return;
    }
    if (t->proto.buffer_updated)
      t->proto.buffer_updated(t, (size_t)n, t->ud);
    if ((size_t)n < cap)
      return;
  }
}

/* The hot path: one recv into the loop's shared buffer, one data_received.
 * A read that fills the buffer is followed by another (up to
 * READS_PER_EVENT), so a fast sender is drained without a poll between. */
static int on_readable(il_loop_t *loop, int fd, void *arg) {
  stream_t *s = arg;
  il_transport_t *t = &s->t;
  /* The protocol's callbacks may close or abort the transport. */
  t->refs++;
  if (IL__UNLIKELY(t->proto.get_buffer != NULL)) {
    read_buffered(loop, fd, s);
    release(t);
    return 0;
  }
  IL__UNUSED(fd);
  char *buf = loop->read_buf;
  if (IL__UNLIKELY(!buf) && !(buf = il__loop_read_buf(loop))) {
    fail(s, IL_ENOMEM);
    release(t);
    return 0;
  }
  for (int i = 1;; i++) {
    ssize_t n = recv_some(s, buf, IL__READ_BUF);
    if (n <= 0) {
      read_ended(s, n);
      break;
    }
    if (t->proto.data_received)
      t->proto.data_received(t, buf, (size_t)n, t->ud);
    /* A protocol switched to a buffered one reads at the next event. */
    if ((size_t)n < IL__READ_BUF || i == READS_PER_EVENT || !s->rd_on ||
        t->proto.get_buffer)
      break;
  }
  release(t);
  return 0;
}

static void stream_set_reading(il_transport_t *t, int on) {
  stream_t *s = (stream_t *)t;
  if (!s->started || s->eof_rcvd)
    return; /* connection_made starts it; after EOF nothing is read */
  if (on && !s->rd_on)
    start_reading(s);
  else if (!on)
    stop_reading(s);
}

/* A write pipe's fd turns readable only when the reading end is gone (an
 * error or hang-up; on a socket, also data, which a write pipe does not
 * want either): the transport is lost, with IL_EPIPE if data was still
 * buffered. */
static int on_hangup(il_loop_t *loop, int fd, void *arg) {
  IL__UNUSED(loop);
  IL__UNUSED(fd);
  stream_t *s = arg;
  if (s->t.fd >= 0) {
    s->t.state = IL__T_CLOSING;
    finish(s, s->head ? IL_EPIPE : 0);
  }
  return 0;
}

static void watch_hangup(stream_t *s) {
  if (!s->hup_watch || s->t.state != IL__T_OPEN || s->rd_on)
    return;
  int rc = il__io_add(s->t.loop, s->t.fd, on_hangup, s, IL_IO_READ);
  if (rc < 0)
    fail(s, rc);
  else
    s->rd_on = 1; /* removed by stop_reading / finish like a reader */
}

/* connection_made, then the reader (unless connection_made paused reading
 * or closed the transport). */
static int made_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  stream_t *s = arg;
  il_transport_t *t = &s->t;
  if (t->state == IL__T_LOST)
    return 0;
  t->refs++;
  s->started = 1;
  if (t->proto.connection_made)
    t->proto.connection_made(t, t->ud);
  if (s->dir == WRITE_ONLY)
    watch_hangup(s);
  else if (t->state == IL__T_OPEN && t->reading && !s->rd_on && !s->eof_rcvd)
    start_reading(s);
  release(t);
  return 0;
}

/* ---- closing -------------------------------------------------------------
 */

static void stream_close(il_transport_t *t) {
  begin_close((stream_t *)t);
}

static void stream_abort(il_transport_t *t) {
  /* A transport already finished (close flushed, or an error) has its
   * connection_lost scheduled: nothing more to do. */
  if (t->fd >= 0)
    finish((stream_t *)t, IL_ECANCELED);
}

static void stream_loop_closing(il_transport_t *t) {
  stream_t *s = (stream_t *)t;
  int error = IL_ECLOSED;
  if (t->fd >= 0) {
    stop_reading(s);
    if (s->wr_on)
      il_loop_remove_writer(t->loop, t->fd);
    s->wr_on = 0;
    close(t->fd);
    t->fd = -1;
    chunks_free(s);
  } else {
    /* Finished already: the queued connection_lost is dropped with the
     * loop's queue, so deliver it now with the error it was given. */
    error = t->lost_error;
  }
  il__transport_lost(t, error);
}

static void stream_free(il_transport_t *t) {
  chunks_free((stream_t *)t);
  free(t);
}

/* What every stream-like kind shares. */
#define STREAM_VT_COMMON                                                       \
  .close = stream_close, .abort = stream_abort,                                \
  .loop_closing = stream_loop_closing, .free = stream_free

static const il__transport_vt_t tcp_vt = {
    .name = "tcp", .write = stream_write, .write_eof = stream_write_eof,
    .set_reading = stream_set_reading, STREAM_VT_COMMON};
static const il__transport_vt_t unix_vt = {
    .name = "unix", .write = stream_write, .write_eof = stream_write_eof,
    .set_reading = stream_set_reading, STREAM_VT_COMMON};

/* A write pipe has no half-close: write_eof closes once the buffer is
 * flushed (the reader sees end of file). */
static int pipe_write_eof(il_transport_t *t) {
  t->state = IL__T_CLOSING;
  begin_close((stream_t *)t);
  return 0;
}

static const il__transport_vt_t read_pipe_vt = {
    .name = "read-pipe", .set_reading = stream_set_reading, STREAM_VT_COMMON};
static const il__transport_vt_t write_pipe_vt = {
    .name = "write-pipe", .write = stream_write, .write_eof = pipe_write_eof,
    .eof_closes = 1, STREAM_VT_COMMON};

/* ---- creation ------------------------------------------------------------
 */

/* IL_EINVAL, IL_EWRONGTHREAD, IL_ECLOSED for what creating needs. */
static int check_args(il_loop_t *loop, int fd, const il_protocol_t *proto) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_protocol_t copy;
  if (fd < 0 || il__protocol_copy(&copy, proto) < 0)
    return IL_EINVAL;
  return 0;
}

/* As il__stream_transport_new, but on failure the fd stays open. `dir` and
 * `st` (the fd's fstat, NULL for a socket) say which kind it is. */
static int stream_new(il_loop_t *loop, int fd, const il__transport_vt_t *vt,
                      int dir, const struct stat *st,
                      const il_protocol_t *proto, void *ud,
                      il_transport_t **out) {
  int rc = check_args(loop, fd, proto);
  if (rc < 0)
    return rc;
  stream_t *s = malloc(sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  il__transport_init(&s->t, loop, vt, fd, proto, ud);
  s->head = s->tail = NULL;
  s->started = s->rd_on = s->wr_on = 0;
  s->close_pending = s->eof_pending = s->eof_rcvd = 0;
  s->dir = (uint8_t)dir;
  s->not_sock = st && !S_ISSOCK(st->st_mode);
  s->tty = st && S_ISCHR(st->st_mode) && isatty(fd);
  /* A character device is not watched: a PTY master is readable whenever
   * the other side wrote, which says nothing about the reader's presence. */
  s->hup_watch = dir == WRITE_ONLY && st && !S_ISCHR(st->st_mode);
  rc = il__schedule(loop, made_cb, s, IL__H_SOON, NULL);
  if (rc < 0) {
    s->t.fd = -1;
    il__transport_unref(&s->t);
    return rc;
  }
  if (out)
    *out = &s->t;
  return 0;
}

int il__stream_transport_new(il_loop_t *loop, int fd, int is_unix,
                             const il_protocol_t *proto, void *ud,
                             il_transport_t **out) {
  int rc = stream_new(loop, fd, is_unix ? &unix_vt : &tcp_vt, DUPLEX, NULL,
                      proto, ud, out);
  if (rc < 0 && fd >= 0)
    close(fd);
  return rc;
}

/* Makes fd non-blocking and close-on-exec and builds the transport; if that
 * fails, the fd's flags are put back as they were. */
static int adopt_fd(il_loop_t *loop, int fd, const il__transport_vt_t *vt,
                    int dir, const struct stat *st, const il_protocol_t *proto,
                    void *ud, il_transport_t **out) {
  int fl = fcntl(fd, F_GETFL);
  int fdfl = fcntl(fd, F_GETFD);
  int rc = il__fd_prepare(fd);
  if (rc == 0)
    rc = stream_new(loop, fd, vt, dir, st, proto, ud, out);
  if (rc < 0) {
    if (fl >= 0)
      fcntl(fd, F_SETFL, fl);
    if (fdfl >= 0)
      fcntl(fd, F_SETFD, fdfl);
  }
  return rc;
}

static int noop_io(il_loop_t *loop, int fd, void *arg) {
  IL__UNUSED(loop);
  IL__UNUSED(fd);
  IL__UNUSED(arg);
  return 0;
}

int il__pipe_transport_new(il_loop_t *loop, int fd, int writing,
                           const il_protocol_t *proto, void *ud,
                           il_transport_t **out) {
  if (out)
    *out = NULL;
  int rc = check_args(loop, fd, proto);
  if (rc < 0)
    return rc;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return il_translate_sys_error(errno);
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode))
    return IL_EINVAL;
  if (S_ISCHR(st.st_mode)) {
    /* Not every device can be watched (epoll refuses /dev/null): ask the
     * backend now, so the caller gets the error rather than the protocol. */
    unsigned bit = writing ? IL_IO_WRITE : IL_IO_READ;
    rc = il__io_add(loop, fd, noop_io, NULL, bit);
    if (rc < 0)
      return rc;
    if (writing)
      il_loop_remove_writer(loop, fd);
    else
      il_loop_remove_reader(loop, fd);
  }
  return adopt_fd(loop, fd, writing ? &write_pipe_vt : &read_pipe_vt,
                  writing ? WRITE_ONLY : READ_ONLY, &st, proto, ud, out);
}

int il_transport_adopt(il_loop_t *loop, int fd, const il_protocol_t *proto,
                       void *ud, il_transport_t **out) {
  int rc = check_args(loop, fd, proto);
  if (rc < 0)
    return rc;
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
    return il_translate_sys_error(errno); /* EBADF, ENOTSOCK */
  if (type != SOCK_STREAM)
    return IL_ENOTSUP;
  int listening = 0;
  len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
      listening)
    return IL_ENOTSUP;
  struct sockaddr_storage ss;
  len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
    return il_translate_sys_error(errno);
  rc = adopt_fd(loop, fd, ss.ss_family == AF_UNIX ? &unix_vt : &tcp_vt, DUPLEX,
                NULL, proto, ud, out);
  if (rc < 0)
    return rc;
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return 0;
}
