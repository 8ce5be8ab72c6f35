/* core/handle.c — scheduled-callback handles and their free list.
 *
 * A handle has up to two owners: the loop, while the handle is queued or in
 * the timer heap, and the caller, when it asked for the handle through `out`.
 * It goes back to the free list when both have let go. Caller-held handles
 * are also on the loop's `held` list so that close can turn them into
 * orphans (loop == NULL) that il_handle_release() frees directly. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Enough to absorb bursts without keeping a million-timer spike forever. */
#define IL__FREE_LIST_MAX 65536

il_handle_t *il__handle_alloc(void) {
  return malloc(sizeof(il_handle_t));
}

void il__handle_put(il_loop_t *loop, il_handle_t *h) {
  if (loop && loop->nfree < IL__FREE_LIST_MAX) {
    h->next = loop->free_list;
    loop->free_list = h;
    loop->nfree++;
  } else {
    free(h);
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
  loop->stats.handles_held--;
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

void il__handles_orphan(il_loop_t *loop) {
  il_handle_t *h = loop->held;
  while (h) {
    il_handle_t *next = h->held_next;
    h->held_prev = h->held_next = NULL;
    h->loop = NULL;
    h = next;
  }
  loop->held = NULL;
  loop->stats.handles_held = 0;
}

void il__handles_free_list(il_loop_t *loop) {
  il_handle_t *h = loop->free_list;
  while (h) {
    il_handle_t *next = h->next;
    free(h);
    h = next;
  }
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
