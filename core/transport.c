/* core/transport.c — the part of every transport that does not depend on
 * its kind: the public entry points, references, the loop's list, write
 * flow control, and connection_made / connection_lost delivery.
 *
 * Life: the core holds one reference from il__transport_init until
 * connection_lost has returned. connection_made is scheduled at creation and
 * connection_lost (after close/abort/an error) is scheduled later, so the
 * FIFO ready queue runs made first and neither callback needs a reference of
 * its own: the lost callback is the one that drops the core's. At loop close
 * the lost callback is called directly and the queued ones are dropped. */
#include "transport_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int il__protocol_copy(il_protocol_t *dst, const il_protocol_t *src) {
  if (!src || src->size < sizeof(size_t))
    return IL_EINVAL;
  size_t n = src->size < sizeof(*dst) ? src->size : sizeof(*dst);
  memset(dst, 0, sizeof(*dst));
  memcpy(dst, src, n);
  dst->size = sizeof(*dst);
  return 0;
}

void il__transport_init(il_transport_t *t, il_loop_t *loop,
                        const il__transport_vt_t *vt, int fd,
                        const il_protocol_t *proto, void *ud) {
  t->vt = vt;
  t->loop = loop;
  il__protocol_copy(&t->proto, proto);
  t->ud = ud;
  t->data = NULL;
  t->data_dtor = NULL;
  t->on_lost = NULL;
  t->owner = NULL;
  t->high = IL_WRITE_HIGH_DEFAULT;
  t->low = IL_WRITE_HIGH_DEFAULT / 4;
  t->wbuf_size = 0;
  t->fd = fd;
  t->refs = 1;
  t->state = IL__T_OPEN;
  t->reading = 1;
  t->w_paused = 0;
  t->eof_sent = 0;
  t->in_lost = 0;
  t->prev = NULL;
  t->next = loop->transports;
  if (loop->transports)
    loop->transports->prev = t;
  loop->transports = t;
  loop->stats.transports++;
  loop->refs++;
}

void il__transport_flow(il_transport_t *t) {
  if (t->state == IL__T_LOST)
    return;
  if (!t->w_paused && t->wbuf_size > t->high) {
    t->w_paused = 1;
    if (t->proto.pause_writing)
      t->proto.pause_writing(t, t->ud);
  } else if (t->w_paused && t->wbuf_size <= t->low) {
    t->w_paused = 0;
    if (t->proto.resume_writing)
      t->proto.resume_writing(t, t->ud);
  }
}

static int made_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il_transport_t *t = arg;
  if (t->state != IL__T_LOST && t->proto.connection_made)
    t->proto.connection_made(t, t->ud);
  return 0;
}

int il__transport_schedule_made(il_transport_t *t) {
  return il__schedule(t->loop, made_cb, t, IL__H_SOON, NULL);
}

void il__transport_lost(il_transport_t *t, int error) {
  t->state = IL__T_LOST;
  t->in_lost = 1;
  if (t->on_lost)
    t->on_lost(t, error, t->owner);
  if (t->proto.connection_lost)
    t->proto.connection_lost(t, error, t->ud);
  t->in_lost = 0;
  il__transport_unref(t);
}

static int lost_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il_transport_t *t = arg;
  /* The low bits of the error travel in the transport: see
   * il__transport_schedule_lost. */
  il__transport_lost(t, t->lost_error);
  return 0;
}

void il__transport_schedule_lost(il_transport_t *t, int error) {
  t->lost_error = error;
  if (atomic_load_explicit(&t->loop->closed, memory_order_relaxed) ||
      il__schedule(t->loop, lost_cb, t, IL__H_SOON, NULL) < 0)
    il__transport_lost(t, error);
}

void il__transport_unref(il_transport_t *t) {
  if (--t->refs > 0)
    return;
  il_loop_t *loop = t->loop;
  if (t->prev)
    t->prev->next = t->next;
  else
    loop->transports = t->next;
  if (t->next)
    t->next->prev = t->prev;
  loop->stats.transports--;
  if (t->data_dtor)
    t->data_dtor(t->data);
  t->vt->free(t);
  il__loop_unref(loop);
}

char *il__loop_read_buf(il_loop_t *loop) {
  if (IL__UNLIKELY(!loop->read_buf))
    loop->read_buf = malloc(IL__READ_BUF);
  return loop->read_buf;
}

void il__transports_close(il_loop_t *loop) {
  /* loop_closing runs application code (connection_lost), which may free
   * other transports or create new ones (at the head of the list): hold
   * each one while it runs, and walk again until a walk finds none open. */
  for (int again = 1; again;) {
    again = 0;
    il_transport_t *t = loop->transports;
    while (t) {
      if (t->state == IL__T_LOST) {
        t = t->next;
        continue;
      }
      again = 1;
      t->refs++;
      t->vt->loop_closing(t);
      il_transport_t *next = t->next;
      il__transport_unref(t);
      t = next;
    }
  }
  free(loop->read_buf);
  loop->read_buf = NULL;
}

/* ---- public entry points -------------------------------------------------
 */

/* The state checks of every write, then the kind's write. */
static inline int write_checked(il_transport_t *t, const struct iovec *iov,
                                int iovcnt, size_t total) {
  if (t->state != IL__T_OPEN)
    return IL_ECLOSED;
  if (!t->vt->write)
    return IL_ENOTSUP;
  if (t->eof_sent)
    return IL_ESHUTDOWN;
  if (total == 0)
    return 0;
  return t->vt->write(t, iov, iovcnt, total);
}

int il_transport_writev(il_transport_t *t, const struct iovec *iov,
                        int iovcnt) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (iovcnt < 0 || (iovcnt > 0 && !iov))
    return IL_EINVAL;
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++) {
    if (!iov[i].iov_base && iov[i].iov_len)
      return IL_EINVAL;
    if (iov[i].iov_len > SIZE_MAX - total)
      return IL_EINVAL;
    total += iov[i].iov_len;
  }
  return write_checked(t, iov, iovcnt, total);
}

int il_transport_write(il_transport_t *t, const void *data, size_t len) {
  /* The echo path: one buffer, checks in the order of il_transport_writev. */
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (!data && len)
    return IL_EINVAL;
  struct iovec iov = {(void *)(uintptr_t)data, len};
  return write_checked(t, &iov, 1, len);
}

int il_transport_write_eof(il_transport_t *t) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  /* A second call is a no-op, also on a write pipe, whose write_eof
   * starts closing it. */
  if (t->eof_sent && t->vt->eof_closes && t->state != IL__T_LOST)
    return 0;
  if (t->state != IL__T_OPEN)
    return IL_ECLOSED;
  if (!t->vt->write_eof)
    return IL_ENOTSUP;
  if (t->eof_sent)
    return 0;
  t->eof_sent = 1;
  return t->vt->write_eof(t);
}

int il_transport_can_write_eof(const il_transport_t *t) {
  return t && t->vt->write_eof ? 1 : 0;
}

int il_transport_close(il_transport_t *t) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (t->state == IL__T_LOST)
    return t->in_lost ? 0 : IL_ECLOSED;
  if (t->state == IL__T_CLOSING)
    return 0;
  t->state = IL__T_CLOSING;
  t->vt->close(t);
  return 0;
}

int il_transport_abort(il_transport_t *t) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (t->state == IL__T_LOST)
    return t->in_lost ? 0 : IL_ECLOSED;
  t->state = IL__T_CLOSING;
  t->vt->abort(t);
  return 0;
}

int il_transport_is_closing(const il_transport_t *t) {
  return !t || t->state != IL__T_OPEN;
}

static int set_reading(il_transport_t *t, int on) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (!t->vt->set_reading)
    return IL_ENOTSUP; /* a write-only pipe */
  if (t->state == IL__T_LOST)
    return IL_ECLOSED;
  if (t->state == IL__T_CLOSING || t->reading == on)
    return 0;
  t->reading = (uint8_t)on;
  t->vt->set_reading(t, on);
  return 0;
}

int il_transport_pause_reading(il_transport_t *t) {
  return set_reading(t, 0);
}

int il_transport_resume_reading(il_transport_t *t) {
  return set_reading(t, 1);
}

int il_transport_is_reading(const il_transport_t *t) {
  return t && t->state == IL__T_OPEN && t->reading && t->vt->set_reading;
}

int il_transport_set_write_buffer_limits(il_transport_t *t, size_t high,
                                         size_t low) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (high == IL_LIMIT_DEFAULT)
    high = low == IL_LIMIT_DEFAULT ? IL_WRITE_HIGH_DEFAULT
           : low > SIZE_MAX / 4    ? SIZE_MAX - 1
                                   : 4 * low;
  if (low == IL_LIMIT_DEFAULT)
    low = high / 4;
  if (low > high)
    return IL_EINVAL;
  if (t->state == IL__T_LOST)
    return IL_ECLOSED;
  t->high = high;
  t->low = low;
  il__transport_flow(t);
  return 0;
}

int il_transport_get_write_buffer_limits(const il_transport_t *t, size_t *high,
                                         size_t *low) {
  if (!t)
    return IL_EINVAL;
  if (high)
    *high = t->high;
  if (low)
    *low = t->low;
  return 0;
}

size_t il_transport_get_write_buffer_size(const il_transport_t *t) {
  return t ? t->wbuf_size : 0;
}

int il_transport_get_extra_info(const il_transport_t *t, il_extra_info_t what,
                                void *buf, size_t *len) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (!buf || !len)
    return IL_EINVAL;
  if (what != IL_INFO_PEERNAME && what != IL_INFO_SOCKNAME &&
      what != IL_INFO_FD)
    return IL_EINVAL;
  if (t->state == IL__T_LOST || t->fd < 0)
    return IL_ECLOSED;
  if (what == IL_INFO_FD) {
    if (*len < sizeof(int)) {
      *len = sizeof(int);
      return IL_ERANGE;
    }
    memcpy(buf, &t->fd, sizeof(int));
    *len = sizeof(int);
    return 0;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  int r = what == IL_INFO_PEERNAME
              ? getpeername(t->fd, (struct sockaddr *)&ss, &sl)
              : getsockname(t->fd, (struct sockaddr *)&ss, &sl);
  if (r < 0)
    return il_translate_sys_error(errno);
  if (*len < sl) {
    *len = sl;
    return IL_ERANGE;
  }
  memcpy(buf, &ss, sl);
  *len = sl;
  return 0;
}

int il_transport_set_protocol(il_transport_t *t, const il_protocol_t *proto,
                              void *ud) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  il_protocol_t copy;
  if (il__protocol_copy(&copy, proto) < 0)
    return IL_EINVAL;
  if (t->state == IL__T_LOST)
    return IL_ECLOSED;
  t->proto = copy;
  t->ud = ud;
  return 0;
}

int il_transport_set_data(il_transport_t *t, void *data,
                          il_destructor_fn dtor) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  void *old = t->data;
  il_destructor_fn old_dtor = t->data_dtor;
  t->data = data;
  t->data_dtor = dtor;
  if (old_dtor && old != data)
    old_dtor(old);
  return 0;
}

void *il_transport_get_data(const il_transport_t *t) {
  return t ? t->data : NULL;
}

il_loop_t *il_transport_loop(const il_transport_t *t) {
  return t ? t->loop : NULL;
}

il_transport_t *il_transport_ref(il_transport_t *t) {
  if (t)
    t->refs++;
  return t;
}

void il_transport_unref(il_transport_t *t) {
  if (t)
    il__transport_unref(t);
}

int il_transport_sendto(il_transport_t *t, const void *data, size_t len,
                        const struct sockaddr *addr, socklen_t addrlen) {
  int rc = il__transport_check(t);
  if (rc < 0)
    return rc;
  if (!data && len)
    return IL_EINVAL;
  if (!t->vt->sendto)
    return IL_ENOTSUP;
  if (t->state != IL__T_OPEN)
    return IL_ECLOSED;
  return t->vt->sendto(t, data, len, addr, addrlen);
}

/* ---- helpers shared by the kinds ---------------------------------------- */

int il__fd_prepare(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
    return il_translate_sys_error(errno);
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 ||
      (!(fdfl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0))
    return il_translate_sys_error(errno);
  return 0;
}
