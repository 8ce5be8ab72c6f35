/* core/stack.c — stacks for coroutines, and the per-loop pool that keeps
 * them for reuse.
 *
 * Each stack is its own anonymous mapping, reserved (MAP_NORESERVE) rather
 * than committed: a 256 KiB stack costs only the pages a task touches. An
 * optional PROT_NONE guard page below the usable range turns an overflow
 * into SIGSEGV instead of silent corruption of the neighbouring mapping.
 * The guard splits the mapping in two, so every guarded stack costs the
 * process two of its vm.max_map_count mappings; running out of those is
 * reported as IL_ELIMIT, distinct from running out of memory. Stacks of the
 * pool's size are kept after use (up to `max`) because mmap + mprotect +
 * munmap per task would dominate a short task's cost. */
#include "coro.h"

#include <interloop/error.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define IL__STACK_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define IL__STACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IL__STACK_ASAN 1
#endif
#endif
#if defined(IL__STACK_ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define IL__STACK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IL__STACK_TSAN 1
#endif
#endif
#if defined(IL__STACK_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

/* 1024 default stacks are 256 MiB of address space but only the pages
 * tasks touched; munmap is the costly part on virtual machines (a TLB
 * shoot-down), so a server's steady concurrency should fit. */
#define POOL_MAX_DEFAULT 1024

static size_t page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096;
}

/* Rounds up to whole pages, at least IL__STACK_MIN; 0 on overflow. */
static size_t stack_round(size_t size) {
  size_t page = page_size();
  if (size < IL__STACK_MIN)
    size = IL__STACK_MIN;
  if (size > SIZE_MAX - page)
    return 0;
  return (size + page - 1) / page * page;
}

static long read_long(const char *path) {
  FILE *f = fopen(path, "re");
  long v = -1;
  if (!f)
    return -1;
  if (fscanf(f, "%ld", &v) != 1)
    v = -1;
  fclose(f);
  return v;
}

/* Whether the process is (nearly) out of mappings: only asked after a
 * failure, so reading /proc is affordable. */
static int near_map_limit(void) {
  long max = read_long("/proc/sys/vm/max_map_count");
  if (max <= 0)
    return 0;
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f)
    return 0;
  long lines = 0;
  int ch;
  while ((ch = getc(f)) != EOF)
    if (ch == '\n')
      lines++;
  fclose(f);
  return lines + 16 >= max;
}

void il__stack_pool_init(il__stack_pool_t *pool, size_t default_size) {
  pool->free = pool->free_bare = NULL;
  pool->nfree = pool->nfree_bare = 0;
  pool->max = POOL_MAX_DEFAULT;
  pool->default_size =
      stack_round(default_size ? default_size : IL__STACK_DEFAULT);
  if (!pool->default_size)
    pool->default_size = stack_round(IL__STACK_DEFAULT);
  pool->live = 0;
}

static void stack_unmap(il__stack_t *s) {
#if defined(IL__STACK_VALGRIND)
  VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
#if defined(IL__STACK_ASAN)
  /* Frames never returned from leave poisoned shadow behind; whatever is
   * mapped here next must not inherit it. */
  __asan_unpoison_memory_region(s->lo, s->size);
#endif
#if defined(IL__STACK_TSAN)
  if (s->tsan_fiber)
    __tsan_destroy_fiber(s->tsan_fiber);
#endif
  munmap(s->map, s->map_size);
  free(s);
}

void il__stack_pool_destroy(il__stack_pool_t *pool) {
  for (int bare = 0; bare < 2; bare++) {
    il__stack_t *s = bare ? pool->free_bare : pool->free;
    while (s) {
      il__stack_t *next = s->next;
      stack_unmap(s);
      s = next;
    }
  }
  pool->free = pool->free_bare = NULL;
  pool->nfree = pool->nfree_bare = 0;
}

static il__stack_t *stack_map(size_t size, int guard, int *err) {
  size_t page = page_size();
  size_t extra = guard ? page : 0;
  if (size > SIZE_MAX - extra) {
    *err = IL_ENOMEM;
    return NULL;
  }
  il__stack_t *s = calloc(1, sizeof(*s));
  if (!s) {
    *err = IL_ENOMEM;
    return NULL;
  }
  s->map_size = size + extra;
  s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (s->map == MAP_FAILED) {
    *err = errno == ENOMEM && near_map_limit() ? IL_ELIMIT : IL_ENOMEM;
    free(s);
    return NULL;
  }
  /* The kernel answers ENOMEM to an mprotect that would split a mapping
   * past vm.max_map_count: the limit, not memory. */
  if (guard && mprotect(s->map, page, PROT_NONE) != 0) {
    *err = errno == ENOMEM ? IL_ELIMIT : IL_ENOMEM;
    munmap(s->map, s->map_size);
    free(s);
    return NULL;
  }
  s->lo = (char *)s->map + extra;
  s->size = size;
  s->guard = guard ? 1 : 0;
#if defined(IL__STACK_VALGRIND)
  s->vg_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + s->size);
#endif
  return s;
}

il__stack_t *il__stack_get(il__stack_pool_t *pool, size_t size, int guard,
                           int *err) {
  int dummy;
  if (!err)
    err = &dummy;
  size = size ? stack_round(size) : pool->default_size;
  if (!size) {
    *err = IL_ENOMEM;
    return NULL;
  }
  il__stack_t *s;
  il__stack_t **list = guard ? &pool->free : &pool->free_bare;
  size_t *count = guard ? &pool->nfree : &pool->nfree_bare;
  if (size == pool->default_size && *list) {
    s = *list;
    *list = s->next;
    (*count)--;
  } else if (!(s = stack_map(size, guard, err))) {
    return NULL;
  }
  s->next = NULL;
  pool->live++;
  return s;
}

void il__stack_put(il__stack_pool_t *pool, il__stack_t *s) {
  if (!s)
    return;
  pool->live--;
  il__stack_t **list = s->guard ? &pool->free : &pool->free_bare;
  size_t *count = s->guard ? &pool->nfree : &pool->nfree_bare;
  if (s->size == pool->default_size && *count < pool->max) {
    s->next = *list;
    *list = s;
    (*count)++;
    return;
  }
  stack_unmap(s);
}
