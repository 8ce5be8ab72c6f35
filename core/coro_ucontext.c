/* core/coro_ucontext.c — the portable fallback switch: getcontext,
 * makecontext, swapcontext.
 *
 * Used where there is no hand-written switch (neither x86-64 nor aarch64)
 * or when the build forces it (IL_CORO=ucontext, which defines
 * IL_CORO_UCONTEXT). Its known cost: swapcontext saves and restores the
 * signal mask, a sigprocmask syscall on every switch, which makes it one to
 * two orders of magnitude slower than the assembly. */
#include "coro.h"

#include <stdint.h>
#include <stdlib.h>

#if !defined(IL_CORO_UCONTEXT)
#error "core/coro_ucontext.c needs IL_CORO_UCONTEXT (core/coro.h's layout)"
#endif

/* What the new context calls, kept at the top of its own stack: makecontext
 * passes only int arguments, so the trampoline gets this block's address
 * split in two 32-bit halves. */
struct start_block {
  il__coro_start_fn start;
  il__coro_entry_fn entry;
  void *arg;
};

static void trampoline(unsigned hi, unsigned lo) {
  uintptr_t p = (uintptr_t)(((uint64_t)hi << 32) | lo);
  struct start_block *b = (struct start_block *)p;
  b->start(b->entry, b->arg);
  abort(); /* start never returns */
}

void il__coro_arch_make(il__coro_t *c, void *lo, size_t size,
                        il__coro_start_fn start, il__coro_entry_fn entry,
                        void *arg) {
  uintptr_t top = (uintptr_t)lo + size;
  struct start_block *b =
      (struct start_block *)((top - sizeof(*b)) & ~(uintptr_t)15);
  b->start = start;
  b->entry = entry;
  b->arg = arg;
  if (getcontext(&c->uc) != 0)
    abort();
  c->uc.uc_link = NULL;
  c->uc.uc_stack.ss_sp = lo;
  c->uc.uc_stack.ss_size = (size_t)((char *)b - (char *)lo);
  c->uc.uc_stack.ss_flags = 0;
  uint64_t p = (uint64_t)(uintptr_t)b;
  makecontext(&c->uc, (void (*)(void))trampoline, 2, (unsigned)(p >> 32),
              (unsigned)(p & 0xffffffffu));
}

void il__coro_arch_switch(il__coro_t *from, il__coro_t *to) {
  if (swapcontext(&from->uc, &to->uc) != 0)
    abort();
}
