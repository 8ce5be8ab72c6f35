/* core/coro.c — stackful contexts: what every switch tells the sanitizers.
 *
 * The switch itself is per architecture (core/coro_x86_64.S,
 * core/coro_aarch64.S, or core/coro_ucontext.c as the fallback); this file
 * wraps it so that AddressSanitizer and ThreadSanitizer follow the flow of
 * control from stack to stack. Without a sanitizer every wrapper is a plain
 * (tail) call of the raw switch.
 *
 * ASan must be told the bounds of the stack being entered before the switch
 * (start_switch_fiber) and learns those of the stack just left after it
 * (finish_switch_fiber, run by whoever resumes). A thread's own stack has
 * no bounds of ours, so the context left on it records what ASan reported,
 * for the switch back. The context being left is passed to the resumed side
 * through a thread-local: the resumed side may be a context's first run,
 * which has no caller frame to look at.
 *
 * TSan keeps one "fiber" per context: created with the context, the
 * thread's current fiber for a context saved on a stack not ours, and
 * switched to right before the raw switch. */
#include "coro.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define IL__CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IL__CORO_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define IL__CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IL__CORO_TSAN 1
#endif
#endif

#if defined(IL__CORO_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(IL__CORO_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(IL_CORO_UCONTEXT)
/* The assembly switches store the stack pointer at offset 0. */
_Static_assert(offsetof(il__coro_t, sp) == 0, "sp must come first");
#endif

#if defined(IL__CORO_ASAN)
/* The context the running thread last switched away from; NULL after an
 * exit (that context is dead, nothing to record). */
static _Thread_local il__coro_t *asan_left;

/* First thing on the resumed side of every switch. */
static void asan_arrived(void *fake) {
  const void *lo = NULL;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake, &lo, &size);
  il__coro_t *left = asan_left;
  if (left) {
    /* For a context of ours these are its own bounds again; for one saved
     * on a thread's stack (or on whatever stack resumed a task) they are
     * the bounds to announce when switching back to it. */
    left->stack_lo = lo;
    left->stack_size = size;
  }
}
#endif

/* Runs first on a new context's stack. */
static void coro_start(il__coro_entry_fn entry, void *arg) {
#if defined(IL__CORO_ASAN)
  asan_arrived(NULL);
#endif
  entry(arg);
  abort(); /* entry must end with il__coro_exit() */
}

void il__coro_make(il__coro_t *c, il__stack_t *stack, il__coro_entry_fn entry,
                   void *arg) {
  c->stack_lo = stack->lo;
  c->stack_size = stack->size;
  c->asan_fake = NULL;
#if defined(IL__CORO_ASAN)
  /* A reused stack still carries the redzones of frames that were never
   * returned from (its last context ended by switching away). */
  __asan_unpoison_memory_region(stack->lo, stack->size);
#endif
#if defined(IL__CORO_TSAN)
  if (!stack->tsan_fiber) /* the stack's fiber; destroyed with the stack */
    stack->tsan_fiber = __tsan_create_fiber(0);
  c->tsan_fiber = stack->tsan_fiber;
#endif
  il__coro_arch_make(c, stack->lo, stack->size, coro_start, entry, arg);
}

void il__coro_switch(il__coro_t *from, il__coro_t *to) {
#if defined(IL__CORO_TSAN)
  from->tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#if defined(IL__CORO_ASAN)
  asan_left = from;
  __sanitizer_start_switch_fiber(&from->asan_fake, to->stack_lo,
                                 to->stack_size);
#endif
  il__coro_arch_switch(from, to);
#if defined(IL__CORO_ASAN)
  asan_arrived(from->asan_fake);
#endif
}

void il__coro_exit(il__coro_t *from, il__coro_t *to) {
#if defined(IL__CORO_TSAN)
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#if defined(IL__CORO_ASAN)
  asan_left = NULL;
  /* NULL fake-stack save: this fiber is gone, ASan frees its fake stack. */
  __sanitizer_start_switch_fiber(NULL, to->stack_lo, to->stack_size);
#endif
  il__coro_arch_switch(from, to);
  abort(); /* nothing switches back to a finished context */
}

void il__coro_destroy(il__coro_t *c) {
  /* A TSan fiber belongs to the stack (core/stack.c destroys it with the
   * stack) or, for a context saved on a thread's stack, to the thread. */
  c->tsan_fiber = NULL;
  c->asan_fake = NULL;
}
