/* core/sync_queue.c — asyncio.Queue, LifoQueue and PriorityQueue for tasks
 * (SPEC §9.6).
 *
 * Items are not handed over as the lock hands itself over: a put wakes the
 * first getter, which takes an item when it runs. If the item is gone by
 * then (a get_nowait from a callback took it), the getter waits again in
 * the place it had. So a cancelled getter never holds an item; it only
 * passes its wake-up on. Putters mirror getters. */
#include "sync_internal.h"

#include <stdlib.h>
#include <string.h>

enum { Q_FIFO, Q_LIFO, Q_PRIORITY };

typedef struct prio_entry {
  void *item;
  uint64_t seq; /* put order: FIFO among equal items */
} prio_entry_t;

struct il_queue {
  il_loop_t *loop;
  il__waitq_t getters, putters, joiners;
  size_t maxsize; /* 0: no limit */
  size_t n;       /* items inside */
  size_t cap;     /* slots in buf */
  size_t head;    /* FIFO: index of the oldest item (a ring) */
  void *buf;      /* void *[cap], or prio_entry_t[cap] (a binary heap) */
  uint64_t seq;
  uint64_t unfinished; /* put and not yet task_done */
  il_compare_fn cmp;
  void *cmp_ud;
  int kind;
};

static int queue_new(il_loop_t *loop, size_t maxsize, int kind,
                     il_compare_fn cmp, void *ud, il_queue_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (kind == Q_PRIORITY && !cmp)
    return IL_EINVAL;
  il_queue_t *q = calloc(1, sizeof(*q));
  if (!q)
    return IL_ENOMEM;
  q->loop = loop;
  q->maxsize = maxsize;
  q->kind = kind;
  q->cmp = cmp;
  q->cmp_ud = ud;
  il__sync_loop_ref(loop);
  *out = q;
  return 0;
}

int il_queue_new(il_loop_t *loop, size_t maxsize, il_queue_t **out) {
  return queue_new(loop, maxsize, Q_FIFO, NULL, NULL, out);
}

int il_queue_new_lifo(il_loop_t *loop, size_t maxsize, il_queue_t **out) {
  return queue_new(loop, maxsize, Q_LIFO, NULL, NULL, out);
}

int il_queue_new_priority(il_loop_t *loop, size_t maxsize, il_compare_fn cmp,
                          void *ud, il_queue_t **out) {
  return queue_new(loop, maxsize, Q_PRIORITY, cmp, ud, out);
}

/* ---- storage ------------------------------------------------------------- */

static int is_full(const il_queue_t *q) {
  return q->maxsize > 0 && q->n >= q->maxsize;
}

/* Makes room for one more item: doubles the buffer (never beyond maxsize),
 * unrolling the FIFO ring into the new one. */
static int grow(il_queue_t *q) {
  if (q->n < q->cap)
    return 0;
  size_t esize = q->kind == Q_PRIORITY ? sizeof(prio_entry_t) : sizeof(void *);
  size_t cap = q->cap ? q->cap * 2 : 8;
  if (cap < q->cap)
    return IL_ENOMEM;
  if (q->maxsize > 0 && cap > q->maxsize)
    cap = q->maxsize;
  if (cap > SIZE_MAX / esize)
    return IL_ENOMEM;
  void *buf = malloc(cap * esize);
  if (!buf)
    return IL_ENOMEM;
  if (q->kind == Q_FIFO) {
    void **from = q->buf, **to = buf;
    for (size_t i = 0; i < q->n; i++)
      to[i] = from[(q->head + i) % q->cap];
    q->head = 0;
  } else if (q->n) {
    memcpy(buf, q->buf, q->n * esize);
  }
  free(q->buf);
  q->buf = buf;
  q->cap = cap;
  return 0;
}

/* a comes out before b */
static int prio_before(const il_queue_t *q, const prio_entry_t *a,
                       const prio_entry_t *b) {
  int c = q->cmp(a->item, b->item, q->cmp_ud);
  return c < 0 || (c == 0 && a->seq < b->seq);
}

static int store(il_queue_t *q, void *item) {
  int rc = grow(q);
  if (rc < 0)
    return rc;
  if (q->kind == Q_FIFO) {
    ((void **)q->buf)[(q->head + q->n) % q->cap] = item;
  } else if (q->kind == Q_LIFO) {
    ((void **)q->buf)[q->n] = item;
  } else {
    prio_entry_t *h = q->buf, e = {item, q->seq++};
    size_t i = q->n;
    while (i > 0 && prio_before(q, &e, &h[(i - 1) / 2])) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = e;
  }
  q->n++;
  return 0;
}

static void *take(il_queue_t *q) {
  void *item;
  q->n--;
  if (q->kind == Q_FIFO) {
    item = ((void **)q->buf)[q->head];
    q->head = (q->head + 1) % q->cap;
  } else if (q->kind == Q_LIFO) {
    item = ((void **)q->buf)[q->n];
  } else {
    prio_entry_t *h = q->buf, last = h[q->n];
    item = h[0].item;
    size_t i = 0;
    for (;;) {
      size_t c = 2 * i + 1;
      if (c >= q->n)
        break;
      if (c + 1 < q->n && prio_before(q, &h[c + 1], &h[c]))
        c++;
      if (!prio_before(q, &h[c], &last))
        break;
      h[i] = h[c];
      i = c;
    }
    if (q->n > 0)
      h[i] = last;
  }
  return item;
}

int il_queue_free(il_queue_t *q, il_destructor_fn item_dtor) {
  if (!q)
    return 0;
  int rc = il__sync_thread_check(q->loop);
  if (rc < 0)
    return rc;
  il_loop_t *loop = q->loop;
  il__waitq_close(&q->getters);
  il__waitq_close(&q->putters);
  il__waitq_close(&q->joiners);
  while (item_dtor && q->n > 0)
    item_dtor(take(q));
  free(q->buf);
  free(q);
  il__loop_unref(loop);
  return 0;
}

/* ---- without waiting ----------------------------------------------------- */

static int put_now(il_queue_t *q, void *item) {
  int rc = store(q, item);
  if (rc < 0)
    return rc;
  q->unfinished++;
  il__waitq_wake_first(&q->getters);
  return 0;
}

static void *get_now(il_queue_t *q) {
  void *item = take(q);
  il__waitq_wake_first(&q->putters);
  return item;
}

int il_queue_put_nowait(il_queue_t *q, void *item) {
  if (!q)
    return IL_EINVAL;
  int rc = il__loop_check(q->loop);
  if (rc < 0)
    return rc;
  if (is_full(q))
    return IL_EAGAIN;
  return put_now(q, item);
}

int il_queue_get_nowait(il_queue_t *q, void **item) {
  if (item)
    *item = NULL;
  if (!q || !item)
    return IL_EINVAL;
  int rc = il__loop_check(q->loop);
  if (rc < 0)
    return rc;
  if (q->n == 0)
    return IL_EAGAIN;
  *item = get_now(q);
  return 0;
}

/* ---- waiting ------------------------------------------------------------- */

/* Waits in `wq` until `ready(q)`. Returns 0 with the waiter out of the
 * list, or the error to return. A waiter woken for nothing (the item or the
 * slot was taken before it ran) waits again in its place; one cancelled
 * after being woken passes the wake-up on if what it was woken for is
 * still there. */
static int wait_until(il_queue_t *q, il__waitq_t *wq,
                      int (*ready)(const il_queue_t *)) {
  il__waiter_t w = {0};
  while (!ready(q)) {
    int out = il__waitq_wait(q->loop, wq, &w);
    if (out < 0)
      return out;
    if (out == IL__W_WOKEN)
      continue;
    il__waitq_remove(wq, &w);
    if (out == IL__W_WOKEN_CANCELLED && ready(q))
      il__waitq_wake_first(wq);
    return IL_ECANCELED;
  }
  if (il__waiter_linked(wq, &w))
    il__waitq_remove(wq, &w);
  return 0;
}

static int has_item(const il_queue_t *q) {
  return q->n > 0;
}

static int has_room(const il_queue_t *q) {
  return !is_full(q);
}

static int all_done(const il_queue_t *q) {
  return q->unfinished == 0;
}

int il_queue_put(il_queue_t *q, void *item) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_task_check(q->loop);
  if (rc < 0)
    return rc;
  rc = wait_until(q, &q->putters, has_room);
  if (rc < 0)
    return rc;
  rc = put_now(q, item);
  if (rc < 0) /* out of memory: the free slot may serve another putter */
    il__waitq_wake_first(&q->putters);
  return rc;
}

int il_queue_get(il_queue_t *q, void **item) {
  if (item)
    *item = NULL;
  if (!q || !item)
    return IL_EINVAL;
  int rc = il__sync_task_check(q->loop);
  if (rc < 0)
    return rc;
  rc = wait_until(q, &q->getters, has_item);
  if (rc < 0)
    return rc;
  *item = get_now(q);
  return 0;
}

int il_queue_join(il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_task_check(q->loop);
  if (rc < 0)
    return rc;
  if (all_done(q))
    return 0;
  /* Like asyncio's Event underneath: woken once all was done, the join is
   * over even if new items arrived before this task ran. */
  il__waiter_t w = {0};
  int out = il__waitq_wait(q->loop, &q->joiners, &w);
  if (out < 0)
    return out;
  il__waitq_remove(&q->joiners, &w);
  return out == IL__W_WOKEN ? 0 : IL_ECANCELED;
}

int il_queue_task_done(il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__loop_check(q->loop);
  if (rc < 0)
    return rc;
  if (q->unfinished == 0)
    return IL_EINVALSTATE;
  if (--q->unfinished == 0)
    il__waitq_wake_all(&q->joiners);
  return 0;
}

/* ---- state --------------------------------------------------------------- */

int64_t il_queue_size(const il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_thread_check(q->loop);
  return rc < 0 ? rc : (int64_t)q->n;
}

int64_t il_queue_maxsize(const il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_thread_check(q->loop);
  return rc < 0 ? rc : (int64_t)q->maxsize;
}

int il_queue_empty(const il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_thread_check(q->loop);
  return rc < 0 ? rc : q->n == 0;
}

int il_queue_full(const il_queue_t *q) {
  if (!q)
    return IL_EINVAL;
  int rc = il__sync_thread_check(q->loop);
  return rc < 0 ? rc : is_full(q);
}
