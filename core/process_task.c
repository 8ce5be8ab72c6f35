/* core/process_task.c — child processes for tasks (process.h, SPEC §13.5):
 * il_process_run, il_process_open, il_process_wait, and the pipe transports'
 * public entry points. */
#include "future_internal.h"
#include "subprocess_internal.h"
#include "sync_internal.h"

#include <stdlib.h>
#include <string.h>

int il_connect_read_pipe(il_loop_t *loop, int fd, const il_protocol_t *proto,
                         void *ud, il_transport_t **out) {
  return il__pipe_transport_new(loop, fd, 0, proto, ud, out);
}

int il_connect_write_pipe(il_loop_t *loop, int fd, const il_protocol_t *proto,
                          void *ud, il_transport_t **out) {
  return il__pipe_transport_new(loop, fd, 1, proto, ud, out);
}

/* ---- il_process_wait -------------------------------------------------------
 */

int il_process_wait(il_subprocess_t *p, int *returncode) {
  if (!p || !returncode)
    return IL_EINVAL;
  int rc = il__sync_task_check(p->loop);
  if (rc < 0)
    return rc;
  il_future_t *f = NULL;
  rc = il_subprocess_wait(p, &f);
  if (rc < 0)
    return rc;
  void *value = NULL;
  rc = il_await(f, &value);
  il_future_unref(f);
  if (rc == 0)
    *returncode = (int)(intptr_t)value;
  return rc;
}

/* ---- il_process_run
 * ---------------------------------------------------------- */

#define RUN_LIMIT_DEFAULT ((size_t)16 * 1024 * 1024)

/* What one run collects. On the heap: a cancelled run returns while the
 * child is still being killed, and the last callback frees it. */
typedef struct run_state {
  char *buf[2]; /* stdout, stderr */
  size_t len[2], cap[2];
  size_t limit;
  int over;          /* output beyond the limit was dropped */
  int nomem;         /* a buffer could not grow */
  il_future_t *done; /* completed at connection_lost */
  int abandoned;     /* the task went: connection_lost frees the state */
} run_state_t;

static void run_free(run_state_t *st) {
  free(st->buf[0]);
  free(st->buf[1]);
  if (st->done)
    il_future_unref(st->done);
  free(st);
}

static void run_data(il_subprocess_t *p, int fd, const void *data, size_t len,
                     void *ud) {
  IL__UNUSED(p);
  run_state_t *st = ud;
  int i = fd == 2;
  size_t room = st->limit - st->len[i];
  if (len > room) {
    st->over = 1;
    len = room;
  }
  if (!len)
    return;
  if (st->len[i] + len + 1 > st->cap[i]) {
    size_t cap = st->cap[i] ? st->cap[i] : 4096;
    while (cap < st->len[i] + len + 1)
      cap *= 2;
    char *b = realloc(st->buf[i], cap);
    if (!b) {
      st->nomem = 1;
      return;
    }
    st->buf[i] = b;
    st->cap[i] = cap;
  }
  memcpy(st->buf[i] + st->len[i], data, len);
  st->len[i] += len;
}

static void run_lost(il_subprocess_t *p, int error, void *ud) {
  IL__UNUSED(p);
  IL__UNUSED(error);
  run_state_t *st = ud;
  if (st->abandoned) {
    run_free(st);
    return;
  }
  if (st->done && !il_future_done(st->done))
    il_future_set_result(st->done, NULL, NULL);
}

static const il_subprocess_protocol_t run_protocol = {
    .size = sizeof(il_subprocess_protocol_t),
    .pipe_data_received = run_data,
    .connection_lost = run_lost,
};

/* The options of a run: the caller's spawn options, or the defaults. */
static int run_options(const il_process_run_options_t *opts,
                       il_process_run_options_t *ro,
                       il_subprocess_options_t *so) {
  static const il_process_run_options_t rdef = IL_PROCESS_RUN_OPTIONS_INIT;
  static const il_subprocess_options_t sdef = IL_SUBPROCESS_OPTIONS_INIT;
  *ro = rdef;
  if (opts) {
    if (opts->size < sizeof(size_t))
      return IL_EINVAL;
    memcpy(ro, opts, opts->size < sizeof(*ro) ? opts->size : sizeof(*ro));
  }
  if (ro->input_len && !ro->input)
    return IL_EINVAL;
  *so = sdef;
  if (ro->spawn) {
    if (ro->spawn->size < sizeof(size_t))
      return IL_EINVAL;
    memcpy(so, ro->spawn,
           ro->spawn->size < sizeof(*so) ? ro->spawn->size : sizeof(*so));
    so->size = sizeof(*so);
  } else if (!ro->input) {
    so->stdio[0] = IL_STDIO_DEVNULL;
  }
  if (ro->input && so->stdio[0] != IL_STDIO_PIPE)
    return IL_EINVAL;
  if (!ro->limit)
    ro->limit = RUN_LIMIT_DEFAULT;
  return 0;
}

/* Moves what was captured into *result. */
static int run_result(run_state_t *st, il_subprocess_t *p,
                      const il_subprocess_options_t *so,
                      il_process_result_t *result) {
  il_subprocess_returncode(p, &result->returncode);
  char **dst[2] = {&result->out, &result->err};
  size_t *dlen[2] = {&result->out_len, &result->err_len};
  for (int i = 0; i < 2; i++) {
    if (so->stdio[i + 1] != IL_STDIO_PIPE)
      continue;
    if (!st->buf[i] && !(st->buf[i] = malloc(1)))
      return IL_ENOMEM;
    st->buf[i][st->len[i]] = '\0';
    *dst[i] = st->buf[i];
    *dlen[i] = st->len[i];
    st->buf[i] = NULL;
  }
  return st->nomem ? IL_ENOMEM : 0;
}

/* Waits for connection_lost: up to `timeout` (> 0), then the child is
 * killed and waited for. IL_ETIMEDOUT, IL_ECANCELED or 0. */
static int run_wait(run_state_t *st, il_subprocess_t *p, double timeout) {
  int rc = timeout > 0 ? il_wait_for(st->done, timeout, NULL)
                       : il_await(st->done, NULL);
  if (rc != IL_ETIMEDOUT)
    return rc;
  il_future_unref(st->done);
  st->done = NULL;
  int frc = il_future_new(p->loop, &st->done);
  if (frc < 0)
    return frc;
  il_subprocess_close(p);
  if (p->finished)
    return IL_ETIMEDOUT;
  frc = il_await(st->done, NULL);
  return frc < 0 ? frc : IL_ETIMEDOUT;
}

int il_process_run(il_loop_t *loop, const char *const *argv,
                   const il_process_run_options_t *opts,
                   il_process_result_t *result) {
  if (!result || result->size < sizeof(*result))
    return IL_EINVAL;
  memset((char *)result + sizeof(size_t), 0, sizeof(*result) - sizeof(size_t));
  if (!loop || !argv || !argv[0])
    return IL_EINVAL;
  int rc = il__sync_task_check(loop);
  if (rc < 0)
    return rc;
  il_process_run_options_t ro;
  il_subprocess_options_t so;
  if ((rc = run_options(opts, &ro, &so)) < 0)
    return rc;
  run_state_t *st = calloc(1, sizeof(*st));
  if (!st)
    return IL_ENOMEM;
  st->limit = ro.limit;
  if ((rc = il_future_new(loop, &st->done)) < 0) {
    free(st);
    return rc;
  }
  il_subprocess_t *p = NULL;
  rc = il__subprocess_spawn(loop, argv, &so, &run_protocol, st, NULL, &p);
  if (rc < 0) {
    run_free(st);
    return rc;
  }
  il_subprocess_ref(p);
  il_transport_t *in = p->pipes[0];
  if (in) {
    if (ro.input_len)
      il_transport_write(in, ro.input, ro.input_len);
    il_transport_close(in);
  }
  rc = run_wait(st, p, ro.timeout);
  if (rc == IL_ECANCELED || (rc < 0 && rc != IL_ETIMEDOUT)) {
    /* The child is killed and reaped in the background; the state goes
     * with its connection_lost. */
    il_subprocess_close(p);
    if (p->finished)
      run_free(st);
    else
      st->abandoned = 1;
    il_subprocess_unref(p);
    return rc;
  }
  int rrc = run_result(st, p, &so, result);
  if (rrc < 0) {
    il_process_result_free(result);
    rc = rrc;
  } else if (rc == 0 && st->over) {
    rc = IL_ELIMIT;
  }
  il_subprocess_unref(p);
  run_free(st);
  return rc;
}

void il_process_result_free(il_process_result_t *result) {
  if (!result)
    return;
  size_t size = result->size;
  free(result->out);
  free(result->err);
  memset(result, 0, sizeof(*result));
  result->size = size;
}

/* ---- il_process_open
 * ---------------------------------------------------------- */

static void attach_hook(void *ud, il_transport_t *t) {
  il__stream_attach(ud, t);
}

static const il_subprocess_protocol_t open_protocol = {
    .size = sizeof(il_subprocess_protocol_t),
};

static void release_streams(void *objs[3]) {
  for (int i = 0; i < 3; i++)
    if (objs[i])
      il_stream_release(il__stream_reader(objs[i]), il__stream_writer(objs[i]));
}

int il_process_open(il_loop_t *loop, const char *const *argv,
                    const il_subprocess_options_t *opts, size_t limit,
                    il_subprocess_t **proc, il_stream_writer_t **in,
                    il_stream_reader_t **out, il_stream_reader_t **err) {
  if (proc)
    *proc = NULL;
  if (in)
    *in = NULL;
  if (out)
    *out = NULL;
  if (err)
    *err = NULL;
  if (!loop || !argv || !argv[0] || !proc)
    return IL_EINVAL;
  int rc = il__sync_task_check(loop);
  if (rc < 0)
    return rc;
  static const il_subprocess_options_t sdef = IL_SUBPROCESS_OPTIONS_INIT;
  const il_subprocess_options_t *o = opts ? opts : &sdef;
  if (o->size < offsetof(il_subprocess_options_t, stdio) + sizeof(o->stdio))
    return IL_EINVAL;
  void *where[3] = {in, out, err};
  il__pipe_protos_t pp;
  memset(&pp, 0, sizeof(pp));
  void *objs[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3; i++) {
    if (o->stdio[i] != IL_STDIO_PIPE)
      continue;
    if (!where[i]) {
      release_streams(objs);
      return IL_EINVAL;
    }
    objs[i] = il__stream_for_pipe(loop, limit, &pp.proto[i]);
    if (!objs[i]) {
      release_streams(objs);
      return IL_ENOMEM;
    }
    pp.ud[i] = objs[i];
    pp.made[i] = attach_hook;
  }
  il_subprocess_t *p = NULL;
  rc = il__subprocess_spawn(loop, argv, opts, &open_protocol, NULL, &pp, &p);
  if (rc < 0) {
    release_streams(objs);
    return rc;
  }
  *proc = il_subprocess_ref(p);
  if (objs[0])
    *in = il__stream_writer(objs[0]);
  if (objs[1])
    *out = il__stream_reader(objs[1]);
  if (objs[2])
    *err = il__stream_reader(objs[2]);
  return 0;
}
