/* core/executor.c — the loop's pool of worker threads (SPEC §12).
 *
 * Jobs wait in a FIFO under the pool's mutex and workers take them from the
 * front. A finished job goes on the pool's done list; the job that finds the
 * list empty posts one il_loop_call_soon_threadsafe callback, which hands
 * the whole list to the futures on the loop thread: a burst of completions
 * costs one wakeup.
 *
 * Cancellation rides on a done-callback on the job's future. It runs on the
 * loop thread in the pass after the future became done; a job no worker has
 * taken by then leaves the queue and its function never runs. A job already
 * taken runs to the end and its result is destroyed when it comes back.
 *
 * Threads start lazily: a queued job that no idle worker will take starts
 * one, up to the limit. A worker idle for IL__EXECUTOR_IDLE_S seconds exits
 * (the loop thread joins it at its next submit, or at close), so a pool that
 * went quiet holds no threads. Workers block every signal: signal handling
 * stays on the loop thread.
 *
 * Each job is in the pool's `all` list (loop thread only) from submit until
 * freed, so close can cancel and free every one of them once the workers are
 * joined, whatever state it was in. */
#include "transport_internal.h"

#include <interloop/executor.h>
#include <interloop/future.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define IL__EXECUTOR_IDLE_S 10
#define IL__EXECUTOR_THREADS_MAX 256


enum il__job_state {
  IL__J_QUEUED = 0, /* in the queue */
  IL__J_RUNNING,    /* a worker runs it */
  IL__J_DONE,       /* on the done list, outcome not yet delivered */
  IL__J_DROPPED,    /* left the queue without running */
  IL__J_DELIVERED   /* outcome delivered; waiting for the done-callback that
                       was already scheduled (it frees the job) */
};

typedef struct il__executor il__executor_t;

typedef struct il__job {
  struct il__job *next, *prev;         /* queue or done list (under mu) */
  struct il__job *all_next, *all_prev; /* the pool's jobs (loop thread) */
  il__executor_t *ex;
  il_executor_fn fn; /* the application's job, or */
  il__job_fn ifn;    /* the core's */
  void *arg;
  il_destructor_fn arg_dtor; /* the core's jobs: frees arg with the job */
  il_future_t *fut;          /* the job's reference */
  /* the outcome, written under mu when the job is done */
  void *result;
  il_destructor_fn dtor;
  const char *message;
  int rc;
  int state;  /* enum il__job_state; under mu */
  int hooked; /* job_future_done registered and not run (loop thread) */
} il__job_t;

typedef struct il__worker {
  struct il__worker *next;
  il__executor_t *ex;
  pthread_t tid;
  int exited; /* under mu: the thread left its loop; join it */
} il__worker_t;

struct il__executor {
  il_loop_t *loop;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* workers wait here for jobs */
  /* under mu */
  il__job_t *qhead, *qtail;
  size_t nqueued;
  il__job_t *dhead, *dtail;
  il__worker_t *workers;
  int nexited;  /* workers exited, not yet joined */
  int nthreads; /* workers that still take jobs */
  int nidle;    /* workers waiting on cv */
  int max;
  int stopping; /* close: workers exit once the queue is empty */
  int posted;   /* deliver_cb is queued on the loop */
  /* loop thread only */
  il__job_t *all;
  int reported; /* a failed thread start was reported */
  unsigned gen; /* fork generation the threads belong to */
};

/* ---- fork ----------------------------------------------------------------
 * A child process has none of the parent's workers. The pool notices at its
 * next use from the loop thread and starts over (pool_after_fork). */
static atomic_uint fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) {
  atomic_fetch_add(&fork_gen, 1);
}

static void atfork_register(void) {
  pthread_atfork(NULL, NULL, on_fork_child);
}

/* ---- lists ----------------------------------------------------------------
 */

static void queue_push(il__executor_t *ex, il__job_t *job) {
  job->next = NULL;
  job->prev = ex->qtail;
  if (ex->qtail)
    ex->qtail->next = job;
  else
    ex->qhead = job;
  ex->qtail = job;
  ex->nqueued++;
}

static void queue_unlink(il__executor_t *ex, il__job_t *job) {
  if (job->prev)
    job->prev->next = job->next;
  else
    ex->qhead = job->next;
  if (job->next)
    job->next->prev = job->prev;
  else
    ex->qtail = job->prev;
  job->next = job->prev = NULL;
  ex->nqueued--;
}

static int deliver_cb(il_loop_t *loop, void *arg);

/* Under mu: the job is done; make sure the loop thread will deliver it. */
static void done_push(il__executor_t *ex, il__job_t *job) {
  job->state = IL__J_DONE;
  job->next = NULL;
  if (ex->dtail)
    ex->dtail->next = job;
  else
    ex->dhead = job;
  ex->dtail = job;
  /* On failure (out of memory) the next completion or submit tries again. */
  if (!ex->posted &&
      il_loop_call_soon_threadsafe(ex->loop, deliver_cb, ex) == 0)
    ex->posted = 1;
}

static void all_link(il__executor_t *ex, il__job_t *job) {
  job->all_prev = NULL;
  job->all_next = ex->all;
  if (ex->all)
    ex->all->all_prev = job;
  ex->all = job;
}

static void all_unlink(il__executor_t *ex, il__job_t *job) {
  if (job->all_prev)
    job->all_prev->all_next = job->all_next;
  else
    ex->all = job->all_next;
  if (job->all_next)
    job->all_next->all_prev = job->all_prev;
}

/* ---- workers ------------------------------------------------------------- */

/* Under mu: waits for work. Returns 0 when the worker sat idle too long. */
static int wait_for_work(il__executor_t *ex) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += IL__EXECUTOR_IDLE_S;
  int rc = 0;
  ex->nidle++;
  while (!ex->qhead && !ex->stopping && ex->nthreads <= ex->max &&
         rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&ex->cv, &ex->mu, &deadline);
  ex->nidle--;
  return rc != ETIMEDOUT || ex->qhead != NULL;
}

static void *worker_main(void *arg) {
  il__worker_t *w = arg;
  il__executor_t *ex = w->ex;
  pthread_mutex_lock(&ex->mu);
  for (;;) {
    if (ex->nthreads > ex->max) /* the limit was lowered */
      break;
    il__job_t *job = ex->qhead;
    if (!job) {
      if (ex->stopping || !wait_for_work(ex))
        break;
      continue;
    }
    queue_unlink(ex, job);
    job->state = IL__J_RUNNING;
    pthread_mutex_unlock(&ex->mu);

    void *result = NULL;
    il_destructor_fn dtor = NULL;
    const char *message = NULL;
    int rc = job->ifn ? job->ifn(job->arg, &result, &dtor, &message)
                      : job->fn(job->arg, &result, &dtor);

    pthread_mutex_lock(&ex->mu);
    job->rc = rc;
    job->result = result;
    job->dtor = dtor;
    job->message = message;
    done_push(ex, job);
  }
  ex->nthreads--;
  ex->nexited++;
  w->exited = 1;
  pthread_mutex_unlock(&ex->mu);
  return NULL;
}

/* Starts one worker with every signal blocked (the mask is inherited, so no
 * signal can reach the thread before it runs). Returns 0 or an errno. */
static int start_worker(il__executor_t *ex) {
  il__worker_t *w = calloc(1, sizeof(*w));
  if (!w)
    return ENOMEM;
  w->ex = ex;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&w->tid, NULL, worker_main, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    free(w);
    return rc;
  }
  pthread_mutex_lock(&ex->mu);
  w->next = ex->workers;
  ex->workers = w;
  pthread_mutex_unlock(&ex->mu);
  return 0;
}

/* Joins the workers that exited (all of them when `all`: close, after
 * `stopping` was set). */
static void join_workers(il__executor_t *ex, int all) {
  il__worker_t *done = NULL;
  pthread_mutex_lock(&ex->mu);
  if (all || ex->nexited) {
    for (il__worker_t **link = &ex->workers; *link;) {
      il__worker_t *w = *link;
      if (all || w->exited) {
        *link = w->next;
        w->next = done;
        done = w;
      } else {
        link = &w->next;
      }
    }
    ex->nexited = 0;
  }
  pthread_mutex_unlock(&ex->mu);
  while (done) {
    il__worker_t *next = done->next;
    pthread_join(done->tid, NULL);
    free(done);
    done = next;
  }
}

/* Starts workers until each queued job has one that will take it, within
 * the limit. Returns 0, or the errno of a failed start that left the pool
 * with no worker at all. A failure while others run is reported once. */
static int pool_grow(il__executor_t *ex) {
  join_workers(ex, 0);
  for (int started = 0;; started++) {
    pthread_mutex_lock(&ex->mu);
    int need =
        ex->nqueued > (size_t)(ex->nidle + started) && ex->nthreads < ex->max;
    if (need)
      ex->nthreads++; /* reserved: a concurrent check counts it */
    pthread_mutex_unlock(&ex->mu);
    if (!need)
      return 0;
    int err = start_worker(ex);
    if (err == 0)
      continue;
    pthread_mutex_lock(&ex->mu);
    int none = --ex->nthreads == 0;
    pthread_mutex_unlock(&ex->mu);
    if (none)
      return err;
    if (!ex->reported) {
      ex->reported = 1;
      il__report(ex->loop, il_translate_sys_error(err), IL_SOURCE_EXECUTOR,
                 "executor: could not start a worker thread; the running "
                 "ones carry on",
                 NULL, NULL, -1);
    }
    return 0;
  }
}

/* ---- the loop thread's side ---------------------------------------------- */

static int job_future_done(il_future_t *f, void *arg);

static void job_drop_result(il__job_t *job) {
  if (job->dtor)
    job->dtor(job->result);
  job->result = NULL;
  job->dtor = NULL;
}

static void job_free(il__executor_t *ex, il__job_t *job) {
  all_unlink(ex, job);
  il_future_unref(job->fut);
  if (job->arg_dtor)
    job->arg_dtor(job->arg);
  free(job);
}

/* Withdraws job_future_done if it has not been scheduled yet. */
static void job_unhook(il__job_t *job) {
  if (job->hooked &&
      il_future_remove_done_callback(job->fut, job_future_done, job) > 0)
    job->hooked = 0;
}

/* Hands the outcome to the future, or destroys the result when the future
 * was already done (cancelled) and cannot take it. */
static void job_settle(il__job_t *job) {
  il_future_t *f = job->fut;
  if (!il_future_done(f)) {
    if (job->rc >= 0) {
      if (il_future_set_result(f, job->result, job->dtor) == 0) {
        job->result = NULL;
        job->dtor = NULL;
      }
    } else if (job->rc == IL_ECANCELED) {
      il_future_cancel(f, job->message);
    } else if (il_future_set_error(f, job->rc, job->message) < 0) {
      il_future_set_error(f, job->rc, NULL); /* no memory for the message */
    }
  }
  job_drop_result(job);
}

static void job_deliver(il__executor_t *ex, il__job_t *job) {
  ex->loop->stats.executor_jobs--;
  job_unhook(job);
  job_settle(job);
  if (job->hooked) /* already scheduled: it frees the job */
    job->state = IL__J_DELIVERED;
  else
    job_free(ex, job);
}

static int deliver_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il__executor_t *ex = arg;
  pthread_mutex_lock(&ex->mu);
  il__job_t *job = ex->dhead;
  ex->dhead = ex->dtail = NULL;
  ex->posted = 0;
  pthread_mutex_unlock(&ex->mu);
  while (job) {
    il__job_t *next = job->next;
    job_deliver(ex, job);
    job = next;
  }
  return 0;
}

/* The future became done before the job's outcome arrived (cancelled, or
 * completed by someone else), or after, in the same pass. */
static int job_future_done(il_future_t *f, void *arg) {
  IL__UNUSED(f);
  il__job_t *job = arg;
  il__executor_t *ex = job->ex;
  job->hooked = 0;
  pthread_mutex_lock(&ex->mu);
  int state = job->state;
  if (state == IL__J_QUEUED) {
    queue_unlink(ex, job);
    job->state = IL__J_DROPPED;
  }
  pthread_mutex_unlock(&ex->mu);
  if (state == IL__J_QUEUED)
    ex->loop->stats.executor_jobs--;
  if (state == IL__J_QUEUED || state == IL__J_DELIVERED)
    job_free(ex, job);
  /* RUNNING or DONE: job_deliver destroys the result and frees it. */
  return 0;
}

/* The workers' condition variable: idle timeouts on the monotonic clock. */
static int cond_init(pthread_cond_t *cv) {
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0)
    return -1;
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(cv, &ca);
  pthread_condattr_destroy(&ca);
  return rc;
}

/* In a forked child: the workers are gone and the pool's locks may have been
 * held by them. Jobs they were running are finished as cancelled; queued
 * jobs wait for new workers. */
static void pool_after_fork(il__executor_t *ex) {
  ex->gen = atomic_load(&fork_gen);
  pthread_mutex_init(&ex->mu, NULL);
  cond_init(&ex->cv);
  while (ex->workers) {
    il__worker_t *w = ex->workers;
    ex->workers = w->next;
    free(w);
  }
  ex->nexited = ex->nthreads = ex->nidle = 0;
  /* Deliver through the loop's own queue: the thread-safe one is only
   * usable again once the application called il_loop_fork. */
  ex->posted = 1;
  for (il__job_t *job = ex->all; job; job = job->all_next) {
    if (job->state != IL__J_RUNNING)
      continue;
    job->rc = IL_ECANCELED;
    job->result = NULL;
    job->dtor = NULL;
    job->message = "the process forked while the job ran";
    done_push(ex, job);
  }
  ex->posted = ex->dhead &&
               il__schedule(ex->loop, deliver_cb, ex, IL__H_SOON, NULL) == 0;
}

/* The loop's pool, created on first use (without threads). */
static int pool_get(il_loop_t *loop, il__executor_t **out) {
  il__executor_t *ex = loop->executor;
  if (ex) {
    if (IL__UNLIKELY(ex->gen != atomic_load(&fork_gen)))
      pool_after_fork(ex);
    *out = ex;
    return 0;
  }
  pthread_once(&atfork_once, atfork_register);
  if (!(ex = calloc(1, sizeof(*ex))))
    return IL_ENOMEM;
  if (cond_init(&ex->cv) != 0) {
    free(ex);
    return IL_ENOMEM;
  }
  if (pthread_mutex_init(&ex->mu, NULL) != 0) {
    pthread_cond_destroy(&ex->cv);
    free(ex);
    return IL_ENOMEM;
  }
  ex->loop = loop;
  ex->max = IL_EXECUTOR_THREADS_DEFAULT;
  ex->gen = atomic_load(&fork_gen);
  loop->executor = ex;
  *out = ex;
  return 0;
}

/* Queues a job; both entry points end here. On failure nothing is left
 * behind and arg stays the caller's. */
static int submit(il_loop_t *loop, il_executor_fn fn, il__job_fn ifn, void *arg,
                  il_destructor_fn arg_dtor, il_future_t **out) {
  if (out)
    *out = NULL;
  if (!out || (!fn && !ifn))
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  il__executor_t *ex;
  if (rc < 0 || (rc = pool_get(loop, &ex)) < 0)
    return rc;
  il__job_t *job = calloc(1, sizeof(*job));
  if (!job)
    return IL_ENOMEM;
  il_future_t *f = NULL;
  if ((rc = il_future_new(loop, &f)) < 0 ||
      (rc = il_future_add_done_callback(f, job_future_done, job)) < 0) {
    il_future_unref(f);
    free(job);
    return rc;
  }
  job->ex = ex;
  job->fn = fn;
  job->ifn = ifn;
  job->arg = arg;
  job->fut = il_future_ref(f);
  job->hooked = 1;
  all_link(ex, job);
  pthread_mutex_lock(&ex->mu);
  queue_push(ex, job);
  if (ex->nidle)
    pthread_cond_signal(&ex->cv);
  pthread_mutex_unlock(&ex->mu);
  int err = pool_grow(ex);
  if (err != 0) {
    /* No worker at all: nobody can have taken the job. */
    pthread_mutex_lock(&ex->mu);
    queue_unlink(ex, job);
    pthread_mutex_unlock(&ex->mu);
    job_unhook(job);
    job_free(ex, job); /* arg_dtor not set yet: arg stays the caller's */
    il_future_unref(f);
    return err == ENOMEM ? IL_ENOMEM : IL_EAGAIN;
  }
  job->arg_dtor = arg_dtor;
  loop->stats.executor_jobs++;
  *out = f;
  return 0;
}

int il__executor_submit(il_loop_t *loop, il__job_fn fn, void *arg,
                        il_destructor_fn arg_dtor, il_future_t **out) {
  return submit(loop, NULL, fn, arg, arg_dtor, out);
}

int il_loop_run_in_executor(il_loop_t *loop, il_executor_fn fn, void *arg,
                            il_future_t **out) {
  return submit(loop, fn, NULL, arg, NULL, out);
}

int il_loop_set_executor_threads(il_loop_t *loop, int n) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (n < 1 || n > IL__EXECUTOR_THREADS_MAX)
    return IL_EINVAL;
  il__executor_t *ex;
  if ((rc = pool_get(loop, &ex)) < 0)
    return rc;
  pthread_mutex_lock(&ex->mu);
  ex->max = n;
  pthread_cond_broadcast(&ex->cv); /* workers above the limit exit */
  pthread_mutex_unlock(&ex->mu);
  pool_grow(ex); /* a raised limit serves the queued jobs at once */
  return 0;
}

void il__executor_close(il_loop_t *loop) {
  il__executor_t *ex = loop->executor;
  if (!ex)
    return;
  if (ex->gen != atomic_load(&fork_gen))
    pool_after_fork(ex);
  pthread_mutex_lock(&ex->mu);
  ex->stopping = 1;
  for (il__job_t *job = ex->qhead; job; job = job->next)
    job->state = IL__J_DROPPED;
  ex->qhead = ex->qtail = NULL;
  ex->nqueued = 0;
  pthread_cond_broadcast(&ex->cv);
  pthread_mutex_unlock(&ex->mu);
  join_workers(ex, 1); /* the running jobs finish first */
  /* Quiet now: no thread touches the pool any more. */
  while (ex->all) {
    il__job_t *job = ex->all;
    job_unhook(job);
    if (job->state != IL__J_DELIVERED)
      loop->stats.executor_jobs--;
    if (!il_future_done(job->fut))
      il_future_cancel(job->fut, "loop closed");
    job_drop_result(job);
    job_free(ex, job);
  }
  pthread_cond_destroy(&ex->cv);
  pthread_mutex_destroy(&ex->mu);
  free(ex);
  loop->executor = NULL;
}
