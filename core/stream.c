/* core/stream.c — streams for tasks (stream.h, SPEC §11): a reader and a
 * writer over a stream transport, as asyncio's StreamReader/StreamWriter.
 *
 * One object per connection; the reader and the writer are two members of
 * it. The object is the transport's protocol (its ud), so it must outlive
 * the transport's last callback: it is freed when nobody holds it (the
 * caller released it, or the handler task ended) and the transport is lost
 * (or there never was one). It holds a transport reference from
 * connection_made on, so il_stream_transport() stays valid until it goes.
 *
 * Reading is asyncio's StreamReaderProtocol: data_received appends to a
 * buffer, read* calls wait (a future each, through the sync primitives'
 * waiter lists) until what they need is buffered, and consume only then, so
 * a cancelled read leaves the buffer as it was. */
#include "future_internal.h"
#include "sync_internal.h"
#include "subprocess_internal.h"

#include <interloop/stream.h>

#include <stdlib.h>
#include <string.h>

/* Empty members: their addresses are the two public views of the object. */
struct il_stream_reader {
  char view;
};
struct il_stream_writer {
  char view;
};

/* A task waiting on the stream: parked (il__task_park) with no future of
 * its own, so a read that waits costs a park and a wake-up, not a future's
 * life. The lists are the sync primitives' (il__waitq_t, whose nodes'
 * `fut` stays NULL here); the node lives on the task's stack. */
typedef struct swaiter {
  il__waiter_t node; /* first; node.closed: the stream was freed under it */
  il__task_t *task;
} swaiter_t;

typedef il__waitq_t swaitq_t;

/* Wakes every waiting task; each looks at the stream again when it runs. */
static void swaitq_wake_all(swaitq_t *q) {
  for (il__waiter_t *w = q->head; w; w = w->next)
    il__task_unpark(((swaiter_t *)(void *)w)->task);
}

/* The stream is being freed: every waiter is unlinked, marked closed and
 * woken; none touches the stream again. */
static void swaitq_close(swaitq_t *q) {
  il__waiter_t *w;
  while ((w = q->head) != NULL) {
    il__waitq_remove(q, w);
    w->closed = 1;
    il__task_unpark(((swaiter_t *)(void *)w)->task);
  }
}

/* What a server's connections share (see start_common for its lifetime). */
typedef struct stream_server {
  il_loop_t *loop;
  il_stream_handler_fn handler;
  void *ud;
  size_t limit;
} stream_server_t;

typedef struct il__stream {
  struct il_stream_reader r;
  struct il_stream_writer w;
  il_loop_t *loop;
  il_transport_t *t; /* from connection_made on (our reference) */
  /* The read buffer: bytes [head, head + len) of buf (cap bytes). */
  char *buf;
  size_t cap, head, len;
  size_t limit;
  uint64_t consumed; /* bytes consumed so far (readuntil's resume point) */
  swaitq_t readers, drainers, closers;
  int error; /* what the connection was lost with (0: clean) */
  /* Server side: the handler and its task (a reference). */
  il_stream_handler_fn handler;
  void *handler_ud;
  il_task_t *task;
  uint8_t eof;      /* nothing more will arrive (EOF received, or lost) */
  uint8_t lost;     /* connection_lost was called */
  uint8_t attached; /* a transport will still call us (lost not yet) */
  uint8_t held;     /* the caller, or the handler task, holds the pair */
  uint8_t released; /* il_stream_release was called (client side) */
  uint8_t r_paused; /* we paused the transport's reading */
  uint8_t w_paused; /* the transport paused writing (pause_writing) */
  uint8_t started;  /* server side: the handler task began */
} il__stream_t;

static il__stream_t *from_reader(const il_stream_reader_t *r) {
  return IL__CONTAINER_OF(r, il__stream_t, r);
}

static il__stream_t *from_writer(const il_stream_writer_t *w) {
  return IL__CONTAINER_OF(w, il__stream_t, w);
}

static il__stream_t *stream_new(il_loop_t *loop, size_t limit) {
  il__stream_t *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->loop = loop;
  s->limit = limit;
  s->held = 1;
  return s;
}

/* Frees the object once nobody holds it and no transport will call it. */
static void stream_maybe_free(il__stream_t *s) {
  if (s->held || s->attached)
    return;
  swaitq_close(&s->readers);
  swaitq_close(&s->drainers);
  swaitq_close(&s->closers);
  free(s->buf);
  if (s->task)
    il_future_unref(s->task);
  if (s->t)
    il__transport_unref(s->t);
  free(s);
}

/* An abort is the application's own doing: to the stream's users it is a
 * closed connection, not a cancellation of their task. */
static int stream_lost_error(const il__stream_t *s) {
  return s->error == IL_ECANCELED ? IL_ECLOSED : s->error;
}

/* ---- the read buffer ----------------------------------------------------- */

/* Appends n bytes. Moves the unread bytes to the front only when that costs
 * no more than the bytes already consumed before them (so each byte is
 * moved O(1) times), otherwise grows the buffer geometrically. */
static int buf_append(il__stream_t *s, const void *data, size_t n) {
  if (s->cap - s->head - s->len < n) {
    if (s->len + n <= s->cap && s->head >= s->len) {
      memmove(s->buf, s->buf + s->head, s->len);
    } else {
      if (n > SIZE_MAX / 2 - s->len)
        return IL_ENOMEM;
      size_t cap = s->cap ? s->cap * 2 : 1024;
      while (cap < s->len + n)
        cap *= 2;
      char *nb = malloc(cap);
      if (!nb)
        return IL_ENOMEM;
      if (s->len)
        memcpy(nb, s->buf + s->head, s->len);
      free(s->buf);
      s->buf = nb;
      s->cap = cap;
    }
    s->head = 0;
  }
  memcpy(s->buf + s->head + s->len, data, n);
  s->len += n;
  return 0;
}

/* Drops the first n buffered bytes; lets the transport read again once the
 * buffer is down to the limit; gives the buffer back when it empties only
 * if it grew past what a paused reader can hold (2 × limit plus a read,
 * rounded up): freeing and regrowing it on every read made a bulk transfer
 * pay fresh page faults for each 64 KiB. */
static void buf_consume(il__stream_t *s, size_t n) {
  s->head += n;
  s->len -= n;
  s->consumed += n;
  if (s->len == 0) {
    s->head = 0;
    if (s->cap / 4 > s->limit && s->cap > 4 * IL__READ_BUF) {
      free(s->buf);
      s->buf = NULL;
      s->cap = 0;
    }
  }
  if (s->r_paused && s->len <= s->limit) {
    s->r_paused = 0;
    if (!s->lost)
      il_transport_resume_reading(s->t);
  }
}

/* ---- the protocol -------------------------------------------------------- */

static int handler_task(il_task_t *self, void *arg);

static void stream_made(il_transport_t *t, void *ud) {
  il__stream_t *s = ud;
  if (!s->t)
    s->t = il_transport_ref(t);
  if (s->handler) {
    int rc = il_task_spawn(s->loop, handler_task, s, NULL, &s->task);
    if (rc < 0) {
      s->task = NULL;
      s->held = 0; /* no handler will: the connection goes */
      il__report(s->loop, rc, IL_SOURCE_SERVER,
                 "cannot start a stream handler task", (const void *)s->handler,
                 s->handler_ud, t->fd);
      il_transport_abort(t);
    }
  } else if (s->released) {
    /* il_open_connection gave up (cancelled) after the transport existed. */
    il_transport_close(t);
  }
}

static void stream_data(il_transport_t *t, const void *data, size_t len,
                        void *ud) {
  il__stream_t *s = ud;
  if (buf_append(s, data, len) < 0) {
    s->error = IL_ENOMEM;
    il_transport_abort(t);
    return;
  }
  swaitq_wake_all(&s->readers);
  /* len > 2 × limit, without overflowing for a huge limit */
  if (!s->r_paused && s->len - s->len / 2 > s->limit &&
      il_transport_pause_reading(t) == 0)
    s->r_paused = 1;
}

static int stream_eof(il_transport_t *t, void *ud) {
  IL__UNUSED(t);
  il__stream_t *s = ud;
  s->eof = 1;
  swaitq_wake_all(&s->readers);
  return 1; /* half-open: the writer may still write */
}

static void stream_lost(il_transport_t *t, int error, void *ud) {
  IL__UNUSED(t);
  il__stream_t *s = ud;
  s->lost = 1;
  s->eof = 1;
  s->attached = 0;
  s->w_paused = 0;
  if (!s->error)
    s->error = error;
  swaitq_wake_all(&s->readers);
  swaitq_wake_all(&s->drainers);
  swaitq_wake_all(&s->closers);
  if (s->handler && !s->started) {
    /* The handler task never began (the loop closed first, or the
     * connection went before its first step): it never will, so the pair is
     * no longer held. */
    if (s->task)
      il_task_cancel(s->task, "connection lost before the handler started");
    s->held = 0;
  }
  stream_maybe_free(s);
}

static void stream_pause_writing(il_transport_t *t, void *ud) {
  IL__UNUSED(t);
  ((il__stream_t *)ud)->w_paused = 1;
}

static void stream_resume_writing(il_transport_t *t, void *ud) {
  IL__UNUSED(t);
  il__stream_t *s = ud;
  s->w_paused = 0;
  swaitq_wake_all(&s->drainers);
}

static const il_protocol_t stream_protocol = {
    .size = sizeof(il_protocol_t),
    .connection_made = stream_made,
    .data_received = stream_data,
    .eof_received = stream_eof,
    .connection_lost = stream_lost,
    .pause_writing = stream_pause_writing,
    .resume_writing = stream_resume_writing,
};

/* ---- waiting ------------------------------------------------------------- */

/* Inside a task: waits on q until `ready(s, arg)` holds (each `ready` also
 * holds once its condition can no longer change: at EOF, once lost). Returns
 * 0 with s valid, or IL_ECANCELED (the task was cancelled, also after a
 * wake-up: nothing is consumed), IL_ECLOSED (released; or freed under us:
 * then s is gone).
 * `resume`: a reader that waits needs more data, so reading paused above
 * 2 × limit restarts (asyncio does the same). */
static int stream_wait(il__stream_t *s, swaitq_t *q,
                       int (*ready)(il__stream_t *s, void *arg), void *arg,
                       int resume) {
  swaiter_t w = {{NULL, NULL, NULL, 0}, il__task_running(s->loop)};
  int rc = 0;
  for (;;) {
    if (s->released) {
      rc = IL_ECLOSED;
      break;
    }
    if (ready(s, arg))
      break;
    if (resume && s->r_paused && !s->lost) {
      s->r_paused = 0;
      il_transport_resume_reading(s->t);
    }
    if (!il__waiter_linked(q, &w.node))
      il__waitq_push(q, &w.node);
    rc = il__task_park(w.task);
    if (w.node.closed)
      return IL_ECLOSED; /* unlinked; s is freed */
    if (rc < 0) {
      rc = IL_ECANCELED; /* nothing consumed */
      break;
    }
  }
  if (il__waiter_linked(q, &w.node))
    il__waitq_remove(q, &w.node);
  return rc;
}

/* Checks a waiting call: a live loop, inside a task. */
static int task_check(il__stream_t *s) {
  return il__sync_task_check(s->loop);
}

static int has_bytes(il__stream_t *s, void *arg) {
  size_t need = *(const size_t *)arg;
  return s->len >= need || s->eof;
}

/* The outcome of a read that found the stream at its end with `len`
 * bytes buffered: the connection's error once nothing is left, else 0. */
static int end_error(const il__stream_t *s) {
  return s->len == 0 ? stream_lost_error(s) : 0;
}

/* ---- reading ------------------------------------------------------------- */

int il_stream_read(il_stream_reader_t *r, void *buf, size_t n, size_t *nread) {
  if (!r || !nread || (!buf && n))
    return IL_EINVAL;
  il__stream_t *s = from_reader(r);
  int rc = task_check(s);
  if (rc < 0)
    return rc;
  *nread = 0;
  if (n == 0)
    return 0;
  size_t one = 1;
  rc = stream_wait(s, &s->readers, has_bytes, &one, 1);
  if (rc < 0)
    return rc;
  if (s->len == 0)
    return stream_lost_error(s); /* 0 at EOF */
  size_t k = s->len < n ? s->len : n;
  memcpy(buf, s->buf + s->head, k);
  buf_consume(s, k);
  *nread = k;
  return 0;
}

int il_stream_readexactly(il_stream_reader_t *r, void *buf, size_t n,
                          size_t *nread) {
  if (!r || (!buf && n))
    return IL_EINVAL;
  il__stream_t *s = from_reader(r);
  int rc = task_check(s);
  if (rc < 0)
    return rc;
  if (nread)
    *nread = 0;
  if (n == 0)
    return 0;
  rc = stream_wait(s, &s->readers, has_bytes, &n, 1);
  if (rc < 0)
    return rc;
  size_t k = s->len < n ? s->len : n;
  if (k < n && (rc = end_error(s)) < 0)
    return rc;
  if (k)
    memcpy(buf, s->buf + s->head, k);
  buf_consume(s, k);
  if (nread)
    *nread = k;
  return k < n ? IL_EINCOMPLETE : 0;
}

/* readuntil's search. `from` is where the next search starts (earlier
 * bytes were searched already); `at` receives the chunk's length. */
typedef struct until {
  const char *sep;
  size_t seplen;
  size_t from;
  uint64_t consumed; /* s->consumed when `from` was computed */
  size_t at;         /* chunk length (through the separator) when found */
  int found, over;
} until_t;

static int until_ready(il__stream_t *s, void *arg) {
  until_t *u = arg;
  if (u->consumed != s->consumed) {
    u->from = 0; /* another reader took bytes: search again */
    u->consumed = s->consumed;
  }
  const char *p = s->buf + s->head;
  size_t i = u->from;
  while (s->len >= u->seplen && i <= s->len - u->seplen) {
    const char *hit = memchr(p + i, u->sep[0], s->len - u->seplen + 1 - i);
    if (!hit)
      break;
    i = (size_t)(hit - p);
    if (memcmp(hit, u->sep, u->seplen) == 0) {
      u->found = 1;
      u->at = i + u->seplen;
      u->over = u->at > s->limit;
      return 1;
    }
    i++;
  }
  u->from = s->len >= u->seplen ? s->len - u->seplen + 1 : 0;
  u->over = s->len >= s->limit; /* no separator within the first limit */
  return u->over || s->eof;
}

/* Hands out the first n buffered bytes as a NUL-terminated copy. */
static int take_copy(il__stream_t *s, size_t n, char **out, size_t *len) {
  char *c = malloc(n + 1);
  if (!c)
    return IL_ENOMEM;
  if (n)
    memcpy(c, s->buf + s->head, n);
  c[n] = '\0';
  buf_consume(s, n);
  *out = c;
  if (len)
    *len = n;
  return 0;
}

/* readuntil and readline; `partial_ok`: the rest at EOF is a result (0). */
static int read_until(il_stream_reader_t *r, const void *sep, size_t seplen,
                      char **out, size_t *len, int partial_ok) {
  if (out)
    *out = NULL;
  if (len)
    *len = 0;
  if (!r || !out || !sep || seplen == 0)
    return IL_EINVAL;
  il__stream_t *s = from_reader(r);
  int rc = task_check(s);
  if (rc < 0)
    return rc;
  until_t u = {sep, seplen, 0, s->consumed, 0, 0, 0};
  rc = stream_wait(s, &s->readers, until_ready, &u, 1);
  if (rc < 0)
    return rc;
  if (u.over)
    return IL_ELIMIT; /* nothing consumed */
  if (u.found)
    return take_copy(s, u.at, out, len);
  if ((rc = end_error(s)) < 0)
    return rc;
  rc = take_copy(s, s->len, out, len);
  if (rc < 0)
    return rc;
  return partial_ok ? 0 : IL_EINCOMPLETE;
}

int il_stream_readuntil(il_stream_reader_t *r, const void *sep, size_t seplen,
                        char **out, size_t *len) {
  return read_until(r, sep, seplen, out, len, 0);
}

int il_stream_readline(il_stream_reader_t *r, char **out, size_t *len) {
  return read_until(r, "\n", 1, out, len, 1);
}

int il_stream_at_eof(const il_stream_reader_t *r) {
  if (!r)
    return 0;
  const il__stream_t *s = from_reader(r);
  return s->eof && s->len == 0;
}

size_t il_stream_buffered(const il_stream_reader_t *r) {
  return r ? from_reader(r)->len : 0;
}

/* ---- writing ------------------------------------------------------------- */

/* The checks of the writer's calls that never wait. */
static int writer_check(const il_stream_writer_t *w) {
  if (!w)
    return IL_EINVAL;
  return il__sync_thread_check(from_writer(w)->loop);
}

/* A lost connection's error for a writer: IL_ECLOSED after a clean end. */
static int writer_lost_error(const il__stream_t *s) {
  int e = stream_lost_error(s);
  return e ? e : IL_ECLOSED;
}

int il_stream_writev(il_stream_writer_t *w, const struct iovec *iov,
                     int iovcnt) {
  int rc = writer_check(w);
  if (rc < 0)
    return rc;
  il__stream_t *s = from_writer(w);
  if (!s->t)
    return IL_ECLOSED;
  if (s->lost) {
    /* Argument errors first, as on a live transport. */
    rc = il_transport_writev(s->t, iov, iovcnt);
    return rc == IL_ECLOSED ? writer_lost_error(s) : rc;
  }
  return il_transport_writev(s->t, iov, iovcnt);
}

int il_stream_write(il_stream_writer_t *w, const void *data, size_t len) {
  if (!data && len)
    return IL_EINVAL;
  struct iovec iov = {(void *)(uintptr_t)data, len};
  return il_stream_writev(w, &iov, 1);
}

static int is_lost(il__stream_t *s, void *arg) {
  IL__UNUSED(arg);
  return s->lost;
}

static int not_paused(il__stream_t *s, void *arg) {
  IL__UNUSED(arg);
  return !s->w_paused || s->lost;
}

/* The writer's waiting calls: checks, then waits on `q` until `ready`.
 * *sp receives the object (valid when 0 is returned). */
static int writer_wait(il_stream_writer_t *w, int closers, il__stream_t **sp) {
  if (!w)
    return IL_EINVAL;
  il__stream_t *s = *sp = from_writer(w);
  int rc = task_check(s);
  if (rc < 0)
    return rc;
  return closers ? stream_wait(s, &s->closers, is_lost, NULL, 0)
                 : stream_wait(s, &s->drainers, not_paused, NULL, 0);
}

int il_stream_drain(il_stream_writer_t *w) {
  il__stream_t *s;
  int rc = writer_wait(w, 0, &s);
  if (rc < 0)
    return rc;
  return s->lost ? writer_lost_error(s) : 0;
}

int il_stream_write_eof(il_stream_writer_t *w) {
  int rc = writer_check(w);
  if (rc < 0)
    return rc;
  il__stream_t *s = from_writer(w);
  if (s->lost)
    return writer_lost_error(s);
  return il_transport_write_eof(s->t);
}

int il_stream_close(il_stream_writer_t *w) {
  int rc = writer_check(w);
  if (rc < 0)
    return rc;
  il__stream_t *s = from_writer(w);
  return s->lost ? 0 : il_transport_close(s->t);
}

int il_stream_wait_closed(il_stream_writer_t *w) {
  il__stream_t *s;
  int rc = writer_wait(w, 1, &s);
  if (rc < 0)
    return rc;
  return stream_lost_error(s);
}

il_transport_t *il_stream_transport(const il_stream_writer_t *w) {
  return w ? from_writer(w)->t : NULL;
}

/* The holder lets go: the connection is closed (flushed) and the object
 * goes once the transport is lost. */
static void stream_drop(il__stream_t *s) {
  s->held = 0;
  if (s->t && !s->lost)
    il_transport_close(s->t);
  stream_maybe_free(s);
}

void il_stream_release(il_stream_reader_t *r, il_stream_writer_t *w) {
  il__stream_t *a = r ? from_reader(r) : NULL;
  il__stream_t *b = w ? from_writer(w) : NULL;
  il__stream_t *objs[2] = {a, b != a ? b : NULL};
  for (int i = 0; i < 2; i++) {
    il__stream_t *s = objs[i];
    if (!s || il__sync_thread_check(s->loop) < 0)
      continue;
    if (s->handler) {
      /* A handler's pair is the core's to release: only close it. */
      if (s->t && !s->lost)
        il_transport_close(s->t);
      continue;
    }
    if (s->released)
      continue;
    s->released = 1;
    /* Tasks waiting on it come back with IL_ECLOSED. */
    swaitq_wake_all(&s->readers);
    swaitq_wake_all(&s->drainers);
    swaitq_wake_all(&s->closers);
    stream_drop(s);
  }
}

/* ---- opening connections ------------------------------------------------- */

#define OPTS_HAS(o, m)                                                         \
  ((o)->size >= offsetof(il_stream_options_t, m) + sizeof((o)->m))

/* The checks of il_open_* (in_task) and il_start_*: reads the options the
 * caller's size covers, then checks the loop (and the calling task). */
static int entry_checks(il_loop_t *loop, const il_stream_options_t *opts,
                        int in_task, size_t *limit,
                        const il_connect_options_t **conn,
                        const il_server_options_t **srv) {
  *limit = IL_STREAM_LIMIT_DEFAULT;
  *conn = NULL;
  *srv = NULL;
  if (opts) {
    if (opts->size < sizeof(size_t))
      return IL_EINVAL;
    if (OPTS_HAS(opts, limit) && opts->limit)
      *limit = opts->limit;
    if (OPTS_HAS(opts, connect))
      *conn = opts->connect;
    if (OPTS_HAS(opts, server))
      *srv = opts->server;
  }
  return in_task ? il__sync_task_check(loop) : il__loop_check(loop);
}

/* Whether a transport of the loop still has `s` as its protocol (the
 * connect attempt created it before failing or being cancelled): its
 * connection_lost will come, so the object must wait for it. */
static int stream_attached(il__stream_t *s) {
  for (il_transport_t *t = s->loop->transports; t; t = t->next)
    if (t->ud == s && t->proto.connection_lost == stream_lost &&
        t->state != IL__T_LOST)
      return 1;
  return 0;
}

static int open_common(il_loop_t *loop, const char *host, int port,
                       const char *path, const il_stream_options_t *opts,
                       il_stream_reader_t **reader,
                       il_stream_writer_t **writer) {
  if (reader)
    *reader = NULL;
  if (writer)
    *writer = NULL;
  if (!loop || !reader || !writer || (!host && !path))
    return IL_EINVAL;
  size_t limit;
  const il_connect_options_t *conn;
  const il_server_options_t *srv;
  int rc = entry_checks(loop, opts, 1, &limit, &conn, &srv);
  if (rc < 0)
    return rc;
  il__stream_t *s = stream_new(loop, limit);
  if (!s)
    return IL_ENOMEM;
  il_future_t *f = NULL;
  rc = path ? il_create_unix_connection(loop, path, conn, &stream_protocol, s,
                                        &f)
            : il_create_connection(loop, host, port, conn, &stream_protocol, s,
                                   &f);
  if (rc < 0) {
    free(s);
    return rc;
  }
  void *value = NULL;
  rc = il_await(f, &value);
  if (rc == 0 && !s->t) /* connection_made always comes first; be safe */
    s->t = il_transport_ref(value);
  /* An await refused at once (a pending cancellation, the loop closing)
   * left the attempt running: stop it, so no transport appears later. */
  if (rc < 0)
    il_future_cancel(f, NULL);
  il_future_unref(f);
  if (rc < 0) {
    s->released = 1;
    s->held = 0;
    s->attached = (uint8_t)stream_attached(s);
    if (s->attached && s->t && !s->lost)
      il_transport_close(s->t);
    stream_maybe_free(s);
    return rc;
  }
  s->attached = !s->lost;
  *reader = &s->r;
  *writer = &s->w;
  return 0;
}

int il_open_connection(il_loop_t *loop, const char *host, int port,
                       const il_stream_options_t *opts,
                       il_stream_reader_t **reader,
                       il_stream_writer_t **writer) {
  return open_common(loop, host, port, NULL, opts, reader, writer);
}

int il_open_unix_connection(il_loop_t *loop, const char *path,
                            const il_stream_options_t *opts,
                            il_stream_reader_t **reader,
                            il_stream_writer_t **writer) {
  return open_common(loop, NULL, 0, path, opts, reader, writer);
}

/* ---- pipes (process.h) --------------------------------------------------- */

void *il__stream_for_pipe(il_loop_t *loop, size_t limit,
                          const il_protocol_t **proto) {
  *proto = &stream_protocol;
  return stream_new(loop, limit ? limit : IL_STREAM_LIMIT_DEFAULT);
}

void il__stream_attach(void *obj, il_transport_t *t) {
  il__stream_t *s = obj;
  s->t = il_transport_ref(t);
  s->attached = 1;
}

il_stream_reader_t *il__stream_reader(void *obj) {
  return &((il__stream_t *)obj)->r;
}

il_stream_writer_t *il__stream_writer(void *obj) {
  return &((il__stream_t *)obj)->w;
}

/* ---- servers ------------------------------------------------------------- */

static int handler_task(il_task_t *self, void *arg) {
  IL__UNUSED(self);
  il__stream_t *s = arg;
  s->started = 1;
  int rc = s->handler(&s->r, &s->w, s->handler_ud);
  if (rc < 0 && rc != IL_ECANCELED)
    il__report(s->loop, rc, IL_SOURCE_SERVER, "stream handler failed",
               (const void *)s->handler, s->handler_ud, s->t ? s->t->fd : -1);
  stream_drop(s);
  return 0;
}

static int stream_factory(il_server_t *server, void *server_ud,
                          const il_protocol_t **proto, void **ud) {
  IL__UNUSED(server);
  stream_server_t *ss = server_ud;
  il__stream_t *s = stream_new(ss->loop, ss->limit);
  if (!s)
    return IL_ENOMEM;
  s->handler = ss->handler;
  s->handler_ud = ss->ud;
  s->attached = 1;
  *proto = &stream_protocol;
  *ud = s;
  return 0;
}

/* The server's shared part must live as long as the factory may be called:
 * until the server is closed. A wait_closed future is released by the
 * server exactly then (closed with no connection left, or freed), also when
 * the loop closes, where queued callbacks would be dropped; so it is given
 * the shared part as its result, whose destructor frees it. The server
 * finishes only futures still pending, and nobody else sees this one. */
static int start_common(il_loop_t *loop, const char *host, int port,
                        const char *path, const il_stream_options_t *opts,
                        il_stream_handler_fn handler, void *ud,
                        il_server_t **out) {
  if (out)
    *out = NULL;
  if (!loop || !handler || !out)
    return IL_EINVAL;
  size_t limit;
  const il_connect_options_t *conn;
  const il_server_options_t *srv;
  int rc = entry_checks(loop, opts, 0, &limit, &conn, &srv);
  if (rc < 0)
    return rc;
  stream_server_t *ss = malloc(sizeof(*ss));
  if (!ss)
    return IL_ENOMEM;
  *ss = (stream_server_t){loop, handler, ud, limit};
  il_server_t *server = NULL;
  rc = path
           ? il_create_unix_server(loop, path, srv, stream_factory, ss, &server)
           : il_create_server(loop, host, port, srv, stream_factory, ss,
                              &server);
  if (rc < 0) {
    free(ss);
    return rc;
  }
  il_future_t *keeper = NULL;
  rc = il_server_wait_closed(server, &keeper);
  if (rc == 0 && (rc = il_future_set_result(keeper, ss, free)) < 0)
    il_future_unref(keeper);
  if (rc < 0) {
    il_server_free(server);
    free(ss);
    return rc;
  }
  il_future_unref(keeper);
  *out = server;
  return 0;
}

int il_start_server(il_loop_t *loop, const char *host, int port,
                    const il_stream_options_t *opts,
                    il_stream_handler_fn handler, void *ud, il_server_t **out) {
  return start_common(loop, host, port, NULL, opts, handler, ud, out);
}

int il_start_unix_server(il_loop_t *loop, const char *path,
                         const il_stream_options_t *opts,
                         il_stream_handler_fn handler, void *ud,
                         il_server_t **out) {
  if (!path) {
    if (out)
      *out = NULL;
    return IL_EINVAL;
  }
  return start_common(loop, NULL, 0, path, opts, handler, ud, out);
}
