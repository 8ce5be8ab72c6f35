/* core/internal.h — the core's private declarations (il__ names).
 * Never installed; never includes an engine header. */
#ifndef IL__INTERNAL_H
#define IL__INTERNAL_H

#include <interloop/backend.h>
#include <interloop/error.h>
#include <interloop/loop.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IL__UNUSED(x) ((void)(x))
#define IL__CONTAINER_OF(ptr, type, member)                                    \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#if defined(__GNUC__) || defined(__clang__)
#define IL__LIKELY(x) __builtin_expect(!!(x), 1)
#define IL__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define IL__LIKELY(x) (x)
#define IL__UNLIKELY(x) (x)
#endif

/* ---- handles -------------------------------------------------------------
 * One struct for everything the ready queue carries. SOON, TIMER and
 * THREADSAFE handles come from the loop's free list; IO and SIGNAL handles
 * are embedded in their watcher and never freed on their own. */
enum il__handle_kind {
  IL__H_SOON = 0,
  IL__H_TIMER,
  IL__H_THREADSAFE,
  IL__H_IO,
  IL__H_SIGNAL,
  IL__H_FUTCB /* a future's done-callback (arg: its il__fut_cb_t) */
};

enum il__handle_state {
  IL__H_PENDING = 0, /* scheduled, callback not run */
  IL__H_DONE,        /* callback ran (or is running) */
  IL__H_CANCELLED    /* cancelled, or dropped when the loop closed */
};

struct il_handle {
  il_handle_t *next; /* ready queue or free list */
  il_callback_fn cb;
  void *arg;
  il_loop_t *loop;  /* NULL once the loop closed (an orphan) */
  uint64_t when_ns; /* timers: deadline; 0 otherwise */
  il_handle_t *held_prev, *held_next; /* the loop's list of caller-held */
  uint8_t loop_ref; /* the loop still references it (queued or in heap) */
  uint8_t user_ref; /* the caller holds it (returned through `out`) */
  uint8_t state;    /* enum il__handle_state */
  uint8_t kind;     /* enum il__handle_kind */
  uint8_t in_heap;  /* in the timer heap (not yet moved to ready) */
  uint8_t internal; /* held by the core itself (a task, a timeout), not by
                       the application: not counted, never "leaked" */
};

/* ---- slabs (core/handle.c) ------------------------------------------------
 * Fixed-size objects carved from 64 KiB blocks: one malloc per thousand
 * objects. The blocks are freed all at once. */
typedef struct il__slabs {
  struct il__slab *list;
  char *next, *end; /* not yet carved from the newest block */
} il__slabs_t;

/* A new object of `size` bytes (a multiple of 16), or NULL. */
void *il__slab_carve(il__slabs_t *s, size_t size);
/* Frees every block. */
void il__slabs_free(il__slabs_t *s);

/* ---- timer heap (core/timer_heap.c) -------------------------------------- */
typedef struct il__timer_entry {
  uint64_t when_ns;
  uint64_t seq;
  il_handle_t *h;
} il__timer_entry_t;

typedef struct il__timer_heap {
  il__timer_entry_t *v;
  size_t n, cap;
} il__timer_heap_t;

int il__heap_push(il__timer_heap_t *heap, uint64_t when_ns, uint64_t seq,
                  il_handle_t *h);
void il__heap_pop(il__timer_heap_t *heap);
void il__heap_heapify(il__timer_heap_t *heap);
void il__heap_free(il__timer_heap_t *heap);

/* ---- fd and signal watchers ---------------------------------------------- */
typedef struct il__fdw {
  il_handle_t qh; /* queued when the backend reports readiness */
  int fd;
  unsigned interest; /* IL_IO_READ | IL_IO_WRITE currently started */
  unsigned revents;  /* reported, not yet delivered */
  void *bio;         /* the backend's watcher, NULL when stopped */
  il_io_fn rcb, wcb;
  void *rarg, *warg;
} il__fdw_t;

typedef struct il__sigw {
  il_handle_t qh;
  int signum;
  void *bsig;
  il_signal_fn cb;
  void *arg;
  /* The core's own handler (the SIGCHLD child watcher), run before the
   * application's; it keeps the signal watched without counting as one. */
  il_signal_fn core_cb;
  void *core_arg;
} il__sigw_t;

/* ---- thread-safe queue (core/threadsafe.c) --------------------------------
 */
typedef struct il__ts_item {
  il_callback_fn cb;
  void *arg;
} il__ts_item_t;

typedef struct il__ts_queue {
  pthread_mutex_t mu;
  il__ts_item_t *items, *spare;
  size_t n, cap, spare_cap;
  atomic_int pending; /* items may be waiting */
  int closed;
} il__ts_queue_t;

int il__ts_init(il__ts_queue_t *q);
int il__ts_init_after_fork(il__ts_queue_t *q);
void il__ts_destroy(il__ts_queue_t *q);

/* ---- the loop ------------------------------------------------------------ */
#define IL__NSIG 65

struct il_loop {
  /* hot: the ready queue and the pass */
  il_handle_t *ready_head, *ready_tail;
  size_t nready;
  il_handle_t *free_list;
  size_t nfree;
  il__slabs_t hslabs; /* handle memory, freed at close */
  const il_backend_ops_t *ops;
  void *bstate;
  il__timer_heap_t timers;
  uint64_t timer_seq;
  size_t timers_cancelled;
  uint64_t armed_ns; /* deadline the backend timer is armed for; 0 = off */
  int soon_on;       /* dispatch_soon currently on */
  int in_dispatch;
  unsigned passes_left; /* RUN_ONCE / RUN_NOWAIT budget */
  int limit_passes;
  int stop_requested; /* il_loop_stop() was called */
  int stopping;       /* ops->stop() issued; dispatch does nothing more */
  atomic_int running;
  atomic_int closed;
  atomic_uintptr_t owner; /* pthread_self() of the owning thread, or 0 */
  int adopted;
  int debug;
  uint64_t slow_ns;
  uint64_t run_callbacks; /* callbacks run during the current il_loop_run */

  il__ts_queue_t ts;

  il__fdw_t **fds;
  int nfds;
  il__sigw_t *sigs[IL__NSIG];

  il_handle_t *held;               /* caller-held handles (doubly linked) */
  struct il_transport *transports; /* every transport not yet freed */
  struct il_server *servers;       /* every server not yet freed */
  struct il__executor *executor;   /* the worker pool, NULL until used */
  struct il__connect *connects;    /* connects under way (connect.c) */
  char *read_buf; /* IL__READ_BUF bytes shared by every transport's reads */
  struct il_subprocess *procs; /* every subprocess not yet freed */
  int child_watcher;           /* IL_CHILD_WATCHER_* (0: not chosen yet) */
  int sigchld_children;        /* children reaped through SIGCHLD */
  struct il__tasks *tasks; /* futures and tasks state, NULL until a task */
  il__slabs_t fslabs; /* plain futures' memory, freed with the loop object */
  void *fut_free;     /* recycled plain futures */

  il_error_handler_fn err_fn;
  void *err_ud;
  void *data;
  il_destructor_fn data_dtor;

  il_backend_host_t host;
  char create_msg[256]; /* what the backend reported during create() */
  il_loop_stats_t stats;
  int refs; /* the application's reference + objects that outlive close */
};

/* core/clock.c */
uint64_t il__now_ns(void);

/* core/loop.c */

/* The check every loop-thread entry point starts with: a live loop, called
 * from its owning thread (when it has one), not closed. Inline: it sits on
 * the call_soon hot path. */
static inline int il__loop_check(const il_loop_t *loop) {
  if (IL__UNLIKELY(!loop))
    return IL_EINVAL;
  uintptr_t owner = atomic_load_explicit(&loop->owner, memory_order_relaxed);
  if (IL__UNLIKELY(owner != 0 && owner != (uintptr_t)pthread_self()))
    return IL_EWRONGTHREAD;
  if (IL__UNLIKELY(atomic_load_explicit(&loop->closed, memory_order_relaxed)))
    return IL_ECLOSED;
  return 0;
}
void il__report(il_loop_t *loop, int code, il_error_source_t source,
                const char *message, const void *cb, void *arg, int fd);
void il__loop_unref(il_loop_t *loop);

/* core/handle.c */
il_handle_t *il__handle_alloc(il_loop_t *loop);
void il__handle_put(il_loop_t *loop, il_handle_t *h);

/* A pooled handle, initialised for `loop`, owned by the loop. NULL when out
 * of memory. Inline: call_soon and every timer go through it. */
static inline il_handle_t *il__handle_get(il_loop_t *loop) {
  il_handle_t *h = loop->free_list;
  if (IL__LIKELY(h != NULL)) {
    loop->free_list = h->next;
    loop->nfree--;
  } else if (!(h = il__handle_alloc(loop))) {
    return NULL;
  }
  h->next = NULL;
  h->loop = loop;
  h->when_ns = 0;
  h->held_prev = h->held_next = NULL;
  h->loop_ref = 1;
  h->user_ref = 0;
  h->state = IL__H_PENDING;
  h->kind = IL__H_SOON;
  h->in_heap = 0;
  h->internal = 0;
  return h;
}

/* The loop lets go of a handle. Embedded handles (IO, SIGNAL) belong to
 * their watcher; pooled ones go back to the free list once the caller has
 * let go too. */
static inline void il__handle_drop_loop_ref(il_handle_t *h) {
  h->loop_ref = 0;
  if (h->kind == IL__H_IO || h->kind == IL__H_SIGNAL)
    return;
  if (!h->user_ref)
    il__handle_put(h->loop, h);
}
void il__handle_hold(il_loop_t *loop, il_handle_t *h);
/* Cancels and releases a handle the core holds (*h, may be NULL) and
 * clears the pointer. */
static inline void il__handle_drop(il_handle_t **h) {
  if (*h) {
    il_handle_cancel(*h);
    il_handle_release(*h);
    *h = NULL;
  }
}
/* A handle the core asked for (through `out`/`held`) for its own use: it
 * stays on the held list, so close orphans it safely, but it is not the
 * application's and is neither counted in handles_held nor reported. */
void il__handle_mark_internal(il_handle_t *h);
void il__handles_release_all(il_loop_t *loop);

static inline void il__ready_push(il_loop_t *loop, il_handle_t *h) {
  h->next = NULL;
  if (loop->ready_tail)
    loop->ready_tail->next = h;
  else
    loop->ready_head = h;
  loop->ready_tail = h;
  loop->nready++;
}

/* core/threadsafe.c */
void il__ts_drain(il_loop_t *loop);
void il__ts_close(il_loop_t *loop);

/* core/io.c and core/signal.c */
void il__host_io(void *io_ud, unsigned revents);
void il__host_signal(void *sig_ud, int signum);
void il__io_close_all(il_loop_t *loop);
void il__signal_close_all(il_loop_t *loop);
void il__io_run(il_loop_t *loop, il__fdw_t *w);
/* il_loop_add_reader (bit IL_IO_READ) / add_writer (IL_IO_WRITE) without the
 * checks, for the core's own sockets (transports, servers): the caller is
 * on the loop thread of an open loop and fd is a socket it owns. Saves the
 * fcntl + fstat of the public calls. */
int il__io_add(il_loop_t *loop, int fd, il_io_fn cb, void *arg, unsigned bit);
void il__signal_run(il_loop_t *loop, il__sigw_t *s);
/* core/signal.c: the core's handler for signum (one per signal; cb NULL
 * removes it). Returns 0 or the backend's error (IL_ENOTSUP, ...). */
int il__signal_core_set(il_loop_t *loop, int signum, il_signal_fn cb,
                        void *arg);
int il__sigchain_start(il_loop_t *loop, il__sigw_t *s);
void il__sigchain_stop(il_loop_t *loop, il__sigw_t *s);

/* core/backend_loader.c */
extern const il_backend_ops_t il__builtin_ops;
extern const il_backend_ops_t il__builtin_poll_ops;
void il__set_last_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int il__backend_validate(const il_backend_ops_t *ops, const char *where);

/* core/loop.c: schedules cb(loop, arg) like il_loop_call_soon() without its
 * checks (the caller is on the loop thread), as a handle of `kind`
 * (IL__H_SOON or IL__H_FUTCB). `held`, if not NULL, receives a reference
 * held by the core (il__handle_mark_internal; released with
 * il_handle_release). IL_ECLOSED or IL_ENOMEM. */
int il__schedule(il_loop_t *loop, il_callback_fn cb, void *arg, uint8_t kind,
                 il_handle_t **held);

/* core/loop.c: keep the backend told about dispatch-soon and the timer
 * after the core changed either outside a dispatch. */
void il__loop_sync_backend(il_loop_t *loop);

#endif /* IL__INTERNAL_H */
