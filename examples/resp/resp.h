/* examples/resp/resp.h — a small asynchronous Redis client (RESP2), written
 * once against interloop's public API.
 *
 * This library never includes an engine header and never asks which backend
 * it runs on: the same compiled code works on builtin, builtin-poll, libuv,
 * libev and libevent, on a loop interloop owns or on one it adopted from the
 * application. Compare hiredis, which needs one adapter per event loop.
 *
 *   resp_client_t *c;
 *   il_future_t *connected, *reply;
 *   resp_connect(loop, "127.0.0.1", 6379, NULL, &c, &connected);
 *   resp_command_strings(c, &reply, "SET", "greeting", "hello", NULL);
 *   ... in a task: il_await(reply, (void **)&r) gives the resp_reply_t ...
 *
 * What it does:
 *   - commands return futures, completed with the reply in the order the
 *     commands were sent; any number of commands may be in flight at once
 *     (pipelining), also before the connection is up (they are sent as soon
 *     as it is);
 *   - pub/sub: resp_subscribe() delivers a channel's messages to a callback;
 *   - every failure is a code: a reply that is a Redis error fails the
 *     command's future with RESP_EREPLY and the server's message
 *     (il_future_error); a lost connection fails every pending future with
 *     the transport's error.
 *
 * Threads: every function is for the loop's thread, like interloop's own.
 * Names: resp_ for this library (interloop keeps il_ for itself). */
#ifndef RESP_H
#define RESP_H

#include <interloop/interloop.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes ----------------------------------------------------------
 * interloop's codes (IL_E*) are negative and above -4096; a library adds its
 * own below that range. These two are the only codes of this library; every
 * other failure is an interloop code (IL_ECONNREFUSED, IL_ECLOSED, ...). */
#define RESP_EREPLY (-20001)    /* the server replied with an error */
#define RESP_EPROTOCOL (-20002) /* the server sent something not RESP2 */

/* A message for `code`: this library's codes and interloop's. Static. */
const char *resp_strerror(int code);

/* ---- replies ------------------------------------------------------------- */

typedef enum resp_type {
  RESP_STRING = 1,  /* a bulk string ($): binary-safe bytes */
  RESP_STATUS = 2,  /* a simple string (+): "OK", "PONG" */
  RESP_ERROR = 3,   /* an error (-) inside an array (a top-level error fails
                       the command's future instead, with RESP_EREPLY) */
  RESP_INTEGER = 4, /* an integer (:) */
  RESP_NIL = 5,     /* a null bulk string or null array ($-1, *-1) */
  RESP_ARRAY = 6    /* an array (*) of replies, possibly nested */
} resp_type_t;

typedef struct resp_reply {
  resp_type_t type;
  long long integer;           /* RESP_INTEGER */
  char *str;                   /* STRING, STATUS, ERROR: `len` bytes, then
                                  a '\0' (the bytes may contain '\0' too) */
  size_t len;                  /* STRING, STATUS, ERROR */
  size_t elements;             /* ARRAY: number of elements */
  struct resp_reply **element; /* ARRAY: the elements */
} resp_reply_t;

/* Frees a reply and everything inside it. NULL is a no-op. A reply a future
 * holds is freed with the future: never free that one yourself. */
void resp_reply_free(resp_reply_t *r);

/* ---- the client ---------------------------------------------------------- */

typedef struct resp_client resp_client_t;

/* Starts connecting to a Redis server at host:port (a numeric address or a
 * name) and returns the client at once: *client is the caller's, freed with
 * resp_free(). Commands may be sent right away; they go out when the
 * connection is up. `connected` (may be NULL) receives a future (the
 * caller's reference) that completes with NULL once the connection is up,
 * or fails with interloop's connect error (IL_ECONNREFUSED, IL_EAI,
 * IL_ETIMEDOUT, ...) — then every command already sent fails with it too —
 * or is cancelled by resp_free, or by resp_close with no command waiting.
 * `opts` (may be NULL) is passed to il_create_connection (family, timeout).
 * Loop thread. Errors (nothing is created): IL_EINVAL (NULL loop, host or
 * client; port out of 0..65535), IL_ENOMEM, or il_create_connection's
 * immediate errors (IL_ECLOSED, IL_EWRONGTHREAD). */
int resp_connect(il_loop_t *loop, const char *host, int port,
                 const il_connect_options_t *opts, resp_client_t **client,
                 il_future_t **connected);

/* Sends one command: argv[0..argc) are its words (argv[0] the command name),
 * each argvlen[i] bytes long (argvlen NULL: each is a C string). The words
 * are copied. *reply receives a future (the caller's reference) completing
 * with the reply (a resp_reply_t *, owned by the future and freed with it),
 * or failing with RESP_EREPLY and the server's message when the reply is a
 * Redis error, or with the error that lost the connection (IL_EOF when the
 * server closed it, IL_ECONNRESET, RESP_EPROTOCOL, ...), or is cancelled by
 * resp_free.
 * Cancelling the future is allowed: the reply is then read and dropped.
 * Loop thread. Errors (nothing is sent): IL_EINVAL (NULL client, argv or
 * reply; argc < 1; a NULL word), IL_ECLOSED (resp_close was called or the
 * connection is gone), IL_EINVALSTATE (the client is subscribed to a
 * channel: in RESP2 such a connection takes only (un)subscribe commands),
 * IL_ENOMEM, IL_EWRONGTHREAD. */
int resp_command(resp_client_t *c, int argc, const char *const *argv,
                 const size_t *argvlen, il_future_t **reply);

/* As resp_command for C-string words given as arguments, ending with NULL:
 * resp_command_strings(c, &f, "INCR", "counter", NULL). At most 64 words. */
int resp_command_strings(resp_client_t *c, il_future_t **reply,
                         const char *word, ...);

/* 1 while the client is connected, 0 while it is connecting, or why the
 * connection ended: the connect error (IL_ECONNREFUSED, ...), the
 * transport's error (IL_EOF when the server closed it, IL_ECONNRESET, ...),
 * RESP_EPROTOCOL, or IL_ECLOSED after resp_close. IL_EINVAL for NULL. */
int resp_state(const resp_client_t *c);

/* The number of replies the client is still waiting for; 0 for NULL. */
size_t resp_pending(const resp_client_t *c);

/* ---- pub/sub --------------------------------------------------------------
 * RESP2 turns a connection that subscribed to a channel into a receiver:
 * until it has unsubscribed from every channel it refuses other commands
 * (resp_command returns IL_EINVALSTATE). Use a second client to publish. */

/* Called on the loop thread for each message published on a channel the
 * client subscribed to with resp_subscribe. The bytes are valid only during
 * the call. The callback may call any function of this library, including
 * resp_free on its client (then no later message is delivered). */
typedef void (*resp_message_fn)(resp_client_t *c, const char *channel,
                                size_t channel_len, const char *message,
                                size_t message_len, void *ud);

/* Subscribes to `channel` (a C string) and calls cb(..., ud) for every
 * message published on it from then on (subscribing again to the same
 * channel replaces its callback). *done receives a future (the caller's
 * reference) completing with the server's confirmation (an array reply:
 * "subscribe", the channel, the number of channels now subscribed).
 * `ud` stays the caller's; it is used until resp_unsubscribe for this
 * channel, resp_close or resp_free. Loop thread. Errors: IL_EINVAL (NULL
 * argument), IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
int resp_subscribe(resp_client_t *c, const char *channel, resp_message_fn cb,
                   void *ud, il_future_t **done);

/* Unsubscribes from `channel`; *done completes with the confirmation
 * ("unsubscribe", the channel, the number still subscribed). Once that
 * number is 0 (and no (un)subscription is pending), the client takes normal
 * commands again. Loop thread. Errors: IL_EINVAL (NULL argument),
 * IL_EINVALSTATE (the client never subscribed), IL_ECLOSED, IL_ENOMEM,
 * IL_EWRONGTHREAD. */
int resp_unsubscribe(resp_client_t *c, const char *channel, il_future_t **done);

/* ---- closing ------------------------------------------------------------- */

/* Closes the client gracefully: from now on commands are refused
 * (IL_ECLOSED) and no message is delivered, but every command already sent
 * still gets its reply; then the connection is closed. `closed` (may be
 * NULL) receives a future (the caller's reference) completing with NULL
 * once the connection is gone, whatever the reason. Calling it again is
 * allowed. The client must still be freed with resp_free. Loop thread.
 * Errors: IL_EINVAL (NULL c), IL_ENOMEM, IL_EWRONGTHREAD. */
int resp_close(resp_client_t *c, il_future_t **closed);

/* Frees the client. A connection still open is aborted: the futures of
 * commands still waiting are cancelled, a `closed` future completes, and no
 * callback of the client runs afterwards. Call it before the loop is
 * closed. If the connection was still being set up, the memory goes when
 * that attempt has ended, which takes the loop running a little longer
 * (closing it at once leaks the client's memory). NULL is a no-op. Loop
 * thread. */
void resp_free(resp_client_t *c);

/* ---- the reply parser on its own ------------------------------------------
 * The client's incremental parser, public for tests and for code that
 * speaks RESP2 over something else. It copes with replies split anywhere:
 * feed it bytes as they arrive, in pieces of any size. */

typedef struct resp_parser resp_parser_t;

/* Creates a parser; *out is the caller's (resp_parser_free).
 * Errors: IL_EINVAL (NULL out), IL_ENOMEM. */
int resp_parser_new(resp_parser_t **out);

/* Frees the parser and any half-parsed reply in it. NULL is a no-op. */
void resp_parser_free(resp_parser_t *p);

/* Consumes bytes from data[0..len) until one reply is complete or the bytes
 * run out; *used tells how many it consumed. Returns 1 when a reply is
 * complete (*reply is then the caller's: resp_reply_free), 0 when every byte
 * was consumed without completing one (feed more), or RESP_EPROTOCOL (the
 * bytes are not RESP2, or exceed a limit: bulk strings up to 512 MiB, lines
 * up to 64 KiB, arrays nested up to 64 deep; resp_parser_error says what;
 * the parser then refuses everything) or IL_ENOMEM. IL_EINVAL for NULL
 * p, used or reply, or NULL data with len > 0. */
int resp_parser_feed(resp_parser_t *p, const void *data, size_t len,
                     size_t *used, resp_reply_t **reply);

/* Why the parser failed: a static-lifetime description, "" if it did not. */
const char *resp_parser_error(const resp_parser_t *p);

#ifdef __cplusplus
}
#endif

#endif /* RESP_H */
