/* interloop/process.h — pipe transports and child processes. See
 * spec/SPEC.md §13.
 *
 * asyncio's connect_read_pipe / connect_write_pipe and subprocess_exec /
 * subprocess_shell, built in the core on fd readiness, so they behave the
 * same on every backend, owned or adopted. Functions that wait
 * (il_process_*) must be called from inside a task; the others are for the
 * loop thread (IL_EWRONGTHREAD otherwise). */
#ifndef INTERLOOP_PROCESS_H
#define INTERLOOP_PROCESS_H

#include "common.h"
#include "future.h"
#include "loop.h"
#include "stream.h"
#include "transport.h"

IL_BEGIN_DECLS

/* ---- pipe transports ------------------------------------------------------
 */

/* Wraps the read end of a pipe, a FIFO, a character device (a terminal, a
 * PTY master) or a socket as a read-only transport. The protocol gets
 * connection_made (from the loop), data_received, eof_received at end of
 * file (its return value is ignored: a read pipe closes after EOF), then
 * connection_lost (0 after EOF, else the read error). On a terminal, EIO
 * (the other side of a PTY is gone) is end of file. Writing returns
 * IL_ENOTSUP; pause_reading / resume_reading work as on sockets.
 * The fd is made non-blocking and close-on-exec and belongs to the
 * transport (closed with it). *out (may be NULL) receives the transport,
 * held by the core until connection_lost (il_transport_ref to keep it).
 * Errors (the fd is left open and as it was): IL_EINVAL (NULL loop or
 * protocol, fd < 0, a regular file or directory), IL_EBADF, IL_EPERM (the
 * fd cannot be watched for readiness), IL_ECLOSED, IL_ENOMEM,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_connect_read_pipe(il_loop_t *loop, int fd,
                                   const il_protocol_t *proto, void *ud,
                                   il_transport_t **out);

/* Wraps the write end of a pipe, a FIFO, a character device or a socket as
 * a write-only transport: write, writev, flow control, close (flushes),
 * abort (drops), write_eof (close after the buffer is flushed). Reading
 * calls return IL_ENOTSUP. When the reading end goes away the transport is
 * lost: at the next write (IL_EPIPE), and for a pipe, FIFO or socket also
 * while idle (connection_lost(0) with nothing buffered, IL_EPIPE with data
 * still buffered). Writing never raises SIGPIPE: the signal is blocked in
 * the calling thread around each write and a SIGPIPE the write raised is
 * discarded. Fd ownership and errors as il_connect_read_pipe. */
IL_EXTERN int il_connect_write_pipe(il_loop_t *loop, int fd,
                                    const il_protocol_t *proto, void *ud,
                                    il_transport_t **out);

/* ---- subprocesses ----------------------------------------------------------
 */

typedef struct il_subprocess il_subprocess_t;

/* What a child's stdin (0), stdout (1) or stderr (2) is connected to. */
typedef enum il_stdio {
  IL_STDIO_PIPE = 0,    /* a pipe to this process (the default) */
  IL_STDIO_INHERIT = 1, /* this process's own fd of the same number */
  IL_STDIO_DEVNULL = 2, /* /dev/null */
  IL_STDIO_STDOUT = 3,  /* stderr only: wherever the child's stdout goes */
  IL_STDIO_FD = 4       /* the caller's fd in stdio_fd[i] (the caller keeps
                           it; the child gets a copy) */
} il_stdio_t;

/* il_subprocess_options_t.flags */
#define IL_SPAWN_SETSID 0x1u /* the child starts a new session */
#define IL_SPAWN_SETPGID                                                       \
  0x2u /* the child joins process group `pgid` (0: a                           \
          new group whose id is the child's pid) */
#define IL_SPAWN_KEEP_FDS                                                      \
  0x4u /* inherited fds without close-on-exec stay                             \
          open in the child (default: closed, except                           \
          0-2 and pass_fds) */

typedef struct il_subprocess_options {
  size_t size;            /* sizeof(il_subprocess_options_t) */
  il_stdio_t stdio[3];    /* stdin, stdout, stderr */
  int stdio_fd[3];        /* with IL_STDIO_FD */
  const char *const *env; /* NULL-terminated "NAME=value" list; NULL: this
                             process's environment */
  const char *cwd;        /* the child's working directory; NULL: ours */
  unsigned flags;         /* IL_SPAWN_* */
  int pgid;               /* with IL_SPAWN_SETPGID */
  const int *pass_fds;    /* fds the child keeps, at the same numbers */
  int npass_fds;
} il_subprocess_options_t;

#define IL_SUBPROCESS_OPTIONS_INIT                                             \
  {                                                                            \
    sizeof(il_subprocess_options_t),                                           \
        {IL_STDIO_PIPE, IL_STDIO_PIPE, IL_STDIO_PIPE}, {-1, -1, -1}, NULL,     \
        NULL, 0u, 0, NULL, 0                                                   \
  }

/* The application's callbacks for one child, as asyncio's
 * SubprocessProtocol; any member may be NULL. All run on the loop thread,
 * never from inside an interloop call the application made. Order:
 * connection_made first; then pipe_data_received / pipe_connection_lost for
 * each piped fd and process_exited, in the order they happen;
 * connection_lost last, once the child has exited and every pipe is closed
 * (or the loop closes). */
typedef struct il_subprocess_protocol {
  size_t size; /* sizeof(il_subprocess_protocol_t) */
  void (*connection_made)(il_subprocess_t *p, void *ud);
  /* `len` > 0 bytes from the child's fd 1 or 2; valid only during the call. */
  void (*pipe_data_received)(il_subprocess_t *p, int fd, const void *data,
                             size_t len, void *ud);
  /* The pipe of the child's fd 0, 1 or 2 is closed: 0 (EOF, or closed by
   * us), else its error (IL_EPIPE: the child closed its stdin while data
   * was still buffered). */
  void (*pipe_connection_lost)(il_subprocess_t *p, int fd, int error, void *ud);
  /* The child exited or was killed: il_subprocess_returncode now says how. */
  void (*process_exited)(il_subprocess_t *p, void *ud);
  /* The last call: 0, or IL_ECLOSED when the loop was closed first. */
  void (*connection_lost)(il_subprocess_t *p, int error, void *ud);
  /* Flow control of the child's stdin pipe (as il_protocol_t's). */
  void (*pause_writing)(il_subprocess_t *p, void *ud);
  void (*resume_writing)(il_subprocess_t *p, void *ud);
} il_subprocess_protocol_t;

/* Starts argv[0] with arguments argv (NULL-terminated). A program name
 * without '/' is looked up in this process's PATH. The child starts with an
 * empty signal mask; every fd interloop opens is close-on-exec, and other
 * inherited fds are closed unless IL_SPAWN_KEEP_FDS (see the options).
 * *out receives a future (the caller's reference) that completes, after
 * the protocol's connection_made, with the process (a reference the future
 * holds: il_subprocess_ref to keep it), or fails with the reason the child
 * could not start: IL_ENOENT, IL_EACCES, IL_ENOEXEC, IL_ENOTDIR, ... (the
 * errno of exec or of chdir to `cwd`, never a child that exits with 127),
 * IL_EMFILE (no fds for the pipes). Cancelling the future before it
 * completes closes the process (il_subprocess_close). `opts` may be NULL
 * (every fd piped). The protocol is copied. Errors returned at once:
 * IL_EINVAL (NULL loop, argv, argv[0], proto or out; a bad option),
 * IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD, IL_ENOTSUP (the loop cannot watch
 * children: no pidfd and no signal support). */
IL_EXTERN int il_subprocess_exec(il_loop_t *loop, const char *const *argv,
                                 const il_subprocess_options_t *opts,
                                 const il_subprocess_protocol_t *proto,
                                 void *ud, il_future_t **out);

/* As il_subprocess_exec of {"/bin/sh", "-c", cmd}, as asyncio does (so a
 * cmd that begins with '-' is read as an option of sh). */
IL_EXTERN int il_subprocess_shell(il_loop_t *loop, const char *cmd,
                                  const il_subprocess_options_t *opts,
                                  const il_subprocess_protocol_t *proto,
                                  void *ud, il_future_t **out);

/* The child's pid; IL_EINVAL for NULL. Any thread. */
IL_EXTERN int il_subprocess_pid(const il_subprocess_t *p);

/* 1 once the child has exited, with *returncode its exit status (0..255)
 * or minus the number of the signal that killed it; 0 while it runs.
 * IL_EINVAL for NULL p or returncode. Loop thread. */
IL_EXTERN int il_subprocess_returncode(const il_subprocess_t *p,
                                       int *returncode);

/* Sends `signum` to the child. IL_ESRCH once the child has exited (its pid
 * may already belong to another process, so nothing is sent), IL_EINVAL
 * (NULL, a bad signal number), IL_EWRONGTHREAD. */
IL_EXTERN int il_subprocess_send_signal(il_subprocess_t *p, int signum);
/* il_subprocess_send_signal(p, SIGTERM). */
IL_EXTERN int il_subprocess_terminate(il_subprocess_t *p);
/* il_subprocess_send_signal(p, SIGKILL). */
IL_EXTERN int il_subprocess_kill(il_subprocess_t *p);

/* The pipe transport of the child's fd 0 (write), 1 or 2 (read); NULL when
 * that fd is not piped (or p is NULL). It stays valid as long as p does:
 * use it for flow control (pause_reading), write_eof, get_write_buffer_size.
 * Loop thread. */
IL_EXTERN il_transport_t *il_subprocess_get_pipe_transport(il_subprocess_t *p,
                                                           int fd);

/* Closes every pipe (stdin is flushed first) and, if the child still runs,
 * kills it with SIGKILL; the child is still reaped, then connection_lost
 * follows. A second call does nothing. Returns 0; IL_EINVAL, IL_EWRONGTHREAD.
 */
IL_EXTERN int il_subprocess_close(il_subprocess_t *p);

/* 1 after il_subprocess_close or once connection_lost was called, else 0. */
IL_EXTERN int il_subprocess_is_closing(const il_subprocess_t *p);

/* A new future (the caller's reference) that completes with the return code
 * as (intptr_t) value when the child exits, at once if it has. It does not
 * wait for the pipes. Errors: IL_EINVAL, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_subprocess_wait(il_subprocess_t *p, il_future_t **out);

/* The loop of p; NULL for NULL. */
IL_EXTERN il_loop_t *il_subprocess_loop(const il_subprocess_t *p);

/* Takes / drops a reference. The core holds the process from the spawn
 * until connection_lost has returned; the last reference frees it (its
 * pipe transports with it). ref returns p. NULL-safe. Loop thread. */
IL_EXTERN il_subprocess_t *il_subprocess_ref(il_subprocess_t *p);
/* See il_subprocess_ref. */
IL_EXTERN void il_subprocess_unref(il_subprocess_t *p);

/* ---- reaping ----------------------------------------------------------------
 */

/* How a loop learns that its children exited. */
typedef enum il_child_watcher {
  IL_CHILD_WATCHER_AUTO = 0,   /* pidfd when the kernel has it, else SIGCHLD */
  IL_CHILD_WATCHER_PIDFD = 1,  /* one pidfd per child, watched for reading */
  IL_CHILD_WATCHER_SIGCHLD = 2 /* a SIGCHLD handler on the loop */
} il_child_watcher_t;

/* Chooses the loop's child watcher. Either way interloop reaps only its
 * own children, each by its pid (waitpid(pid, ..., WNOHANG)), never
 * waitpid(-1): other children of the application keep their exit statuses.
 * In return the application must not reap interloop's children (wait(),
 * waitpid(-1), SIGCHLD set to SIG_IGN): a child reaped elsewhere is
 * reported to the error handler (IL_ECHILD) and gets return code 255.
 * Only while the loop has no child: IL_EBUSY otherwise. IL_ENOTSUP: pidfd
 * on a kernel without it, SIGCHLD on a backend without signals. IL_EINVAL,
 * IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_loop_set_child_watcher(il_loop_t *loop, il_child_watcher_t w);

/* The watcher the loop uses (AUTO resolved: PIDFD or SIGCHLD); IL_EINVAL
 * for NULL. */
IL_EXTERN int il_loop_get_child_watcher(il_loop_t *loop);

/* ---- for tasks
 * ---------------------------------------------------------------- */

/* What il_process_run gives back; free it with il_process_result_free.
 * Always start from IL_PROCESS_RESULT_INIT: il_process_run refuses a result
 * whose `size` is not set (IL_EINVAL, the struct untouched), and freeing an
 * uninitialised one frees garbage. */
typedef struct il_process_result {
  size_t size;    /* sizeof(il_process_result_t) */
  int returncode; /* as il_subprocess_returncode */
  char *out;      /* captured stdout, NUL-terminated (NULL: not piped) */
  size_t out_len;
  char *err; /* captured stderr, NUL-terminated (NULL: not piped) */
  size_t err_len;
} il_process_result_t;

#define IL_PROCESS_RESULT_INIT                                                 \
  { sizeof(il_process_result_t), 0, NULL, 0, NULL, 0 }

typedef struct il_process_run_options {
  size_t size; /* sizeof(il_process_run_options_t) */
  /* NULL: stdin is /dev/null (a pipe when `input` is given), stdout and
   * stderr are captured. Piped stdout / stderr are captured. */
  const il_subprocess_options_t *spawn;
  const void *input; /* written to a piped stdin, which is then closed */
  size_t input_len;
  size_t limit;   /* bytes kept of each of stdout and stderr; 0: 16 MiB */
  double timeout; /* > 0: the child is killed (SIGKILL) after this long */
} il_process_run_options_t;

#define IL_PROCESS_RUN_OPTIONS_INIT                                            \
  { sizeof(il_process_run_options_t), NULL, NULL, 0, 0, 0.0 }

/* Task: runs argv to its end, feeding `input` and capturing output, and
 * fills *result. `opts` may be NULL (the defaults above). Returns 0; IL_ELIMIT when output beyond `limit` was
 * dropped (the child still ran to its end; *result is filled);
 * IL_ETIMEDOUT when the timeout killed it (*result is filled); the spawn
 * errors of il_subprocess_exec (*result zeroed: its previous contents are
 * overwritten, not freed); IL_ECANCELED (the task was
 * cancelled: the child is killed and reaped in the background, *result
 * zeroed); IL_ENOTASK, IL_EINVAL (NULL loop, argv, argv[0] or result; a
 * result whose size does not cover its members up to err_len; input with
 * stdin not piped). */
IL_EXTERN int il_process_run(il_loop_t *loop, const char *const *argv,
                             const il_process_run_options_t *opts,
                             il_process_result_t *result);

/* Frees what il_process_run put in *result and zeroes it (keeping size).
 * NULL-safe. */
IL_EXTERN void il_process_result_free(il_process_result_t *result);

/* Task: starts argv as il_subprocess_exec (`opts` may be NULL: every fd
 * piped) and gives its piped fds as streams: *in writes to the child's stdin, *out and *err read its stdout
 * and stderr (NULL for an fd that is not piped; each pointer argument may
 * be NULL when that fd is not piped). `limit` as il_stream_options_t's (0:
 * 64 KiB). The caller owns *proc (il_subprocess_unref) and the streams
 * (il_stream_release each; closing *in sends EOF to the child). Read *out
 * and *err at the same time (a task each): a child blocked writing to a
 * full stderr pipe never finishes its stdout. Errors:
 * those of il_subprocess_exec and its future, IL_EINVAL (a piped fd's
 * pointer is NULL), IL_ENOTASK, IL_ECANCELED (the child is closed). */
IL_EXTERN int il_process_open(il_loop_t *loop, const char *const *argv,
                              const il_subprocess_options_t *opts, size_t limit,
                              il_subprocess_t **proc, il_stream_writer_t **in,
                              il_stream_reader_t **out,
                              il_stream_reader_t **err);

/* Task: waits for the child to exit and gives its return code. Returns 0;
 * IL_ECANCELED (the task was cancelled; the child is left alone),
 * IL_ENOTASK, IL_EINVAL. */
IL_EXTERN int il_process_wait(il_subprocess_t *p, int *returncode);

IL_END_DECLS

#endif /* INTERLOOP_PROCESS_H */
