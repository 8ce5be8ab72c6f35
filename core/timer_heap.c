/* core/timer_heap.c — the core's timer heap.
 *
 * A 4-ary min-heap of (deadline, sequence, handle), keyed by deadline and
 * then by sequence so equal deadlines fire in scheduling order. Keys live in
 * the array itself, not behind the handle pointer: sifting touches one
 * contiguous array, which is what makes a million timers cheap. Cancelled
 * timers stay in the heap (lazy deletion); the loop compacts the heap when
 * they become the majority. */
#include "internal.h"

#include <stdlib.h>

#define ARITY 4

static inline bool less(const il__timer_entry_t *a,
                        const il__timer_entry_t *b) {
  return a->when_ns < b->when_ns ||
         (a->when_ns == b->when_ns && a->seq < b->seq);
}

static void sift_up(il__timer_entry_t *v, size_t i) {
  il__timer_entry_t e = v[i];
  while (i > 0) {
    size_t parent = (i - 1) / ARITY;
    if (!less(&e, &v[parent]))
      break;
    v[i] = v[parent];
    i = parent;
  }
  v[i] = e;
}

static void sift_down(il__timer_entry_t *v, size_t n, size_t i) {
  il__timer_entry_t e = v[i];
  for (;;) {
    size_t first = i * ARITY + 1;
    if (first >= n)
      break;
    size_t last = first + ARITY < n ? first + ARITY : n;
    size_t best = first;
    for (size_t c = first + 1; c < last; c++)
      if (less(&v[c], &v[best]))
        best = c;
    if (!less(&v[best], &e))
      break;
    v[i] = v[best];
    i = best;
  }
  v[i] = e;
}

int il__heap_push(il__timer_heap_t *heap, uint64_t when_ns, uint64_t seq,
                  il_handle_t *h) {
  if (heap->n == heap->cap) {
    size_t cap = heap->cap ? heap->cap * 2 : 64;
    il__timer_entry_t *v = realloc(heap->v, cap * sizeof(*v));
    if (!v)
      return IL_ENOMEM;
    heap->v = v;
    heap->cap = cap;
  }
  heap->v[heap->n].when_ns = when_ns;
  heap->v[heap->n].seq = seq;
  heap->v[heap->n].h = h;
  sift_up(heap->v, heap->n++);
  return 0;
}

void il__heap_pop(il__timer_heap_t *heap) {
  if (heap->n == 0)
    return;
  heap->v[0] = heap->v[--heap->n];
  if (heap->n > 1)
    sift_down(heap->v, heap->n, 0);
}

void il__heap_heapify(il__timer_heap_t *heap) {
  if (heap->n < 2)
    return;
  for (size_t i = (heap->n - 2) / ARITY + 1; i-- > 0;)
    sift_down(heap->v, heap->n, i);
}

void il__heap_free(il__timer_heap_t *heap) {
  free(heap->v);
  heap->v = NULL;
  heap->n = heap->cap = 0;
}
