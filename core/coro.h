/* core/coro.h — stackful coroutine contexts and their stacks (internal).
 *
 * A context is a suspended flow of control: a saved stack pointer (and the
 * callee-saved registers on that stack) for the hand-written switches
 * (core/coro_x86_64.S, core/coro_aarch64.S), or a ucontext_t for the
 * fallback (core/coro_ucontext.c), chosen at build time: IL_CORO_UCONTEXT
 * forces the fallback. The loop thread's own stack is a context too: the one
 * a task switches back to.
 *
 * Sanitizers and valgrind are told about every switch and every stack
 * (ASan fiber API, TSan fibers, VALGRIND_STACK_REGISTER), so they stay
 * accurate on task stacks. */
#ifndef IL__CORO_H
#define IL__CORO_H

#include <stddef.h>
#include <stdint.h>

#if defined(IL_CORO_UCONTEXT)
#include <ucontext.h>
#endif

/* A stack from mmap: [lo, lo + size) usable, with a PROT_NONE guard page
 * right below lo when `guard` is set. */
typedef struct il__stack {
  void *map;        /* what mmap returned (guard page first) */
  size_t map_size;  /* bytes mapped */
  char *lo;         /* lowest usable byte */
  size_t size;      /* usable bytes */
  unsigned vg_id;   /* valgrind's stack id */
  void *tsan_fiber; /* ThreadSanitizer: the fiber every context made on this
                       stack uses (created once: creating one is costly) */
  int guard;
  struct il__stack *next; /* in the pool */
} il__stack_t;

/* Stacks kept for reuse, one pool per loop. Stacks of the default size are
 * kept (up to `max` with a guard page and `max` without); others are
 * unmapped when freed. */
typedef struct il__stack_pool {
  il__stack_t *free;             /* guarded */
  il__stack_t *free_bare;        /* without a guard page */
  size_t nfree, nfree_bare, max; /* max for each list */
  size_t default_size;           /* usable bytes of pooled stacks */
  size_t live;                   /* stacks handed out and not yet returned */
} il__stack_pool_t;

#define IL__STACK_DEFAULT (256u * 1024u)
#define IL__STACK_MIN (16u * 1024u)

/* A context. Zero-initialise before first use. */
typedef struct il__coro {
#if defined(IL_CORO_UCONTEXT)
  ucontext_t uc;
#else
  void *sp; /* saved stack pointer; the registers are on that stack */
#endif
  /* the stack this context runs on; NULL for a thread's own stack (under
   * ASan: a context not from il__coro_make() gets the bounds of the stack
   * it was last left on, which is what switching back to it announces) */
  const void *stack_lo;
  size_t stack_size;
  /* AddressSanitizer: fake-stack handle saved while switched away */
  void *asan_fake;
  /* ThreadSanitizer: the fiber object of this context */
  void *tsan_fiber;
} il__coro_t;

typedef void (*il__coro_entry_fn)(void *arg);

/* Sets up the pool (default stack size rounded up to pages). */
void il__stack_pool_init(il__stack_pool_t *pool, size_t default_size);

/* Unmaps every pooled stack. Stacks still handed out are the caller's. */
void il__stack_pool_destroy(il__stack_pool_t *pool);

/* Hands out a stack of at least `size` usable bytes (0: the pool default),
 * with a guard page if `guard`. Returns NULL with *err set to IL_ENOMEM, or
 * IL_ELIMIT when the kernel refused another mapping (vm.max_map_count). */
il__stack_t *il__stack_get(il__stack_pool_t *pool, size_t size, int guard,
                           int *err);

/* Returns a stack: pooled if it has the default size and the pool has
 * room, unmapped otherwise. Never the stack the caller runs on. */
void il__stack_put(il__stack_pool_t *pool, il__stack_t *s);

/* Prepares `c` to run entry(arg) on `stack` at its first switch-in. entry
 * must never return: it ends with il__coro_exit(). */
void il__coro_make(il__coro_t *c, il__stack_t *stack, il__coro_entry_fn entry,
                   void *arg);

/* Saves the running flow into `from` and resumes `to`. Returns when
 * something switches back to `from`. `from` may be a zeroed context for the
 * thread's own stack. */
void il__coro_switch(il__coro_t *from, il__coro_t *to);

/* The last switch out of a finished coroutine: like il__coro_switch() but
 * `from` is never resumed (its stack may be reused at once after `to`
 * resumes). Does not return. */
void il__coro_exit(il__coro_t *from, il__coro_t *to) __attribute__((noreturn));

/* Releases what the sanitizers keep for a context that will never run
 * again (TSan fiber). Called by the resumer after il__coro_exit(). */
void il__coro_destroy(il__coro_t *c);

/* ---- between core/coro.c and the per-architecture switch ----------------
 * Implemented by core/coro_x86_64.S, core/coro_aarch64.S or
 * core/coro_ucontext.c; core/coro.c wraps them with the sanitizer
 * bookkeeping. Not for use elsewhere. */

/* What a new context runs first: start(entry, arg), on its own stack. Never
 * returns. */
typedef void (*il__coro_start_fn)(il__coro_entry_fn entry, void *arg);

/* Lays out [lo, lo + size) so that the first switch into `c` calls
 * start(entry, arg) there. The FP control state is the caller's. */
void il__coro_arch_make(il__coro_t *c, void *lo, size_t size,
                        il__coro_start_fn start, il__coro_entry_fn entry,
                        void *arg);

/* The raw switch: saves into `from`, resumes `to`. */
void il__coro_arch_switch(il__coro_t *from, il__coro_t *to);

#endif /* IL__CORO_H */
