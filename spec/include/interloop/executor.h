/* interloop/executor.h — running blocking work off the loop thread, and
 * name resolution through it. See spec/SPEC.md §12.
 *
 * Each loop has its own pool of worker threads, started on first use and
 * shut down by il_loop_close. A job's outcome completes a future on the loop
 * thread, through the loop's thread-safe queue. */
#ifndef INTERLOOP_EXECUTOR_H
#define INTERLOOP_EXECUTOR_H

#include "common.h"
#include "future.h"
#include "loop.h"

#include <netdb.h>
#include <sys/socket.h>

IL_BEGIN_DECLS

/* Declared by <netdb.h> only in POSIX mode; named here so strict C builds
 * (-std=c11) can include this header. */
struct addrinfo;

/* A job. Runs on a worker thread: it must not call loop-thread functions.
 * Return 0 and optionally set *result (the future's value) and *dtor (how
 * the value is freed: when the future is freed, or at once if nobody can
 * receive it any more); or return a negative IL_E* code (the future's
 * error). */
typedef int (*il_executor_fn)(void *arg, void **result, il_destructor_fn *dtor);

/* The default number of worker threads (il_loop_set_executor_threads). */
#define IL_EXECUTOR_THREADS_DEFAULT 4

/* Sets the most worker threads the loop's pool runs at once (1..256). Takes
 * effect for jobs submitted later; may be called at any time. Loop thread.
 * Errors: IL_EINVAL (NULL, n out of range), IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_set_executor_threads(il_loop_t *loop, int n);

/* Queues fn(arg) on the loop's pool. *out receives a future (the caller's
 * reference) completed on the loop thread with the job's outcome.
 * Cancelling the future before the job started removes the job (fn never
 * runs); after it started, the job runs to the end and its result is
 * destroyed. il_loop_close cancels every job not started, waits for the
 * running ones (it cannot interrupt them), joins the threads and cancels
 * their futures. Loop thread. Errors: IL_EINVAL (NULL), IL_ECLOSED,
 * IL_ENOMEM, IL_EAGAIN (no worker thread could be started), IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_run_in_executor(il_loop_t *loop, il_executor_fn fn,
                                      void *arg, il_future_t **out);

/* getaddrinfo(3) on the executor. host or service may be NULL (not both);
 * hints may be NULL (AF_UNSPEC, SOCK_STREAM, AI_ADDRCONFIG). The future's
 * value is a `struct addrinfo *` list owned by the future (freed with it:
 * copy what you keep). Failure: IL_EAI, with gai_strerror's text as the
 * error message (il_future_error), or IL_ENOMEM. Loop thread. Errors: as
 * il_loop_run_in_executor. */
IL_EXTERN int il_getaddrinfo(il_loop_t *loop, const char *host,
                             const char *service,
                             const struct addrinfo *hints, il_future_t **out);

/* What il_getnameinfo resolves to. */
typedef struct il_nameinfo {
  char host[1025];   /* NI_MAXHOST */
  char service[32];  /* NI_MAXSERV */
} il_nameinfo_t;

/* getnameinfo(3) on the executor (sa is copied). The future's value is an
 * il_nameinfo_t * owned by the future. Failure: IL_EAI with the message.
 * Loop thread. Errors: IL_EINVAL (NULL, len too big), as
 * il_loop_run_in_executor. */
IL_EXTERN int il_getnameinfo(il_loop_t *loop, const struct sockaddr *sa,
                             socklen_t len, int flags, il_future_t **out);

IL_END_DECLS

#endif /* INTERLOOP_EXECUTOR_H */
