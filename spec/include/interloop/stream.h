/* interloop/stream.h — streams for tasks: a reader and a writer over a
 * stream transport. See spec/SPEC.md §11.
 *
 * The functions that wait (open, read*, drain, wait_closed) must be called
 * from inside a task (IL_ENOTASK otherwise); cancelling the task makes the
 * wait return IL_ECANCELED with nothing consumed. The others are for the loop
 * thread. A reader and a writer are two views of one object, released
 * together with il_stream_release. */
#ifndef INTERLOOP_STREAM_H
#define INTERLOOP_STREAM_H

#include "common.h"
#include "transport.h"

IL_BEGIN_DECLS

typedef struct il_stream_reader il_stream_reader_t;
typedef struct il_stream_writer il_stream_writer_t;

#define IL_STREAM_LIMIT_DEFAULT ((size_t)64 * 1024)

typedef struct il_stream_options {
  size_t size;  /* sizeof(il_stream_options_t) */
  size_t limit; /* readline/readuntil limit and reader buffer unit; 0: 64 KiB.
                   Reading from the socket pauses while more than 2 × limit
                   bytes are buffered. */
  const il_connect_options_t *connect; /* il_open_connection; may be NULL */
  const il_server_options_t *server;   /* il_start_server; may be NULL */
} il_stream_options_t;

#define IL_STREAM_OPTIONS_INIT {sizeof(il_stream_options_t), 0, NULL, NULL}

/* Task: connects (il_create_connection) and gives the reader and writer,
 * owned by the caller (il_stream_release). `opts` may be NULL. Errors: those
 * of il_create_connection and its future, IL_ENOTASK, IL_ECANCELED. */
IL_EXTERN int il_open_connection(il_loop_t *loop, const char *host, int port,
                                 const il_stream_options_t *opts,
                                 il_stream_reader_t **reader,
                                 il_stream_writer_t **writer);

/* Task: as il_open_connection over a Unix stream socket. */
IL_EXTERN int il_open_unix_connection(il_loop_t *loop, const char *path,
                                      const il_stream_options_t *opts,
                                      il_stream_reader_t **reader,
                                      il_stream_writer_t **writer);

/* Runs in a new task for each accepted connection. When it returns, the
 * writer is closed (flushed) and the pair released by the core: do not keep
 * them. A negative return other than IL_ECANCELED is reported to the loop's
 * error handler (IL_SOURCE_SERVER). */
typedef int (*il_stream_handler_fn)(il_stream_reader_t *reader,
                                    il_stream_writer_t *writer, void *ud);

/* Starts a server (il_create_server) whose connections are served by
 * `handler` tasks. Loop thread. Errors: those of il_create_server. Closing
 * the server does not cancel running handlers; il_loop_close does. */
IL_EXTERN int il_start_server(il_loop_t *loop, const char *host, int port,
                              const il_stream_options_t *opts,
                              il_stream_handler_fn handler, void *ud,
                              il_server_t **out);

/* As il_start_server on a Unix stream socket. */
IL_EXTERN int il_start_unix_server(il_loop_t *loop, const char *path,
                                   const il_stream_options_t *opts,
                                   il_stream_handler_fn handler, void *ud,
                                   il_server_t **out);

/* ---- reading (tasks) ---------------------------------------------------- */

/* Waits until at least one byte is buffered or EOF, then moves up to n bytes
 * into buf. *nread is 0 only at EOF (or n == 0). Errors: IL_EINVAL,
 * IL_ENOTASK, IL_ECANCELED, the connection's error once the buffer is empty
 * (IL_ECONNRESET, ...), IL_ECLOSED (released or the loop closed). */
IL_EXTERN int il_stream_read(il_stream_reader_t *r, void *buf, size_t n,
                             size_t *nread);

/* Reads exactly n bytes. At EOF before n: IL_EINCOMPLETE, with the partial
 * data in buf and its length in *nread (consumed). Other errors: as
 * il_stream_read (nothing consumed). */
IL_EXTERN int il_stream_readexactly(il_stream_reader_t *r, void *buf, size_t n,
                                    size_t *nread);

/* Reads up to and including the separator (seplen >= 1). *out receives a
 * malloc'd, NUL-terminated copy (free() it), *len its length without the NUL.
 * IL_EINCOMPLETE: EOF came first; *out holds what was left (consumed, may be
 * empty). IL_ELIMIT: the separator is not within the first `limit` bytes;
 * nothing is consumed (the data stays buffered) and *out is NULL. Other
 * errors: as il_stream_read (*out NULL). */
IL_EXTERN int il_stream_readuntil(il_stream_reader_t *r, const void *sep,
                                  size_t seplen, char **out, size_t *len);

/* As il_stream_readuntil with "\n", except that at EOF the partial last line
 * (maybe empty) is returned with 0, as asyncio's readline does. */
IL_EXTERN int il_stream_readline(il_stream_reader_t *r, char **out,
                                 size_t *len);

/* 1 when EOF was received and the buffer is empty, else 0. */
IL_EXTERN int il_stream_at_eof(const il_stream_reader_t *r);

/* Bytes buffered and not yet read. */
IL_EXTERN size_t il_stream_buffered(const il_stream_reader_t *r);

/* ---- writing ------------------------------------------------------------- */

/* Queues data on the transport (il_transport_write's rules); never waits.
 * Loop thread. Errors: IL_EINVAL, IL_ECLOSED, IL_ESHUTDOWN, the connection's
 * error once it is lost, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_stream_write(il_stream_writer_t *w, const void *data,
                              size_t len);
/* As il_stream_write for the concatenation of iov[0..iovcnt). */
IL_EXTERN int il_stream_writev(il_stream_writer_t *w, const struct iovec *iov,
                               int iovcnt);

/* Task: waits while the transport has paused writing (the buffer is above
 * its high-water mark). Returns 0, or the connection's error once it is lost
 * (IL_ECLOSED after a clean close), IL_ENOTASK, IL_ECANCELED. */
IL_EXTERN int il_stream_drain(il_stream_writer_t *w);

/* il_transport_write_eof. */
IL_EXTERN int il_stream_write_eof(il_stream_writer_t *w);

/* Closes the transport (flush, then close). Idempotent. Loop thread. */
IL_EXTERN int il_stream_close(il_stream_writer_t *w);

/* Task: waits until the connection is lost. Returns 0 after a clean close,
 * or the error it was lost with. */
IL_EXTERN int il_stream_wait_closed(il_stream_writer_t *w);

/* The transport underneath (valid while the pair is not released). */
IL_EXTERN il_transport_t *il_stream_transport(const il_stream_writer_t *w);

/* Releases the pair (pass both, or either: they are one object). A
 * connection still open is closed (flushed). NULL-safe. Loop thread. */
IL_EXTERN void il_stream_release(il_stream_reader_t *r, il_stream_writer_t *w);

IL_END_DECLS

#endif /* INTERLOOP_STREAM_H */
