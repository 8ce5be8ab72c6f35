/* core/subprocess_internal.h — the subprocess object, shared by
 * subprocess.c (spawning, reaping, the protocol) and process_task.c (the
 * task-level helpers). */
#ifndef IL__SUBPROCESS_INTERNAL_H
#define IL__SUBPROCESS_INTERNAL_H

#include "transport_internal.h"

#include <interloop/process.h>

#include <sys/types.h>

struct il_subprocess {
  il_loop_t *loop;
  il_subprocess_t *prev, *next;   /* the loop's processes (until freed) */
  il_subprocess_protocol_t proto; /* copied */
  void *ud;
  pid_t pid;
  int pidfd;                /* pidfd watcher, -1 (SIGCHLD, or reaped) */
  il_transport_t *pipes[3]; /* our references; NULL: fd not piped */
  uint8_t pipe_open[3];     /* that pipe's connection_lost not yet */
  uint32_t refs;            /* the core's (until finished) + others */
  int returncode;           /* once exited */
  il_future_t *start;       /* the exec future, until connection_made */
  il_future_t **waiters;    /* il_subprocess_wait futures (our refs) */
  size_t nwaiters, capwaiters;
  uint8_t made;         /* connection_made ran */
  uint8_t exited;       /* reaped: returncode is set */
  uint8_t exit_pending; /* reaped before connection_made: not told yet */
  uint8_t finished;     /* connection_lost called */
  uint8_t closing;      /* il_subprocess_close, or finished */
  uint8_t sigchld;      /* watched through the loop's SIGCHLD handler */
  uint8_t loop_closed;  /* il_loop_close got here first */
};

/* Per piped fd (0..2): a protocol to use instead of forwarding to the
 * subprocess protocol (NULL: forward), its ud, and a hook told the pipe's
 * transport right after it is created. */
typedef struct il__pipe_protos {
  const il_protocol_t *proto[3];
  void *ud[3];
  void (*made[3])(void *ud, il_transport_t *t);
} il__pipe_protos_t;

/* Spawns synchronously: *out receives the process (the core's reference;
 * take one to keep it). connection_made is queued. Errors: IL_EINVAL (bad
 * options), IL_ENOMEM, IL_ENOTSUP (no child watcher), and the child's start
 * failure (IL_ENOENT, IL_EACCES, ...: no process is left behind). The loop
 * has been checked by the caller. */
int il__subprocess_spawn(il_loop_t *loop, const char *const *argv,
                         const il_subprocess_options_t *opts,
                         const il_subprocess_protocol_t *proto, void *ud,
                         const il__pipe_protos_t *pp, il_subprocess_t **out);

/* The spawn could not be completed after the process object existed: no
 * callback of its protocol runs; its pipes are aborted. Drops the core's
 * reference. */
void il__subprocess_abandon(il_subprocess_t *p);

/* Loop close, before the transports': connection_made if it has not run,
 * then every child still running is killed (SIGKILL) and reaped; its
 * connection_lost reports IL_ECLOSED. */
void il__procs_close(il_loop_t *loop);

/* stream.c: a stream object to be a pipe transport's protocol (*proto, ud:
 * the object). Held by the caller (il_stream_release on its reader/writer);
 * il__stream_attach(obj, t) once the transport exists. NULL: no memory. */
void *il__stream_for_pipe(il_loop_t *loop, size_t limit,
                          const il_protocol_t **proto);
void il__stream_attach(void *obj, il_transport_t *t);
il_stream_reader_t *il__stream_reader(void *obj);
il_stream_writer_t *il__stream_writer(void *obj);

#endif /* IL__SUBPROCESS_INTERNAL_H */
