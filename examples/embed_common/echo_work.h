/* examples/embed_common/echo_work.h — the interloop work the embed examples
 * run inside an application's own event loop: an echo server and an echo
 * client, as tasks and streams over TCP on 127.0.0.1.
 *
 * Written once against <interloop/interloop.h> and compiled once: it never
 * includes an engine header and never asks which backend it runs on. The
 * same object code runs inside libuv (embed_uv), libev (embed_ev) and
 * libevent (embed_event) once each program has adopted its loop; only the
 * programs know their engine.
 *
 *   echo_work_t *work;
 *   il_uv_adopt(&uv, &loop);                    (or il_ev_adopt, ...)
 *   echo_work_start(loop, &native_ticks, &work);
 *   ... the application runs its loop until echo_work_done(work) ...
 *   echo_work_leave_pending(work);
 *   il_loop_close(loop);
 *   echo_work_free(work);
 *   il_loop_free(loop);
 *
 * Output: lines starting "interloop: ", "task: " and "app: closing
 * interloop ..." on stdout; errors on stderr.
 * Threads: every function is for the loop's thread, like interloop's own.
 * Names: echo_work_ for this module (interloop keeps il_ for itself). */
#ifndef ECHO_WORK_H
#define ECHO_WORK_H

#include <interloop/interloop.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ECHO_WORK_ROUNDS 4    /* the client's round trips ... */
#define ECHO_WORK_CHUNK 16384 /* ... of this many bytes each */

typedef struct echo_work echo_work_t;

/* Prints "FAIL: what" on stderr and exits with status 1 when `ok` is 0. The
 * programs use it for their own checks too. Any thread. */
void echo_work_check(int ok, const char *what);

/* Starts the work on `loop`: sets the loop's error handler (it counts the
 * errors, see echo_work_errors), starts an echo server on 127.0.0.1 port 0
 * and spawns the client task. The client first sleeps 0.1 s and prints how
 * far `*native_ticks` (a counter the application's native timer increments;
 * read only, never NULL) moved meanwhile, then makes ECHO_WORK_ROUNDS round
 * trips through the server and half-closes. On success `*out` is the work,
 * the caller's until echo_work_free(). Errors (nothing is left started):
 * IL_EINVAL (NULL argument), IL_ENOMEM, or the error of il_start_server or
 * il_task_spawn. */
int echo_work_start(il_loop_t *loop, const long *native_ticks,
                    echo_work_t **out);

/* 1 once the client task has finished, successfully or not; 0 before. */
int echo_work_done(const echo_work_t *work);

/* 1 if the client task finished with success and every byte came back
 * intact; 0 otherwise (the task printed its error on stderr). */
int echo_work_succeeded(const echo_work_t *work);

/* Bytes that came back intact so far. */
long echo_work_echoed(const echo_work_t *work);

/* Calls of the loop's error handler so far: errors interloop could give to
 * nobody else. Each was also printed on stderr as "interloop error: ...". */
int echo_work_errors(const echo_work_t *work);

/* Prepares closing interloop while it still has work: its echo server still
 * listens, and this adds a timer an hour away (it must never run). Prints
 * what the loop still has and checks (echo_work_check) that it has a server,
 * a timer and a watched fd. Call it after the client is done, before
 * il_loop_close(). */
void echo_work_leave_pending(echo_work_t *work);

/* Releases the server and the client task. Call it after il_loop_close()
 * and before il_loop_free(). NULL is a no-op. */
void echo_work_free(echo_work_t *work);

#ifdef __cplusplus
}
#endif

#endif /* ECHO_WORK_H */
