/* tests/coro/test_coro.c — unit tests of the coroutine contexts and stacks
 * (core/coro.h), built twice: against the build's own switch (ctest
 * coro-asm) and against the ucontext fallback (ctest coro-ucontext).
 *
 *   test_coro [--skip-fork]
 *
 * --skip-fork leaves out the sub-tests that fork and crash on purpose (guard
 * page, map-count limit), for running under valgrind. The last line printed
 * is the measured cost of a switch; nothing asserts on it. */
#include "coro.h"

#include <interloop/error.h>

#include <fcntl.h>
#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif

#if defined(TEST_TSAN)
static const int under_tsan = 1;
#else
static const int under_tsan = 0;
#endif

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static size_t page(void) {
  return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- ping-pong ------------------------------------------------------------
 */

#define PP_COROS 3
#define PP_ROUNDS 200

/* One thread's worth of ping-pong state: the thread's own context, the
 * coroutines, and the shared memory they talk through. */
struct pp_world;

struct pp_coro {
  il__coro_t ctx;
  il__stack_t *stack;
  struct pp_world *w;
  il__coro_t *next; /* where this one switches to after its turn */
  int id;
  int finished;
};

struct pp_world {
  il__coro_t main_ctx;
  il__stack_pool_t pool;
  struct pp_coro co[PP_COROS];
  int mailbox;
  int log[2 * PP_COROS * PP_ROUNDS + 8];
  int nlog;
  int chain; /* coroutines pass the turn to each other, not back to main */
};

static void pp_entry(void *arg) {
  struct pp_coro *c = arg;
  struct pp_world *w = c->w;
  for (int round = 0; round < PP_ROUNDS; round++) {
    /* main (or the previous coroutine) left a value for us */
    CHECK(w->mailbox == round * 10 + c->id);
    w->log[w->nlog++] = c->id * 1000 + round;
    w->mailbox = c->id + 1 < PP_COROS ? round * 10 + c->id + 1 : -round;
    il__coro_switch(&c->ctx, w->chain ? c->next : &w->main_ctx);
  }
  c->finished = 1;
  il__coro_exit(&c->ctx, &w->main_ctx);
}

static void pp_run(struct pp_world *w, int chain) {
  memset(w, 0, sizeof(*w));
  w->chain = chain;
  il__stack_pool_init(&w->pool, 0);
  for (int i = 0; i < PP_COROS; i++) {
    struct pp_coro *c = &w->co[i];
    int err = 0;
    c->w = w;
    c->id = i;
    c->stack = il__stack_get(&w->pool, 0, 1, &err);
    CHECK(c->stack && err == 0);
    il__coro_make(&c->ctx, c->stack, pp_entry, c);
  }
  for (int i = 0; i < PP_COROS; i++)
    w->co[i].next = i + 1 < PP_COROS ? &w->co[i + 1].ctx : &w->main_ctx;

  for (int round = 0; round < PP_ROUNDS; round++) {
    if (chain) {
      w->mailbox = round * 10;
      il__coro_switch(&w->main_ctx, &w->co[0].ctx);
      CHECK(w->mailbox == -round);
    } else {
      for (int i = 0; i < PP_COROS; i++) {
        w->mailbox = round * 10 + i;
        il__coro_switch(&w->main_ctx, &w->co[i].ctx);
        CHECK(w->mailbox == (i + 1 < PP_COROS ? round * 10 + i + 1 : -round));
      }
    }
  }
  CHECK(w->nlog == PP_COROS * PP_ROUNDS);
  for (int k = 0; k < w->nlog; k++)
    CHECK(w->log[k] == (k % PP_COROS) * 1000 + k / PP_COROS);
  /* let each one finish: it exits straight back to main */
  for (int i = 0; i < PP_COROS; i++) {
    CHECK(!w->co[i].finished);
    il__coro_switch(&w->main_ctx, &w->co[i].ctx);
    CHECK(w->co[i].finished);
    il__coro_destroy(&w->co[i].ctx);
    il__stack_put(&w->pool, w->co[i].stack);
  }
  CHECK(w->pool.live == 0);
  il__stack_pool_destroy(&w->pool);
}

static struct pp_world pp_worlds[3];

static void test_ping_pong(void) {
  pp_run(&pp_worlds[0], 0);
}

static void test_chain(void) {
  pp_run(&pp_worlds[0], 1);
}

static void *pp_thread(void *arg) {
  struct pp_world *w = arg;
  for (int i = 0; i < 20; i++)
    pp_run(w, i & 1);
  return NULL;
}

/* Two threads switching at once: every piece of per-switch state is per
 * thread. */
static void test_threads(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&t[i], NULL, pp_thread, &pp_worlds[1 + i]) == 0);
  for (int i = 0; i < 2; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
}

/* ---- shared helpers --------------------------------------------------------
 */

static il__coro_t main_ctx;
static il__stack_pool_t pool;

struct simple {
  il__coro_t ctx;
  il__stack_t *stack;
  void (*body)(struct simple *);
  long result;
  int finished;
};

static void simple_entry(void *arg) {
  struct simple *s = arg;
  s->body(s);
  s->finished = 1;
  il__coro_exit(&s->ctx, &main_ctx);
}

/* Runs body on a new coroutine with a stack of `size` until it finishes. */
static long run_simple(void (*body)(struct simple *), size_t size) {
  struct simple s;
  int err = 0;
  memset(&s, 0, sizeof(s));
  s.body = body;
  s.stack = il__stack_get(&pool, size, 1, &err);
  CHECK(s.stack && err == 0);
  il__coro_make(&s.ctx, s.stack, simple_entry, &s);
  while (!s.finished)
    il__coro_switch(&main_ctx, &s.ctx);
  il__coro_destroy(&s.ctx);
  il__stack_put(&pool, s.stack);
  return s.result;
}

/* ---- one context saved on different stacks ------------------------------- */

/* Like a task's `caller`: a zeroed context that whoever resumes B saves
 * itself into — first coroutine A's stack, then the thread's own. */
static il__coro_t nest_caller, nest_a, nest_b;
static int nest_log[8], nest_n;

static void nest_b_entry(void *arg) {
  (void)arg;
  for (int i = 0; i < 3; i++) {
    volatile char buf[256];
    memset((char *)buf, i, sizeof(buf));
    nest_log[nest_n++] = 10 + i;
    il__coro_switch(&nest_b, &nest_caller);
  }
  nest_log[nest_n++] = 19;
  il__coro_exit(&nest_b, &nest_caller);
}

static void nest_a_entry(void *arg) {
  (void)arg;
  volatile char buf[256];
  memset((char *)buf, 1, sizeof(buf));
  il__coro_switch(&nest_caller, &nest_b); /* resume B from A's stack */
  nest_log[nest_n++] = 1;
  il__coro_switch(&nest_a, &main_ctx);
  nest_log[nest_n++] = 2;
  il__coro_exit(&nest_a, &main_ctx);
}

static void test_nested_resumer(void) {
  static const int expect[] = {10, 1, 11, 2, 12, 19};
  int err = 0;
  il__stack_t *sa = il__stack_get(&pool, 0, 1, &err);
  il__stack_t *sb = il__stack_get(&pool, 0, 1, &err);
  CHECK(sa && sb);
  memset(&nest_caller, 0, sizeof(nest_caller));
  il__coro_make(&nest_a, sa, nest_a_entry, NULL);
  il__coro_make(&nest_b, sb, nest_b_entry, NULL);
  il__coro_switch(&main_ctx, &nest_a);    /* A resumes B, then comes back */
  il__coro_switch(&nest_caller, &nest_b); /* now the thread resumes B */
  il__coro_switch(&main_ctx, &nest_a);    /* A ends */
  il__coro_switch(&nest_caller, &nest_b);
  il__coro_switch(&nest_caller, &nest_b); /* B ends */
  CHECK(nest_n == 6);
  for (int i = 0; i < 6; i++)
    CHECK(nest_log[i] == expect[i]);
  il__coro_destroy(&nest_a);
  il__coro_destroy(&nest_b);
  il__stack_put(&pool, sa);
  il__stack_put(&pool, sb);
}

/* ---- deep recursion -------------------------------------------------------
 */

static const char *deep_lo, *deep_hi, *deep_bottom;

__attribute__((noinline)) static long recurse(long depth) {
  volatile char buf[256];
  buf[0] = (char)depth;
  buf[255] = 1;
  if (depth == 0) {
    deep_bottom = (const char *)buf;
    return buf[255];
  }
  long r = recurse(depth - 1);
  return r + buf[255] + (buf[0] - (char)depth);
}

static void deep_body(struct simple *s) {
  deep_lo = s->stack->lo;
  deep_hi = s->stack->lo + s->stack->size;
  s->result = recurse(20000);
}

static void test_deep_recursion(void) {
  long r = run_simple(deep_body, 16u << 20);
  CHECK(r == 20001);
  /* it really ran on the big stack, and deep into it */
  CHECK(deep_bottom >= deep_lo && deep_bottom < deep_hi);
  CHECK((size_t)(deep_hi - deep_bottom) > 20000u * 256u);
}

/* ---- floating point state ----------------------------------------------- */

static il__coro_t fp_ctx;
static double fp_values[2][64];

/* Eight accumulators live across every switch: on aarch64 they sit in the
 * callee-saved d8-d15; on x86-64 every xmm register is caller-saved and the
 * compiler spills them, which is what the ABI promises. */
static void fp_accumulate(double *out, int self_is_coro) {
  volatile double seed = 1.0;
  double a = seed, b = seed * 2, c = seed * 3, d = seed * 4;
  double e = seed * 5, f = seed * 6, g = seed * 7, h = seed * 8;
  for (int i = 0; i < 64; i++) {
    a = a * 1.5 + b;
    b = b * 0.5 + c;
    c = c + d * 0.25;
    d = d - e * 0.125;
    e = e + f;
    f = f * 0.75;
    g = g + h * 0.5;
    h = h * 1.0625 - a * 0.001;
    if (self_is_coro)
      il__coro_switch(&fp_ctx, &main_ctx);
    else
      il__coro_switch(&main_ctx, &fp_ctx);
    out[i] = a + b + c + d + e + f + g + h;
  }
}

static int rounding_switched(void) {
#if defined(__x86_64__) || defined(IL_CORO_UCONTEXT)
  return 1;
#else
  return 0; /* aarch64's switch leaves FPCR alone (core/coro_aarch64.S) */
#endif
}

static int mxcsr_rounding(void) {
#if defined(__x86_64__)
  return (int)(_mm_getcsr() & 0x6000u);
#else
  return 0;
#endif
}

static int fp_coro_done;

static void fp_entry(void *arg) {
  (void)arg;
  int up = rounding_switched();
  if (up)
    CHECK(fesetround(FE_UPWARD) == 0);
  int mx = mxcsr_rounding();
  il__coro_switch(&fp_ctx, &main_ctx);
  if (up) {
    CHECK(fegetround() == FE_UPWARD);
    CHECK(mxcsr_rounding() == mx);
    CHECK(fesetround(FE_TONEAREST) == 0);
  }
  fp_accumulate(fp_values[1], 1);
  fp_coro_done = 1;
  il__coro_exit(&fp_ctx, &main_ctx);
}

static void test_fp_state(void) {
  double expect[64];
  int err = 0;
  il__stack_t *st = il__stack_get(&pool, 0, 1, &err);
  CHECK(st);
  CHECK(fegetround() == FE_TONEAREST);
  int mx = mxcsr_rounding();
  il__coro_make(&fp_ctx, st, fp_entry, NULL);
  il__coro_switch(&main_ctx, &fp_ctx);
  /* the coroutine rounds upwards; this side still rounds to nearest */
  CHECK(fegetround() == FE_TONEAREST);
  CHECK(mxcsr_rounding() == mx);
  il__coro_switch(&main_ctx, &fp_ctx);
  /* both sides now interleave their computations switch by switch; the
   * coroutine's last switch is its exit */
  fp_accumulate(fp_values[0], 0);
  CHECK(fp_coro_done);
  il__coro_destroy(&fp_ctx);
  il__stack_put(&pool, st);

  /* the same computation without any switch in between */
  volatile double seed = 1.0;
  double a = seed, b = seed * 2, c = seed * 3, d = seed * 4;
  double e = seed * 5, f = seed * 6, g = seed * 7, h = seed * 8;
  for (int i = 0; i < 64; i++) {
    a = a * 1.5 + b;
    b = b * 0.5 + c;
    c = c + d * 0.25;
    d = d - e * 0.125;
    e = e + f;
    f = f * 0.75;
    g = g + h * 0.5;
    h = h * 1.0625 - a * 0.001;
    expect[i] = a + b + c + d + e + f + g + h;
  }
  for (int i = 0; i < 64; i++) {
    CHECK(fp_values[0][i] == expect[i]);
    CHECK(fp_values[1][i] == expect[i]);
  }
}

/* ---- the stack pool -------------------------------------------------------
 */

static void test_pool(void) {
  il__stack_pool_t p;
  il__stack_t *v[70];
  int err = 0;
  il__stack_pool_init(&p, 100000);
  CHECK(p.default_size % page() == 0 && p.default_size >= 100000);
  CHECK(p.max == 1024);

  il__stack_t *a = il__stack_get(&p, 0, 1, &err);
  CHECK(a && a->size == p.default_size && a->guard);
  CHECK(a->lo == (char *)a->map + page() && a->map_size == a->size + page());
  CHECK(p.live == 1);
  il__stack_put(&p, a);
  CHECK(p.nfree == 1 && p.live == 0);
  il__stack_t *b = il__stack_get(&p, p.default_size, 1, &err);
  CHECK(b == a && p.nfree == 0); /* the same stack back from the pool */
  il__stack_put(&p, b);

  /* only default-sized, guarded stacks are pooled, and only from the pool */
  il__stack_t *small = il__stack_get(&p, 1000, 1, &err);
  CHECK(small && small->size == IL__STACK_MIN);
  il__stack_put(&p, small);
  CHECK(p.nfree == 1);
  il__stack_t *odd = il__stack_get(&p, IL__STACK_MIN + 1, 1, &err);
  CHECK(odd && odd->size == IL__STACK_MIN + page());
  il__stack_put(&p, odd);
  il__stack_t *bare = il__stack_get(&p, 0, 0, &err);
  CHECK(bare && bare != a && !bare->guard && bare->lo == bare->map);
  il__stack_put(&p, bare);
  CHECK(p.nfree == 1 && p.nfree_bare == 1); /* pooled on their own list */
  CHECK(il__stack_get(&p, 0, 0, &err) == bare && p.nfree_bare == 0);
  il__stack_put(&p, bare);

  /* the pool keeps at most `max` */
  p.max = 64; /* the default (1024) is a lot of stacks for a unit test */
  for (int i = 0; i < 70; i++)
    CHECK((v[i] = il__stack_get(&p, 0, 1, &err)) != NULL);
  CHECK(p.live == 70 && p.nfree == 0);
  for (int i = 0; i < 70; i++)
    il__stack_put(&p, v[i]);
  CHECK(p.nfree == 64 && p.live == 0);

  /* sizes no mapping can have */
  err = 0;
  CHECK(il__stack_get(&p, SIZE_MAX, 1, &err) == NULL && err == IL_ENOMEM);
  err = 0;
  CHECK(il__stack_get(&p, SIZE_MAX / 2, 1, &err) == NULL && err == IL_ENOMEM);
  il__stack_pool_destroy(&p);
  CHECK(p.nfree == 0 && p.free == NULL && p.free_bare == NULL);
}

/* ---- exit and immediate reuse -------------------------------------------- */

static il__coro_t exit_ctx;
static int exit_runs;
static volatile int never;

/* Leaves from a few frames down with buffers in them, for good (exit) or
 * by a switch after which it is abandoned: under ASan those frames'
 * redzones may stay poisoned on the stack, which the next coroutine on it
 * must not trip over. */
__attribute__((noinline)) static void leave_deep(int n, int abandon) {
  volatile char buf[512];
  memset((char *)buf, n, sizeof(buf));
  if (n > 0) {
    leave_deep(n - 1, abandon);
    return;
  }
  exit_runs++;
  if (abandon)
    il__coro_switch(&exit_ctx, &main_ctx); /* never resumed */
  else if (!never) /* (a path that returns, or gcc sees infinite recursion) */
    il__coro_exit(&exit_ctx, &main_ctx);
}

/* Runs where leave_deep()'s frames were left by the previous coroutine on
 * this stack. */
__attribute__((noinline)) static void fill_big(void) {
  volatile char big[32768];
  memset((char *)big, 1, sizeof(big));
}

static void exit_entry(void *arg) {
  int i = (int)(intptr_t)arg;
  if (i % 3 == 2)
    fill_big();
  leave_deep(i % 7, i % 3 == 1);
}

static void test_exit_reuse(void) {
  il__stack_t *prev = NULL;
  int err = 0;
#if defined(TEST_TSAN)
  int rounds = 100; /* a fiber per round, and TSan's fibers are slow */
#else
  int rounds = 1000;
#endif
  for (int i = 0; i < rounds; i++) {
    il__stack_t *st = il__stack_get(&pool, 0, 1, &err);
    CHECK(st);
    if (prev)
      CHECK(st == prev);
    il__coro_make(&exit_ctx, st, exit_entry, (void *)(intptr_t)i);
    il__coro_switch(&main_ctx, &exit_ctx);
    CHECK(exit_runs == i + 1);
    il__coro_destroy(&exit_ctx);
    il__stack_put(&pool, st); /* back in the pool at once */
    prev = st;
  }
}

/* ---- many at once ---------------------------------------------------------
 */

#if defined(TEST_TSAN)
/* Under TSan a new mapping costs ~2 ms (its shadow is reset), and a fiber
 * counts as a thread (at most 8128) and costs ~15 ms and ~0.8 MB: fewer
 * stacks, and only some of them with a coroutine. */
#define MANY 1000
#define MANY_CORO 300
#else
#define MANY 10000
#define MANY_CORO MANY
#endif

struct many {
  il__coro_t ctx;
  il__stack_t *stack;
  int id;
  int state;
};

static void many_entry(void *arg) {
  struct many *m = arg;
  volatile char touch[1024];
  touch[0] = (char)m->id;
  m->state = 1;
  il__coro_switch(&m->ctx, &main_ctx);
  CHECK(touch[0] == (char)m->id);
  m->state = 2;
  il__coro_exit(&m->ctx, &main_ctx);
}

static void test_many(void) {
  il__stack_pool_t p;
  struct many *m = calloc(MANY, sizeof(*m));
  int err = 0;
  CHECK(m);
  il__stack_pool_init(&p, 32u * 1024u);
  for (int i = 0; i < MANY; i++) {
    m[i].id = i;
    m[i].stack = il__stack_get(&p, 0, 1, &err);
    if (!m[i].stack)
      fprintf(stderr, "stack %d: error %d\n", i, err);
    CHECK(m[i].stack && m[i].stack->guard);
    if (i >= MANY_CORO) {
      /* no coroutine on it: just check the whole range is usable */
      m[i].stack->lo[0] = 1;
      m[i].stack->lo[m[i].stack->size - 1] = 1;
      continue;
    }
    il__coro_make(&m[i].ctx, m[i].stack, many_entry, &m[i]);
    il__coro_switch(&main_ctx, &m[i].ctx);
    CHECK(m[i].state == 1);
  }
  CHECK(p.live == MANY);
  /* all suspended at once; finish them in another order */
  for (int i = MANY - 1; i >= 0; i--) {
    if (i < MANY_CORO) {
      il__coro_switch(&main_ctx, &m[i].ctx);
      CHECK(m[i].state == 2);
      il__coro_destroy(&m[i].ctx);
    }
    il__stack_put(&p, m[i].stack);
  }
  CHECK(p.live == 0 && p.nfree == (MANY < p.max ? MANY : p.max));
  il__stack_pool_destroy(&p);
  free(m);
}

/* ---- the guard page (forked children) ------------------------------------ */

static char *guard_lo;
static size_t guard_len;

__attribute__((noinline)) static long recurse_forever(long depth) {
  volatile char buf[256];
  buf[0] = (char)depth;
  if (never)
    return 0;
  return recurse_forever(depth + 1) + buf[0];
}

static void overflow_entry(void *arg) {
  (void)arg;
  recurse_forever(0);
  il__coro_exit(&exit_ctx, &main_ctx);
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  char *a = si->si_addr;
  _exit(a >= guard_lo && a < guard_lo + guard_len ? 42 : 43);
}

/* In a child: overflows a 32 KiB stack, with our SIGSEGV handler on an
 * alternate stack if `handler`. */
static void overflow_child(int handler) {
  static char altstack[64 * 1024];
  struct rlimit no_core = {0, 0};
  int err = 0;
  setrlimit(RLIMIT_CORE, &no_core);
  il__stack_pool_t p;
  il__stack_pool_init(&p, 32u * 1024u);
  il__stack_t *st = il__stack_get(&p, 0, 1, &err);
  if (!st)
    _exit(2);
  guard_lo = st->map;
  guard_len = (size_t)(st->lo - (char *)st->map);
  if (handler) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0)
      _exit(3);
  } else {
    /* the crash is the expected outcome: keep its report out of the log */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
      dup2(null, 2);
  }
  il__coro_make(&exit_ctx, st, overflow_entry, NULL);
  il__coro_switch(&main_ctx, &exit_ctx);
  _exit(4); /* survived the overflow */
}

static int run_child(void (*fn)(int), int arg) {
  int status = 0;
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0)
    fn(arg);
  CHECK(waitpid(pid, &status, 0) == pid);
  return status;
}

static void test_guard_sigsegv(void) {
  int st = run_child(overflow_child, 0);
#if defined(TEST_ASAN) || defined(TEST_TSAN)
  /* the sanitizer catches the fault, reports stack-overflow and exits */
  CHECK(WIFSIGNALED(st) ||
        (WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 4));
#else
  if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV))
    fprintf(stderr, "child status %#x\n", st);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
#endif
}

static void test_guard_si_addr(void) {
  int st = run_child(overflow_child, 1);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 42))
    fprintf(stderr, "child status %#x\n", st);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42); /* fault in the guard */
}

/* In a child: guarded stacks until the kernel runs out of mappings. */
static void limit_child(int unused) {
  (void)unused;
  il__stack_pool_t p;
  int err = 0;
  long n = 0;
  il__stack_pool_init(&p, IL__STACK_MIN);
  while (il__stack_get(&p, 0, 1, &err))
    n++;
  _exit(err == IL_ELIMIT && n > 1000 ? 0 : 1);
}

static void test_map_limit(void) {
  int st = run_child(limit_child, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- speed ----------------------------------------------------------------
 */

static il__coro_t bench_ctx;
static volatile long bench_n;

static void bench_entry(void *arg) {
  (void)arg;
  for (;;) {
    bench_n++;
    il__coro_switch(&bench_ctx, &main_ctx);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench(void) {
  int err = 0;
  il__stack_t *st = il__stack_get(&pool, 0, 1, &err);
  CHECK(st);
  il__coro_make(&bench_ctx, st, bench_entry, NULL);
  long rounds = 2000000;
#if defined(TEST_ASAN) || defined(TEST_TSAN) || defined(IL_CORO_UCONTEXT)
  rounds = 200000;
#endif
  double best = 1e9;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now_s();
    for (long i = 0; i < rounds; i++)
      il__coro_switch(&main_ctx, &bench_ctx);
    double ns = (now_s() - t0) * 1e9 / (double)rounds;
    if (ns < best)
      best = ns;
  }
  CHECK(bench_n == 3 * rounds);
  printf("switch: %.1f ns per pair (in and out), %.1f ns per switch "
         "(best of 3 x %ld pairs)\n",
         best, best / 2, rounds);
  /* the coroutine never finishes: its stack is simply dropped */
  il__coro_destroy(&bench_ctx);
  il__stack_put(&pool, st);
}

/* ---- main -----------------------------------------------------------------
 */

static double now_s(void);

static void run(const char *name, void (*fn)(void)) {
  double t0 = now_s();
  fn();
  printf("ok - %s (%.2f s)\n", name, now_s() - t0);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int skip_fork = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--skip-fork") == 0) {
      skip_fork = 1;
    } else {
      fprintf(stderr, "usage: %s [--skip-fork]\n", argv[0]);
      return 2;
    }
  }
#if defined(IL_CORO_UCONTEXT)
  printf("# switch: ucontext\n");
#else
  printf("# switch: assembly\n");
#endif
  il__stack_pool_init(&pool, 0);
  run("ping_pong", test_ping_pong);
  run("chain", test_chain);
  run("threads", test_threads);
  run("nested_resumer", test_nested_resumer);
  run("deep_recursion", test_deep_recursion);
  run("fp_state", test_fp_state);
  run("pool", test_pool);
  run("exit_reuse", test_exit_reuse);
  run("many_stacks", test_many);
  if (!skip_fork) {
    run("guard_sigsegv", test_guard_sigsegv);
    run("guard_si_addr", test_guard_si_addr);
    if (!under_tsan) /* 30 000 mappings at ~2 ms each under TSan */
      run("map_limit", test_map_limit);
    else
      printf("# skipped under TSan: map_limit\n");
  } else {
    printf("# skipped: guard_sigsegv guard_si_addr map_limit\n");
  }
  bench();
  CHECK(pool.live == 0);
  il__stack_pool_destroy(&pool);
  return 0;
}
