/* core/subprocess.c — child processes (process.h, SPEC §13): spawning,
 * the pipes to the child, reaping, and the subprocess protocol.
 *
 * A child is started with fork + exec; a close-on-exec pipe brings back the
 * errno of a failed exec (or chdir), so the caller's future fails with it
 * instead of a child that exits 127. Its piped fds become pipe transports
 * (transport_stream.c) whose protocol forwards to the subprocess protocol;
 * the transports' on_lost hook tells the process when each pipe is gone.
 *
 * Reaping: one pidfd per child watched for reading (Linux >= 5.3), or the
 * loop's SIGCHLD handler; either way only waitpid(pid, ..., WNOHANG) of our
 * own children, never waitpid(-1).
 *
 * The core holds the process (one reference) from the spawn until
 * connection_lost has returned: that is once the child has been reaped,
 * every pipe is lost, and connection_made has run. */
#include "future_internal.h"
#include "subprocess_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- the child watcher -----------------------------------------------------
 */

/* Whether this kernel has pidfd_open: asked once per process. */
static int pidfd_supported(void) {
  static atomic_int known; /* 0 unknown, 1 yes, 2 no */
  int k = atomic_load(&known);
  if (k == 0) {
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)getpid(), 0u);
    k = fd >= 0 ? 1 : 2;
    if (fd >= 0)
      close(fd);
    atomic_store(&known, k);
  }
  return k == 1;
}

static int resolve_watcher(il_loop_t *loop) {
  if (loop->child_watcher == IL_CHILD_WATCHER_AUTO)
    loop->child_watcher =
        pidfd_supported() ? IL_CHILD_WATCHER_PIDFD : IL_CHILD_WATCHER_SIGCHLD;
  return loop->child_watcher;
}

int il_loop_set_child_watcher(il_loop_t *loop, il_child_watcher_t w) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (w != IL_CHILD_WATCHER_AUTO && w != IL_CHILD_WATCHER_PIDFD &&
      w != IL_CHILD_WATCHER_SIGCHLD)
    return IL_EINVAL;
  for (il_subprocess_t *p = loop->procs; p; p = p->next)
    if (!p->exited)
      return IL_EBUSY;
  if (w == IL_CHILD_WATCHER_PIDFD && !pidfd_supported())
    return IL_ENOTSUP;
  if (w == IL_CHILD_WATCHER_SIGCHLD &&
      (!loop->ops->signal_start || !loop->ops->signal_stop))
    return IL_ENOTSUP;
  loop->child_watcher = (int)w;
  return 0;
}

int il_loop_get_child_watcher(il_loop_t *loop) {
  if (!loop)
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc < 0 && rc != IL_ECLOSED)
    return rc;
  return resolve_watcher(loop);
}

/* ---- lifetime --------------------------------------------------------------
 */

static void proc_free(il_subprocess_t *p) {
  il_loop_t *loop = p->loop;
  for (int i = 0; i < 3; i++)
    if (p->pipes[i])
      il_transport_unref(p->pipes[i]);
  for (size_t i = 0; i < p->nwaiters; i++)
    il_future_unref(p->waiters[i]);
  free(p->waiters);
  if (p->start)
    il_future_unref(p->start);
  if (p->prev)
    p->prev->next = p->next;
  else
    loop->procs = p->next;
  if (p->next)
    p->next->prev = p->prev;
  loop->stats.processes--;
  free(p);
  il__loop_unref(loop);
}

il_subprocess_t *il_subprocess_ref(il_subprocess_t *p) {
  if (p)
    p->refs++;
  return p;
}

void il_subprocess_unref(il_subprocess_t *p) {
  if (p && --p->refs == 0)
    proc_free(p);
}

static void unref_value(void *value) {
  il_subprocess_unref(value);
}

/* connection_lost, once: the child is reaped, every pipe is lost and
 * connection_made has run. Drops the core's reference. */
static void try_finish(il_subprocess_t *p) {
  if (p->finished || !p->exited || !p->made || p->exit_pending)
    return;
  for (int i = 0; i < 3; i++)
    if (p->pipe_open[i])
      return;
  p->finished = 1;
  p->closing = 1;
  if (p->proto.connection_lost)
    p->proto.connection_lost(p, p->loop_closed ? IL_ECLOSED : 0, p->ud);
  il_subprocess_unref(p);
}

/* ---- exit ------------------------------------------------------------------
 */

static int on_sigchld(il_loop_t *loop, int signum, void *arg);

/* Stops watching p (pidfd, or its share of the loop's SIGCHLD handler). */
static void unwatch(il_subprocess_t *p) {
  il_loop_t *loop = p->loop;
  if (p->pidfd >= 0) {
    il_loop_remove_reader(loop, p->pidfd);
    close(p->pidfd);
    p->pidfd = -1;
  }
  if (p->sigchld) {
    p->sigchld = 0;
    if (--loop->sigchld_children == 0)
      il__signal_core_set(loop, SIGCHLD, NULL, NULL);
  }
}

/* process_exited (once connection_made has run), then the wait futures
 * and connection_lost if the pipes are gone too. */
static void deliver_exit(il_subprocess_t *p) {
  p->exit_pending = 0;
  p->refs++;
  if (p->proto.process_exited)
    p->proto.process_exited(p, p->ud);
  /* Taken off first: a future's callbacks may wait again. */
  il_future_t **w = p->waiters;
  size_t n = p->nwaiters;
  p->waiters = NULL;
  p->nwaiters = p->capwaiters = 0;
  for (size_t i = 0; i < n; i++) {
    if (!il_future_done(w[i]))
      il_future_set_result(w[i], (void *)(intptr_t)p->returncode, NULL);
    il_future_unref(w[i]);
  }
  free(w);
  try_finish(p);
  il_subprocess_unref(p);
}

/* The child was reaped with wait status `status` (or reaped elsewhere:
 * `lost_child`). */
static void child_exited(il_subprocess_t *p, int status, int lost_child) {
  if (lost_child) {
    p->returncode = 255;
    il__report(p->loop, IL_ECHILD, IL_SOURCE_PROCESS,
               "a child of interloop was reaped by someone else", NULL, p,
               (int)p->pid);
  } else if (WIFSIGNALED(status)) {
    p->returncode = -WTERMSIG(status);
  } else {
    p->returncode = WEXITSTATUS(status);
  }
  p->exited = 1;
  unwatch(p);
  if (p->made)
    deliver_exit(p);
  else
    p->exit_pending = 1; /* made_cb delivers it after connection_made */
}

/* waitpid(pid, WNOHANG): 1 if the child was reaped (or is gone), 0 if it
 * still runs. */
static int poll_child(il_subprocess_t *p) {
  int status = 0;
  pid_t r;
  do
    r = waitpid(p->pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return 0;
  child_exited(p, status, r < 0);
  return 1;
}

static int on_pidfd(il_loop_t *loop, int fd, void *arg) {
  IL__UNUSED(loop);
  IL__UNUSED(fd);
  poll_child(arg);
  return 0;
}

/* SIGCHLD: coalesced, and meant for any child, so every child of this loop
 * watched that way is asked. */
static int on_sigchld(il_loop_t *loop, int signum, void *arg) {
  IL__UNUSED(signum);
  IL__UNUSED(arg);
  /* A reaped child's callbacks may free other processes: start over after
   * each one. */
  il_subprocess_t *p = loop->procs;
  while (p) {
    if (!p->sigchld || p->exited) {
      p = p->next;
      continue;
    }
    p->refs++;
    int reaped = poll_child(p);
    il_subprocess_unref(p);
    p = reaped ? loop->procs : p->next;
  }
  return 0;
}

/* Starts watching a just-spawned child. The SIGCHLD handler is installed
 * before the fork (prepare_watch), so an exit cannot be missed. */
static int prepare_watch(il_loop_t *loop, int mode) {
  if (mode != IL_CHILD_WATCHER_SIGCHLD || loop->sigchld_children > 0)
    return 0;
  return il__signal_core_set(loop, SIGCHLD, on_sigchld, NULL);
}

static void unprepare_watch(il_loop_t *loop, int mode) {
  if (mode == IL_CHILD_WATCHER_SIGCHLD && loop->sigchld_children == 0)
    il__signal_core_set(loop, SIGCHLD, NULL, NULL);
}

static int start_watch(il_subprocess_t *p, int mode) {
  if (mode == IL_CHILD_WATCHER_SIGCHLD) {
    p->sigchld = 1;
    p->loop->sigchld_children++;
    return 0;
  }
  int fd = (int)syscall(SYS_pidfd_open, p->pid, 0u);
  if (fd < 0)
    return il_translate_sys_error(errno);
  int rc = il__io_add(p->loop, fd, on_pidfd, p, IL_IO_READ);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  p->pidfd = fd;
  return 0;
}

/* ---- the pipes
 * --------------------------------------------------------------- */

static int pipe_index(const il_subprocess_t *p, const il_transport_t *t) {
  for (int i = 0; i < 3; i++)
    if (p->pipes[i] == t)
      return i;
  return -1;
}

static void fwd_data(il_transport_t *t, const void *data, size_t len,
                     void *ud) {
  il_subprocess_t *p = ud;
  if (p->proto.pipe_data_received)
    p->proto.pipe_data_received(p, pipe_index(p, t), data, len, p->ud);
}

static void fwd_pause(il_transport_t *t, void *ud) {
  IL__UNUSED(t);
  il_subprocess_t *p = ud;
  if (p->proto.pause_writing)
    p->proto.pause_writing(p, p->ud);
}

static void fwd_resume(il_transport_t *t, void *ud) {
  IL__UNUSED(t);
  il_subprocess_t *p = ud;
  if (p->proto.resume_writing)
    p->proto.resume_writing(p, p->ud);
}

static const il_protocol_t forward_protocol = {
    .size = sizeof(il_protocol_t),
    .data_received = fwd_data,
    .pause_writing = fwd_pause,
    .resume_writing = fwd_resume,
};

/* The transports' on_lost hook (whatever their protocol). */
static void pipe_lost(il_transport_t *t, int error, void *owner) {
  il_subprocess_t *p = owner;
  int fd = pipe_index(p, t);
  if (fd < 0 || !p->pipe_open[fd])
    return;
  p->pipe_open[fd] = 0;
  p->refs++;
  if (p->proto.pipe_connection_lost)
    p->proto.pipe_connection_lost(p, fd, error, p->ud);
  try_finish(p);
  il_subprocess_unref(p);
}

/* ---- spawning
 * ----------------------------------------------------------------- */

/* What the child does between fork and exec, all prepared by the parent:
 * only async-signal-safe calls happen in the child. */
typedef struct child_plan {
  const char *const *argv;
  char *const *envp;
  const char *cwd;
  int src[3];  /* fd to dup2 onto 0..2 (>= 3), -1: leave as is */
  int err_dup; /* stderr follows stdout */
  unsigned flags;
  int pgid;
  const int *pass_fds;
  int npass;
  int max_fd; /* fallback bound for marking fds close-on-exec */
  int errfd;  /* the error pipe's write end */
  int search; /* argv[0] has no '/': look it up in PATH */
} child_plan_t;

static void child_fail(int errfd, int err) {
  ssize_t n;
  do
    n = write(errfd, &err, sizeof(err));
  while (n < 0 && errno == EINTR);
  _exit(127);
}

/* Marks every fd from 3 up close-on-exec, except the passed ones (whose
 * flag is cleared). */
static void child_mark_fds(const child_plan_t *c) {
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd <= c->max_fd; fd++)
      fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (int i = 0; i < c->npass; i++)
    fcntl(c->pass_fds[i], F_SETFD, 0);
}

static void child_run(const child_plan_t *c) {
  /* Handlers the parent installed would run here until exec: reset them. */
  for (int s = 1; s < NSIG; s++) {
    struct sigaction sa;
    if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) < 0)
      continue;
    if (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) {
      sa.sa_handler = SIG_DFL;
      sa.sa_flags = 0;
      sigaction(s, &sa, NULL);
    }
  }
  if ((c->flags & IL_SPAWN_SETSID) && setsid() < 0)
    child_fail(c->errfd, errno);
  if ((c->flags & IL_SPAWN_SETPGID) && setpgid(0, c->pgid) < 0)
    child_fail(c->errfd, errno);
  for (int i = 0; i < 3; i++)
    if (c->src[i] >= 0 && dup2(c->src[i], i) < 0)
      child_fail(c->errfd, errno);
  if (c->err_dup && dup2(1, 2) < 0)
    child_fail(c->errfd, errno);
  if (c->cwd && chdir(c->cwd) < 0)
    child_fail(c->errfd, errno);
  if (!(c->flags & IL_SPAWN_KEEP_FDS))
    child_mark_fds(c);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (c->search)
    execvpe(c->argv[0], (char *const *)c->argv, c->envp);
  else
    execve(c->argv[0], (char *const *)c->argv, c->envp);
  child_fail(c->errfd, errno);
}

/* An fd >= 3, close-on-exec (so dup2 onto 0..2 in the child never
 * clobbers a source still to be used). Closes fd when it moved it. */
static int above_stdio(int fd) {
  if (fd < 0 || fd >= 3)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  close(fd);
  errno = err;
  return moved;
}

/* The parent's fds for one spawn, closed together afterwards. */
typedef struct spawn_fds {
  int parent[3]; /* our ends of the pipes, -1 */
  int child[3];  /* what the child gets (pipe ends, /dev/null, copies) */
} spawn_fds_t;

static void fds_close(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) {
      close(fds[i]);
      fds[i] = -1;
    }
}

/* Opens what the child's fd i needs. 0 or IL_E*. */
static int open_stdio(const il_subprocess_options_t *o, int i, spawn_fds_t *f) {
  int fds[2];
  switch (o->stdio[i]) {
  case IL_STDIO_PIPE:
    if (pipe2(fds, O_CLOEXEC) < 0)
      return il_translate_sys_error(errno);
    f->parent[i] = i == 0 ? fds[1] : fds[0];
    f->child[i] = above_stdio(i == 0 ? fds[0] : fds[1]);
    break;
  case IL_STDIO_DEVNULL:
    f->child[i] = above_stdio(
        open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC));
    break;
  case IL_STDIO_FD:
    f->child[i] = fcntl(o->stdio_fd[i], F_DUPFD_CLOEXEC, 3);
    break;
  default: /* INHERIT, STDOUT */
    return 0;
  }
  return f->child[i] < 0 ? il_translate_sys_error(errno) : 0;
}

/* Forks and execs. 0 with *pid, or the child's failure (exec, chdir, ...)
 * as IL_E*, the child already reaped. */
static int spawn(const child_plan_t *plan_in, pid_t *pid) {
  child_plan_t plan = *plan_in;
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0)
    return il_translate_sys_error(errno);
  plan.errfd = ep[1];
  /* No handler of ours may run in the child before it resets them. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t child = fork();
  if (child == 0)
    child_run(&plan); /* does not return */
  int fork_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(ep[1]);
  if (child < 0) {
    close(ep[0]);
    return il_translate_sys_error(fork_err);
  }
  int err = 0;
  ssize_t n;
  do
    n = read(ep[0], &err, sizeof(err));
  while (n < 0 && errno == EINTR);
  close(ep[0]);
  if (n == (ssize_t)sizeof(err)) {
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
      ;
    return il_translate_sys_error(err);
  }
  *pid = child;
  return 0;
}

static int opts_check(const il_subprocess_options_t *o) {
  for (int i = 0; i < 3; i++) {
    il_stdio_t m = o->stdio[i];
    if (m < IL_STDIO_PIPE || m > IL_STDIO_FD)
      return IL_EINVAL;
    if (m == IL_STDIO_STDOUT && i != 2)
      return IL_EINVAL;
    if (m == IL_STDIO_FD && o->stdio_fd[i] < 0)
      return IL_EINVAL;
  }
  if (o->npass_fds < 0 || (o->npass_fds > 0 && !o->pass_fds))
    return IL_EINVAL;
  for (int i = 0; i < o->npass_fds; i++)
    if (o->pass_fds[i] < 0)
      return IL_EINVAL;
  if (o->flags & ~(IL_SPAWN_SETSID | IL_SPAWN_SETPGID | IL_SPAWN_KEEP_FDS))
    return IL_EINVAL;
  if (o->pgid < 0)
    return IL_EINVAL;
  return 0;
}

/* Copies the options the caller's size covers; the rest keeps the
 * defaults (every fd piped). */
static int opts_read(il_subprocess_options_t *o,
                     const il_subprocess_options_t *src) {
  static const il_subprocess_options_t defaults = IL_SUBPROCESS_OPTIONS_INIT;
  *o = defaults;
  if (!src)
    return 0;
  if (src->size < sizeof(size_t))
    return IL_EINVAL;
  size_t n = src->size < sizeof(*o) ? src->size : sizeof(*o);
  memcpy(o, src, n);
  o->size = sizeof(*o);
  return opts_check(o);
}

/* ---- connection_made
 * ------------------------------------------------------------ */

static int made_cb(il_loop_t *loop, void *arg) {
  IL__UNUSED(loop);
  il_subprocess_t *p = arg;
  if (p->made)
    return 0; /* run early by il__procs_close, which took its reference */
  p->made = 1;
  if (p->proto.connection_made)
    p->proto.connection_made(p, p->ud);
  il_future_t *f = p->start;
  p->start = NULL;
  if (f) {
    if (il_future_done(f)) /* cancelled by the caller */
      il_subprocess_close(p);
    else if (il_future_set_result(f, il_subprocess_ref(p), unref_value) < 0)
      il_subprocess_unref(p);
    il_future_unref(f);
  }
  if (p->exit_pending)
    deliver_exit(p);
  else
    try_finish(p);
  il_subprocess_unref(p); /* the callback's reference */
  return 0;
}

/* ---- creating
 * ----------------------------------------------------------------- */

static int make_pipes(il_subprocess_t *p, spawn_fds_t *f,
                      const il__pipe_protos_t *pp) {
  for (int i = 0; i < 3; i++) {
    if (f->parent[i] < 0)
      continue;
    const il_protocol_t *proto =
        pp && pp->proto[i] ? pp->proto[i] : &forward_protocol;
    void *ud = pp && pp->proto[i] ? pp->ud[i] : p;
    il_transport_t *t = NULL;
    int rc =
        il__pipe_transport_new(p->loop, f->parent[i], i == 0, proto, ud, &t);
    if (rc < 0)
      return rc;
    f->parent[i] = -1; /* the transport's now */
    p->pipes[i] = il_transport_ref(t);
    p->pipe_open[i] = 1;
    t->on_lost = pipe_lost;
    t->owner = p;
    if (pp && pp->made[i])
      pp->made[i](pp->ud[i], t);
  }
  return 0;
}

static il_subprocess_t *
proc_new(il_loop_t *loop, const il_subprocess_protocol_t *proto, void *ud) {
  il_subprocess_t *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  p->loop = loop;
  p->refs = 1; /* the core's */
  p->pidfd = -1;
  size_t n = proto->size < sizeof(p->proto) ? proto->size : sizeof(p->proto);
  memcpy(&p->proto, proto, n);
  p->proto.size = sizeof(p->proto);
  p->ud = ud;
  p->next = loop->procs;
  if (loop->procs)
    loop->procs->prev = p;
  loop->procs = p;
  loop->stats.processes++;
  loop->refs++;
  return p;
}

int il__subprocess_spawn(il_loop_t *loop, const char *const *argv,
                         const il_subprocess_options_t *opts,
                         const il_subprocess_protocol_t *proto, void *ud,
                         const il__pipe_protos_t *pp, il_subprocess_t **out) {
  il_subprocess_options_t o;
  int rc = opts_read(&o, opts);
  if (rc < 0)
    return rc;
  int mode = resolve_watcher(loop);
  spawn_fds_t f = {{-1, -1, -1}, {-1, -1, -1}};
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = open_stdio(&o, i, &f);
  struct rlimit rl;
  int max_fd = 65535;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < 65536)
    max_fd = (int)rl.rlim_cur - 1;
  child_plan_t plan = {argv,
                       o.env ? (char *const *)o.env : environ,
                       o.cwd,
                       {f.child[0], f.child[1], f.child[2]},
                       o.stdio[2] == IL_STDIO_STDOUT,
                       o.flags,
                       o.pgid,
                       o.pass_fds,
                       o.npass_fds,
                       max_fd,
                       -1,
                       strchr(argv[0], '/') == NULL};
  if (rc == 0)
    rc = prepare_watch(loop, mode);
  pid_t pid = 0;
  if (rc == 0 && (rc = spawn(&plan, &pid)) < 0)
    unprepare_watch(loop, mode);
  fds_close(f.child, 3);
  if (rc < 0) {
    fds_close(f.parent, 3);
    return rc;
  }
  il_subprocess_t *p = proc_new(loop, proto, ud);
  if (p) {
    p->pid = pid;
    rc = start_watch(p, mode);
  } else {
    rc = IL_ENOMEM;
  }
  /* connection_made is queued before the pipes' own, so it comes first. */
  if (rc == 0 && (rc = il__schedule(loop, made_cb, p, IL__H_SOON, NULL)) == 0)
    p->refs++;
  if (rc == 0)
    rc = make_pipes(p, &f, pp);
  fds_close(f.parent, 3);
  if (rc < 0) {
    /* The child runs but cannot be served: kill it and reap it now. */
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    unprepare_watch(loop, mode);
    if (p)
      il__subprocess_abandon(p);
    return rc;
  }
  *out = p;
  return 0;
}

/* A process whose spawn could not be completed: every pipe closed, no
 * callback will run; the references of the core (and of a queued made_cb)
 * go when the loop drops it. */
void il__subprocess_abandon(il_subprocess_t *p) {
  p->exited = 1;
  p->finished = 1;
  p->closing = 1;
  if (p->sigchld) {
    p->sigchld = 0;
    p->loop->sigchld_children--;
  }
  if (p->pidfd >= 0) {
    il_loop_remove_reader(p->loop, p->pidfd);
    close(p->pidfd);
    p->pidfd = -1;
  }
  memset(&p->proto, 0, sizeof(p->proto));
  for (int i = 0; i < 3; i++)
    if (p->pipes[i]) {
      p->pipes[i]->on_lost = NULL;
      p->pipe_open[i] = 0;
      il_transport_abort(p->pipes[i]);
    }
  il_subprocess_unref(p);
}

static int exec_common(il_loop_t *loop, const char *const *argv,
                       const il_subprocess_options_t *opts,
                       const il_subprocess_protocol_t *proto, void *ud,
                       il_future_t **out) {
  if (out)
    *out = NULL;
  if (!loop || !argv || !argv[0] || !proto || !out ||
      proto->size < sizeof(size_t))
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_future_t *f = NULL;
  rc = il_future_new(loop, &f);
  if (rc < 0)
    return rc;
  il_subprocess_t *p = NULL;
  rc = il__subprocess_spawn(loop, argv, opts, proto, ud, NULL, &p);
  if (rc == IL_EINVAL || rc == IL_ENOTSUP || rc == IL_ENOMEM ||
      rc == IL_ECLOSED) {
    il_future_unref(f);
    return rc;
  }
  if (rc < 0) {
    il_future_set_error(f, rc, "the child could not be started");
  } else {
    p->start = il_future_ref(f);
  }
  *out = f;
  return 0;
}

int il_subprocess_exec(il_loop_t *loop, const char *const *argv,
                       const il_subprocess_options_t *opts,
                       const il_subprocess_protocol_t *proto, void *ud,
                       il_future_t **out) {
  return exec_common(loop, argv, opts, proto, ud, out);
}

int il_subprocess_shell(il_loop_t *loop, const char *cmd,
                        const il_subprocess_options_t *opts,
                        const il_subprocess_protocol_t *proto, void *ud,
                        il_future_t **out) {
  if (!cmd) {
    if (out)
      *out = NULL;
    return IL_EINVAL;
  }
  const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  return exec_common(loop, argv, opts, proto, ud, out);
}

/* ---- the process's calls
 * ------------------------------------------------------ */

static int proc_check(const il_subprocess_t *p) {
  if (!p)
    return IL_EINVAL;
  uintptr_t owner = atomic_load_explicit(&p->loop->owner, memory_order_relaxed);
  if (owner != 0 && owner != (uintptr_t)pthread_self())
    return IL_EWRONGTHREAD;
  return 0;
}

int il_subprocess_pid(const il_subprocess_t *p) {
  return p ? (int)p->pid : IL_EINVAL;
}

int il_subprocess_returncode(const il_subprocess_t *p, int *returncode) {
  if (!p || !returncode)
    return IL_EINVAL;
  if (!p->exited)
    return 0;
  *returncode = p->returncode;
  return 1;
}

int il_subprocess_send_signal(il_subprocess_t *p, int signum) {
  int rc = proc_check(p);
  if (rc < 0)
    return rc;
  if (signum < 0 || signum >= NSIG)
    return IL_EINVAL;
  if (p->exited)
    return IL_ESRCH;
  /* Not reaped yet, so the pid is still ours (a zombie at worst). */
  if (p->pidfd >= 0)
    rc = (int)syscall(SYS_pidfd_send_signal, p->pidfd, signum, NULL, 0u);
  else
    rc = kill(p->pid, signum);
  return rc < 0 ? il_translate_sys_error(errno) : 0;
}

int il_subprocess_terminate(il_subprocess_t *p) {
  return il_subprocess_send_signal(p, SIGTERM);
}

int il_subprocess_kill(il_subprocess_t *p) {
  return il_subprocess_send_signal(p, SIGKILL);
}

il_transport_t *il_subprocess_get_pipe_transport(il_subprocess_t *p, int fd) {
  if (!p || fd < 0 || fd > 2)
    return NULL;
  return p->pipes[fd];
}

int il_subprocess_close(il_subprocess_t *p) {
  int rc = proc_check(p);
  if (rc < 0)
    return rc;
  if (p->closing)
    return 0;
  p->closing = 1;
  p->refs++;
  for (int i = 0; i < 3; i++)
    if (p->pipe_open[i])
      il_transport_close(p->pipes[i]);
  if (!p->exited)
    il_subprocess_send_signal(p, SIGKILL);
  il_subprocess_unref(p);
  return 0;
}

int il_subprocess_is_closing(const il_subprocess_t *p) {
  return p && p->closing ? 1 : 0;
}

int il_subprocess_wait(il_subprocess_t *p, il_future_t **out) {
  if (out)
    *out = NULL;
  int rc = proc_check(p);
  if (rc < 0)
    return rc;
  if (!out)
    return IL_EINVAL;
  il_future_t *f = NULL;
  rc = il_future_new(p->loop, &f);
  if (rc < 0)
    return rc;
  if (p->exited && !p->exit_pending) {
    il_future_set_result(f, (void *)(intptr_t)p->returncode, NULL);
  } else {
    if (p->nwaiters == p->capwaiters) {
      size_t cap = p->capwaiters ? p->capwaiters * 2 : 4;
      il_future_t **w = realloc(p->waiters, cap * sizeof(*w));
      if (!w) {
        il_future_unref(f);
        return IL_ENOMEM;
      }
      p->waiters = w;
      p->capwaiters = cap;
    }
    p->waiters[p->nwaiters++] = il_future_ref(f);
  }
  *out = f;
  return 0;
}

il_loop_t *il_subprocess_loop(const il_subprocess_t *p) {
  return p ? p->loop : NULL;
}

/* ---- loop close ------------------------------------------------------------
 */

void il__procs_close(il_loop_t *loop) {
  /* Callbacks run here and may free other processes: start over after
   * each one that needed anything. */
  il_subprocess_t *p = loop->procs;
  while (p) {
    if (p->made && (p->finished || p->exited)) {
      p = p->next;
      continue;
    }
    p->refs++;
    if (!p->finished)
      p->loop_closed = 1;
    if (!p->made)
      made_cb(loop, p); /* its queued run is dropped with the queue */
    if (!p->finished && !p->exited) {
      if (p->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0u);
      else
        kill(p->pid, SIGKILL);
      int status = 0;
      pid_t r;
      do
        r = waitpid(p->pid, &status, 0);
      while (r < 0 && errno == EINTR);
      child_exited(p, status, r < 0);
    }
    il_subprocess_unref(p);
    p = loop->procs;
  }
}
