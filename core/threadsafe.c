/* core/threadsafe.c — il_loop_call_soon_threadsafe and its queue.
 *
 * Other threads append to a mutex-protected array; the loop thread swaps it
 * with a spare array and moves the items into the ready queue, so neither
 * side allocates once both arrays have grown to the working size. The
 * backend wakeup is sent only when the queue goes from empty to non-empty,
 * and under the lock, so that close (which marks the queue closed under the
 * same lock before releasing the backend) can never race with a wakeup. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int il__ts_init(il__ts_queue_t *q) {
  memset(q, 0, sizeof(*q));
  if (pthread_mutex_init(&q->mu, NULL) != 0)
    return IL_ENOMEM;
  atomic_init(&q->pending, 0);
  return 0;
}

/* After fork() the child may have inherited the mutex locked by a thread
 * that does not exist there; only the calling thread survives. */
int il__ts_init_after_fork(il__ts_queue_t *q) {
  if (pthread_mutex_init(&q->mu, NULL) != 0)
    return IL_ENOMEM;
  return 0;
}

void il__ts_destroy(il__ts_queue_t *q) {
  pthread_mutex_destroy(&q->mu);
  free(q->items);
  free(q->spare);
  q->items = q->spare = NULL;
}

int il_loop_call_soon_threadsafe(il_loop_t *loop, il_callback_fn cb,
                                 void *arg) {
  if (!loop || !cb)
    return IL_EINVAL;
  il__ts_queue_t *q = &loop->ts;
  pthread_mutex_lock(&q->mu);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    return IL_ECLOSED;
  }
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 64;
    il__ts_item_t *items = realloc(q->items, cap * sizeof(*items));
    if (!items) {
      pthread_mutex_unlock(&q->mu);
      return IL_ENOMEM;
    }
    q->items = items;
    q->cap = cap;
  }
  q->items[q->n].cb = cb;
  q->items[q->n].arg = arg;
  if (q->n++ == 0) {
    atomic_store_explicit(&q->pending, 1, memory_order_relaxed);
    /* A backend's wakeup may skip the send when it reads its own flag as
     * still set (libuv's uv_async_send does, with a plain load). That read
     * must not pass the store above: otherwise the loop can clear its flag,
     * read `pending` as 0 and sleep while this send was skipped (a lost
     * wakeup, seen on uv under load). host_wakeup has the matching fence. */
    atomic_thread_fence(memory_order_seq_cst);
    loop->ops->wakeup(loop->bstate);
  }
  pthread_mutex_unlock(&q->mu);
  return 0;
}

void il__ts_drain(il_loop_t *loop) {
  il__ts_queue_t *q = &loop->ts;
  pthread_mutex_lock(&q->mu);
  il__ts_item_t *items = q->items;
  size_t n = q->n, cap = q->cap;
  q->items = q->spare;
  q->cap = q->spare_cap;
  q->n = 0;
  q->spare = items;
  q->spare_cap = cap;
  atomic_store_explicit(&q->pending, 0, memory_order_relaxed);
  pthread_mutex_unlock(&q->mu);

  for (size_t i = 0; i < n; i++) {
    il_handle_t *h = il__handle_get(loop);
    if (IL__UNLIKELY(!h)) {
      /* Out of memory: put the rest back in front, in order, and retry on
       * the next dispatch rather than lose a callback. */
      size_t rest = n - i;
      pthread_mutex_lock(&q->mu);
      il__ts_item_t *merged = malloc((rest + q->n) * sizeof(*merged));
      if (merged) {
        memcpy(merged, items + i, rest * sizeof(*merged));
        if (q->n)
          memcpy(merged + rest, q->items, q->n * sizeof(*merged));
        free(q->items);
        q->items = merged;
        q->n += rest;
        q->cap = q->n;
        atomic_store_explicit(&q->pending, 1, memory_order_relaxed);
      }
      pthread_mutex_unlock(&q->mu);
      il__report(loop, IL_ENOMEM, IL_SOURCE_THREADSAFE,
                 merged ? "out of memory: thread-safe callbacks deferred"
                        : "out of memory: thread-safe callbacks lost",
                 NULL, NULL, -1);
      return;
    }
    h->kind = IL__H_THREADSAFE;
    h->cb = items[i].cb;
    h->arg = items[i].arg;
    il__ready_push(loop, h);
    loop->stats.ready++;
  }
}

void il__ts_close(il_loop_t *loop) {
  il__ts_queue_t *q = &loop->ts;
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  q->n = 0;
  atomic_store_explicit(&q->pending, 0, memory_order_relaxed);
  pthread_mutex_unlock(&q->mu);
}
