/* core/handle.c — scheduled-callback handles and their free list.
 *
 * A handle has up to two owners: the loop, while the handle is queued or in
 * the timer heap, and the caller, when it asked for the handle through `out`.
 * It goes back to the free list when both have let go. Caller-held handles
 * are also on the loop's `held` list so that close can turn them into
 * orphans (loop == NULL) that il_handle_release() frees directly.
 *
 * Handles live in 64 KiB slabs: a loop carves handles from its newest slab
 * as it needs them and recycles them through its free list; the slabs go
 * back to malloc when the loop closes. If the caller still holds handles
 * then, the slabs pass to a "graveyard" that the orphans point to (through
 * held_prev, unused once orphaned) and that is freed with the last orphan.
 * One malloc per thousand handles instead of one per handle is what keeps a
 * million-timer burst cheap. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define IL__SLAB_BYTES 65536u

typedef struct il__slab {
  struct il__slab *next;
  char pad[8]; /* objects start 16-byte aligned */
} il__slab_t;

typedef struct il__graveyard {
  il__slab_t *slabs;
  size_t orphans;
} il__graveyard_t;

static void slab_list_free(il__slab_t *slab) {
  while (slab) {
    il__slab_t *next = slab->next;
    free(slab);
    slab = next;
  }
}

void il__slabs_free(il__slabs_t *s) {
  slab_list_free(s->list);
  s->list = NULL;
  s->next = s->end = NULL;
}

void *il__slab_carve(il__slabs_t *s, size_t size) {
  if (s->next == NULL || s->next + size > s->end) {
    il__slab_t *slab = malloc(IL__SLAB_BYTES);
    if (!slab)
      return NULL;
    slab->next = s->list;
    s->list = slab;
    s->next = (char *)(slab + 1);
    s->end = (char *)slab + IL__SLAB_BYTES;
  }
  void *obj = s->next;
  s->next += size;
  return obj;
}

il_handle_t *il__handle_alloc(il_loop_t *loop) {
  return il__slab_carve(&loop->hslabs, sizeof(il_handle_t));
}

void il__handle_put(il_loop_t *loop, il_handle_t *h) {
  if (loop) {
    h->next = loop->free_list;
    loop->free_list = h;
    loop->nfree++;
    return;
  }
  il__graveyard_t *g = (il__graveyard_t *)(void *)h->held_prev; /* orphan */
  if (g && --g->orphans == 0) {
    slab_list_free(g->slabs);
    free(g);
  }
}

static void held_unlink(il_loop_t *loop, il_handle_t *h) {
  if (h->held_prev)
    h->held_prev->held_next = h->held_next;
  else
    loop->held = h->held_next;
  if (h->held_next)
    h->held_next->held_prev = h->held_prev;
  h->held_prev = h->held_next = NULL;
  if (!h->internal)
    loop->stats.handles_held--;
}

void il__handle_mark_internal(il_handle_t *h) {
  if (h && !h->internal && h->loop) {
    h->internal = 1;
    h->loop->stats.handles_held--;
  }
}

void il__handle_hold(il_loop_t *loop, il_handle_t *h) {
  h->user_ref = 1;
  h->held_prev = NULL;
  h->held_next = loop->held;
  if (loop->held)
    loop->held->held_prev = h;
  loop->held = h;
  loop->stats.handles_held++;
}

/* At close: handles the caller still holds become orphans, and the slabs
 * they live in pass to a graveyard; without orphans the slabs go now. */
void il__handles_release_all(il_loop_t *loop) {
  il__graveyard_t *g = NULL;
  int orphans = loop->held != NULL;
  if (orphans && (g = malloc(sizeof(*g))) != NULL) {
    g->slabs = loop->hslabs.list;
    g->orphans = 0;
  }
  for (il_handle_t *h = loop->held, *next; h; h = next) {
    next = h->held_next;
    h->held_next = NULL;
    h->held_prev = (il_handle_t *)(void *)g;
    h->loop = NULL;
    if (g)
      g->orphans++;
  }
  /* Out of memory for a graveyard: the slabs stay allocated (a leak)
   * rather than be freed under the caller's handles. */
  if (!orphans)
    slab_list_free(loop->hslabs.list);
  loop->held = NULL;
  loop->stats.handles_held = 0;
  loop->hslabs.list = NULL;
  loop->hslabs.next = loop->hslabs.end = NULL;
  loop->free_list = NULL;
  loop->nfree = 0;
}

/* The caller's side of a handle is checked against the loop's thread while
 * the loop is alive; an orphan belongs to whoever holds it. */
static int handle_check(const il_handle_t *h) {
  if (!h || !h->user_ref)
    return IL_EINVAL;
  if (h->loop) {
    int rc = il__loop_check(h->loop);
    if (rc == IL_EWRONGTHREAD)
      return rc;
  }
  return 0;
}

int il_handle_cancel(il_handle_t *h) {
  int rc = handle_check(h);
  if (rc < 0)
    return rc;
  if (h->state != IL__H_PENDING)
    return 0;
  h->state = IL__H_CANCELLED;
  il_loop_t *loop = h->loop;
  if (loop && h->loop_ref) {
    if (h->in_heap) {
      loop->timers_cancelled++;
      loop->stats.timers--;
    } else {
      loop->stats.ready--;
    }
  }
  return 1;
}

int il_handle_cancelled(const il_handle_t *h) {
  return h && h->state == IL__H_CANCELLED;
}

double il_handle_when(const il_handle_t *h) {
  if (!h || h->kind != IL__H_TIMER)
    return -1.0;
  return (double)h->when_ns / 1e9;
}

void il_handle_release(il_handle_t *h) {
  if (handle_check(h) < 0)
    return;
  il_loop_t *loop = h->loop;
  if (loop)
    held_unlink(loop, h);
  h->user_ref = 0;
  if (!h->loop_ref)
    il__handle_put(loop, h);
}
