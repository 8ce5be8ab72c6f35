/* examples/resp/resp.c — the RESP2 client: an incremental reply parser, and a
 * client built on an interloop protocol (il_create_connection).
 *
 * Only <interloop/interloop.h> is used: the transport does the socket work
 * on whatever engine the loop runs on, and this file only turns bytes into
 * replies and replies into completed futures.
 *
 * How replies find their futures: Redis answers the commands of one
 * connection in the order it received them, so the client keeps a FIFO of
 * pending commands and gives each complete reply to the oldest one. Pub/sub
 * is the exception: a subscribed connection also receives "message" pushes
 * that answer nothing; they go to the channel's callback. */
#include "resp.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---------------------------------------------------------------
 */

const char *resp_strerror(int code) {
  switch (code) {
  case RESP_EREPLY:
    return "the server replied with an error";
  case RESP_EPROTOCOL:
    return "protocol error: the server sent something that is not RESP2";
  default:
    return il_strerror(code);
  }
}

/* ---- replies --------------------------------------------------------------
 */

void resp_reply_free(resp_reply_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->elements; i++)
    resp_reply_free(r->element[i]);
  free(r->element);
  free(r->str);
  free(r);
}

/* The destructor a future gets with a reply it holds. */
static void reply_dtor(void *r) {
  resp_reply_free(r);
}

/* ---- the parser -----------------------------------------------------------
 * RESP2 is a sequence of lines ("+OK\r\n", ":42\r\n", "$5\r\n", "*2\r\n"),
 * where a bulk-string header is followed by that many bytes and "\r\n", and
 * an array header by that many replies. The parser keeps exactly what it
 * needs to resume anywhere: the unfinished line, the bulk string being
 * filled, and a stack of arrays still missing elements. Nothing is parsed
 * twice however the bytes are split. */

#define MAX_LINE ((size_t)64 * 1024)
#define MAX_BULK ((long long)512 * 1024 * 1024) /* Redis's own default */
#define MAX_DEPTH 64

typedef struct frame {
  resp_reply_t *array; /* elements filled so far: array->elements */
  size_t expected;     /* elements it will have */
  size_t cap;          /* slots allocated in array->element */
} frame_t;

struct resp_parser {
  char *line; /* the current line, without its "\r\n" once complete */
  size_t line_len, line_cap;
  resp_reply_t *bulk; /* a bulk string being read, or NULL */
  size_t bulk_got;    /* bytes of it read, counting the final "\r\n" */
  frame_t stack[MAX_DEPTH];
  size_t depth;
  const char *error; /* static description once failed, else NULL */
};

int resp_parser_new(resp_parser_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = calloc(1, sizeof(resp_parser_t));
  return *out ? 0 : IL_ENOMEM;
}

/* Drops everything half-parsed. */
static void parser_reset(resp_parser_t *p) {
  resp_reply_free(p->bulk);
  p->bulk = NULL;
  p->bulk_got = 0;
  while (p->depth > 0)
    resp_reply_free(p->stack[--p->depth].array);
  p->line_len = 0;
}

void resp_parser_free(resp_parser_t *p) {
  if (!p)
    return;
  parser_reset(p);
  free(p->line);
  free(p);
}

const char *resp_parser_error(const resp_parser_t *p) {
  return p && p->error ? p->error : "";
}

static int parser_fail(resp_parser_t *p, const char *why) {
  parser_reset(p);
  p->error = why;
  return RESP_EPROTOCOL;
}

/* Parses a whole line's number: an optional '-' and at least one digit,
 * nothing else, no overflow. */
static int parse_number(const char *s, size_t len, long long *out) {
  int neg = len > 0 && s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == len)
    return -1;
  unsigned long long v = 0;
  unsigned long long limit =
      neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (limit - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  /* -LLONG_MIN does not fit: negate in unsigned arithmetic. */
  *out = neg ? (long long)(0 - v) : (long long)v;
  return 0;
}

static resp_reply_t *new_reply(resp_type_t type) {
  resp_reply_t *r = calloc(1, sizeof(*r));
  if (r)
    r->type = type;
  return r;
}

/* A STATUS or ERROR reply holding a copy of the line's text. */
static resp_reply_t *text_reply(resp_type_t type, const char *s, size_t len) {
  resp_reply_t *r = new_reply(type);
  if (!r || !(r->str = malloc(len + 1))) {
    free(r);
    return NULL;
  }
  memcpy(r->str, s, len);
  r->str[len] = '\0';
  r->len = len;
  return r;
}

/* A reply is complete: it becomes an element of the innermost open array,
 * which may complete that array in turn, and so on up. Returns the reply
 * that completed at the top level, or NULL if an array still waits. */
static resp_reply_t *complete(resp_parser_t *p, resp_reply_t *r) {
  while (p->depth > 0) {
    frame_t *f = &p->stack[p->depth - 1];
    f->array->element[f->array->elements++] = r;
    if (f->array->elements < f->expected)
      return NULL;
    r = f->array;
    p->depth--;
  }
  return r;
}

/* Adds an array of n > 0 elements to the stack. Its element slots grow as
 * elements arrive, so a header claiming a huge count allocates nothing
 * until the elements really come. */
static int open_array(resp_parser_t *p, size_t n) {
  if (p->depth == MAX_DEPTH)
    return parser_fail(p, "arrays nested too deep");
  resp_reply_t *a = new_reply(RESP_ARRAY);
  if (!a)
    return IL_ENOMEM;
  p->stack[p->depth++] = (frame_t){a, n, 0};
  return 0;
}

/* Makes room for one more element in the innermost array, if there is one. */
static int reserve_element(resp_parser_t *p) {
  if (p->depth == 0)
    return 0;
  frame_t *f = &p->stack[p->depth - 1];
  if (f->array->elements < f->cap)
    return 0;
  size_t cap = f->cap ? f->cap * 2 : 8;
  if (cap > f->expected)
    cap = f->expected;
  resp_reply_t **e = realloc(f->array->element, cap * sizeof(*e));
  if (!e)
    return IL_ENOMEM;
  f->array->element = e;
  f->cap = cap;
  return 0;
}

/* Handles one complete line (p->line, p->line_len, "\r\n" removed). Returns
 * 1 and *reply when a top-level reply completed, 0 when more is needed, or
 * an error. */
static int parse_line(resp_parser_t *p, resp_reply_t **reply) {
  const char *s = p->line + 1;
  size_t len = p->line_len - 1;
  long long n = 0;
  resp_reply_t *r = NULL;
  int rc = reserve_element(p);
  if (rc < 0)
    return rc;
  switch (p->line[0]) {
  case '+':
  case '-':
    r = text_reply(p->line[0] == '+' ? RESP_STATUS : RESP_ERROR, s, len);
    break;
  case ':':
    if (parse_number(s, len, &n) < 0)
      return parser_fail(p, "bad integer");
    if ((r = new_reply(RESP_INTEGER)))
      r->integer = n;
    break;
  case '$':
    if (parse_number(s, len, &n) < 0 || n < -1)
      return parser_fail(p, "bad bulk string length");
    if (n > MAX_BULK)
      return parser_fail(p, "bulk string longer than 512 MiB");
    if (n == -1) {
      r = new_reply(RESP_NIL);
      break;
    }
    /* The payload and its "\r\n" are read into str by resp_parser_feed. */
    if (!(p->bulk = new_reply(RESP_STRING)) ||
        !(p->bulk->str = malloc((size_t)n + 2))) {
      free(p->bulk);
      p->bulk = NULL;
      return IL_ENOMEM;
    }
    p->bulk->len = (size_t)n;
    p->bulk_got = 0;
    return 0;
  case '*':
    if (parse_number(s, len, &n) < 0 || n < -1)
      return parser_fail(p, "bad array length");
    if (n == -1) {
      r = new_reply(RESP_NIL);
    } else if (n == 0) {
      r = new_reply(RESP_ARRAY);
    } else {
      if ((unsigned long long)n > SIZE_MAX / sizeof(resp_reply_t *))
        return parser_fail(p, "array too long");
      return open_array(p, (size_t)n);
    }
    break;
  default:
    return parser_fail(p, "unknown reply type");
  }
  if (!r)
    return IL_ENOMEM;
  *reply = complete(p, r);
  return *reply ? 1 : 0;
}

int resp_parser_feed(resp_parser_t *p, const void *data, size_t len,
                     size_t *used, resp_reply_t **reply) {
  if (!p || !used || !reply || (!data && len > 0))
    return IL_EINVAL;
  *used = 0;
  *reply = NULL;
  if (p->error)
    return RESP_EPROTOCOL;
  const char *in = data;
  size_t pos = 0;
  while (pos < len) {
    int rc;
    if (p->bulk) { /* the payload of a bulk string, then its "\r\n" */
      resp_reply_t *b = p->bulk;
      size_t want = b->len + 2 - p->bulk_got;
      size_t take = len - pos < want ? len - pos : want;
      memcpy(b->str + p->bulk_got, in + pos, take);
      p->bulk_got += take;
      pos += take;
      if (p->bulk_got < b->len + 2)
        break;
      if (b->str[b->len] != '\r' || b->str[b->len + 1] != '\n')
        return parser_fail(p, "bulk string not followed by CRLF");
      b->str[b->len] = '\0';
      p->bulk = NULL;
      if ((rc = reserve_element(p)) < 0) {
        resp_reply_free(b);
        return rc;
      }
      *reply = complete(p, b);
      rc = *reply ? 1 : 0;
    } else { /* a line: up to and including '\n' */
      const char *nl = memchr(in + pos, '\n', len - pos);
      size_t take = nl ? (size_t)(nl - (in + pos)) + 1 : len - pos;
      if (p->line_len + take > MAX_LINE)
        return parser_fail(p, "line longer than 64 KiB");
      if (p->line_len + take > p->line_cap) {
        size_t cap = p->line_cap ? p->line_cap : 64;
        while (cap < p->line_len + take)
          cap *= 2;
        char *line = realloc(p->line, cap);
        if (!line)
          return IL_ENOMEM;
        p->line = line;
        p->line_cap = cap;
      }
      memcpy(p->line + p->line_len, in + pos, take);
      p->line_len += take;
      pos += take;
      if (!nl)
        break;
      if (p->line_len < 3 || p->line[p->line_len - 2] != '\r')
        return parser_fail(p, "line not ended by CRLF");
      p->line_len -= 2;
      rc = parse_line(p, reply);
      p->line_len = 0;
      if (rc < 0)
        return rc;
    }
    if (rc == 1) {
      *used = pos;
      return 1;
    }
  }
  *used = pos;
  return 0;
}

/* ---- the client -----------------------------------------------------------
 */

typedef enum cmd_kind { CMD_NORMAL, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE } cmd_kind_t;

/* A command whose reply has not arrived yet. */
typedef struct pending {
  struct pending *next;
  il_future_t *future; /* the client's reference */
  cmd_kind_t kind;
} pending_t;

typedef struct subscription {
  struct subscription *next;
  char *channel;
  size_t len;
  resp_message_fn cb;
  void *ud;
} subscription_t;

struct resp_client {
  il_loop_t *loop;
  /* The memory lives while anyone may still call us: the application
   * (until resp_free), the connect attempt's done-callback, the transport
   * (from connection_made to connection_lost), a data_received in progress. */
  int refs;
  int freed;              /* resp_free was called */
  int closing;            /* resp_close (or resp_free) was called */
  int ended;              /* 0, or why the connection is gone (or never came) */
  il_future_t *connect;   /* il_create_connection's, until it is done */
  il_future_t *connected; /* the application's, or NULL */
  il_future_t *closed;    /* made by the first resp_close asking */
  il_transport_t *transport; /* from connection_made to connection_lost */
  char *early;               /* commands sent before the connection was up */
  size_t early_len, early_cap;
  pending_t *head, *tail;
  size_t npending;
  int subscribed; /* a (un)subscribe was sent and the server has not yet
                     confirmed that no channel is left */
  subscription_t *subs;
  resp_parser_t *parser;
};

static void client_unref(resp_client_t *c) {
  if (--c->refs > 0)
    return;
  while (c->subs) {
    subscription_t *s = c->subs;
    c->subs = s->next;
    free(s->channel);
    free(s);
  }
  il_future_unref(c->connected);
  il_future_unref(c->closed);
  resp_parser_free(c->parser);
  free(c->early);
  free(c);
}

/* Fails one future with `code`: interloop reserves IL_ECANCELED for
 * cancellation, so that one cancels. A future already done (the
 * application cancelled it) is left alone. */
static void fail_future(il_future_t *f, int code, const char *msg) {
  if (!f || il_future_done(f))
    return;
  if (code == IL_ECANCELED)
    il_future_cancel(f, msg);
  else
    il_future_set_error(f, code, msg);
}

/* Records why the connection ended; the first reason stays. */
static void end(resp_client_t *c, int code) {
  if (!c->ended)
    c->ended = code;
}

static pending_t *pop_pending(resp_client_t *c) {
  pending_t *p = c->head;
  if (p) {
    c->head = p->next;
    if (!c->head)
      c->tail = NULL;
    c->npending--;
  }
  return p;
}

/* Every command still waiting fails with code and msg. */
static void fail_all(resp_client_t *c, int code, const char *msg) {
  pending_t *p;
  while ((p = pop_pending(c))) {
    fail_future(p->future, code, msg);
    il_future_unref(p->future);
    free(p);
  }
}

static void complete_closed(resp_client_t *c) {
  if (c->closed && !il_future_done(c->closed))
    il_future_set_result(c->closed, NULL, NULL);
}

/* After resp_close, the connection closes once the last reply is in. */
static void maybe_finish_close(resp_client_t *c) {
  if (c->closing && c->npending == 0 && c->transport)
    il_transport_close(c->transport);
}

/* The server broke the protocol: nothing after this can be trusted. */
static void protocol_error(resp_client_t *c, const char *why) {
  char msg[160];
  snprintf(msg, sizeof(msg), "protocol error: %s", why);
  fail_all(c, RESP_EPROTOCOL, msg);
  end(c, RESP_EPROTOCOL);
  if (c->transport)
    il_transport_abort(c->transport);
}

/* Hands a reply to its command's future (which takes it). */
static void finish(pending_t *p, resp_reply_t *r) {
  if (il_future_done(p->future)) { /* cancelled: nobody wants the reply */
    resp_reply_free(r);
  } else if (r->type == RESP_ERROR) {
    il_future_set_error(p->future, RESP_EREPLY, r->str);
    resp_reply_free(r);
  } else if (il_future_set_result(p->future, r, reply_dtor) < 0) {
    resp_reply_free(r);
  }
  il_future_unref(p->future);
  free(p);
}

static int is_string(const resp_reply_t *r, const char *s) {
  size_t n = strlen(s);
  return r->type == RESP_STRING && r->len == n && !memcmp(r->str, s, n);
}

static subscription_t **find_sub(resp_client_t *c, const char *ch, size_t n) {
  subscription_t **s = &c->subs;
  while (*s && ((*s)->len != n || memcmp((*s)->channel, ch, n)))
    s = &(*s)->next;
  return s;
}

/* A reply on a subscribed connection: a message for a callback, or the
 * confirmation of the oldest (un)subscribe. */
static void push_received(resp_client_t *c, resp_reply_t *r) {
  pending_t *head = c->head;
  if (r->type == RESP_ERROR && head) { /* the server refused a request */
    finish(pop_pending(c), r);
    return;
  }
  if (r->type != RESP_ARRAY || r->elements != 3 ||
      r->element[0]->type != RESP_STRING) {
    resp_reply_free(r);
    protocol_error(c, "unexpected reply on a subscribed connection");
    return;
  }
  resp_reply_t **e = r->element;
  if (is_string(e[0], "message") && e[1]->type == RESP_STRING &&
      e[2]->type == RESP_STRING) {
    subscription_t *s = *find_sub(c, e[1]->str, e[1]->len);
    if (s && !c->closing)
      s->cb(c, e[1]->str, e[1]->len, e[2]->str, e[2]->len, s->ud);
    resp_reply_free(r);
  } else if (head && head->kind == CMD_SUBSCRIBE &&
             is_string(e[0], "subscribe")) {
    finish(pop_pending(c), r);
  } else if (head && head->kind == CMD_UNSUBSCRIBE &&
             is_string(e[0], "unsubscribe") && e[2]->type == RESP_INTEGER) {
    /* Only (un)subscriptions can be pending here, so when none is left and
     * the server counts no channel, the connection is a normal one again. */
    if (e[2]->integer == 0 && c->npending == 1)
      c->subscribed = 0;
    finish(pop_pending(c), r);
  } else {
    resp_reply_free(r);
    protocol_error(c, "unexpected reply on a subscribed connection");
  }
}

static void reply_received(resp_client_t *c, resp_reply_t *r) {
  /* Commands are refused once a subscribe is sent, so normal commands are
   * all ahead of the first (un)subscribe in the queue. */
  if (c->head && c->head->kind == CMD_NORMAL)
    finish(pop_pending(c), r);
  else if (c->head || c->subscribed)
    push_received(c, r);
  else {
    resp_reply_free(r);
    protocol_error(c, "a reply to no command");
  }
  maybe_finish_close(c);
}

/* ---- the protocol ---------------------------------------------------------
 */

static void on_connection_made(il_transport_t *t, void *ud) {
  resp_client_t *c = ud;
  c->transport = il_transport_ref(t);
  c->refs++; /* dropped in on_connection_lost */
  if (c->freed) {
    il_transport_abort(t);
    return;
  }
  if (c->early_len > 0 && il_transport_write(t, c->early, c->early_len) < 0) {
    protocol_error(c, "cannot send the queued commands");
    return;
  }
  free(c->early);
  c->early = NULL;
  c->early_len = c->early_cap = 0;
  if (c->connected && !il_future_done(c->connected))
    il_future_set_result(c->connected, NULL, NULL);
  maybe_finish_close(c);
}

static void on_data_received(il_transport_t *t, const void *data, size_t len,
                             void *ud) {
  (void)t;
  resp_client_t *c = ud;
  const char *in = data;
  c->refs++; /* a message callback may free the client */
  while (len > 0 && !c->freed && !c->ended) {
    size_t used;
    resp_reply_t *r;
    int rc = resp_parser_feed(c->parser, in, len, &used, &r);
    if (rc < 0) {
      protocol_error(c, rc == RESP_EPROTOCOL ? resp_parser_error(c->parser)
                                             : il_strerror(rc));
      break;
    }
    in += used;
    len -= used;
    if (rc == 1)
      reply_received(c, r);
  }
  client_unref(c);
}

static void on_connection_lost(il_transport_t *t, int error, void *ud) {
  (void)t;
  resp_client_t *c = ud;
  char msg[160];
  if (error == 0)
    snprintf(msg, sizeof(msg), "connection closed by the server");
  else
    snprintf(msg, sizeof(msg), "connection lost: %s", il_strerror(error));
  end(c, error ? error : c->closing ? IL_ECLOSED : IL_EOF);
  fail_all(c, error ? error : IL_EOF, msg);
  complete_closed(c);
  if (c->transport) { /* made: drop what on_connection_made took */
    il_transport_unref(c->transport);
    c->transport = NULL;
    client_unref(c);
  }
}

static const il_protocol_t client_protocol = {
    .size = sizeof(il_protocol_t),
    .connection_made = on_connection_made,
    .data_received = on_data_received,
    .connection_lost = on_connection_lost,
    /* eof_received NULL: the server closing ends the connection. Writes are
     * not paced (pause_writing NULL): the transport buffers them all. */
};

/* The connect attempt finished. Success went through connection_made; here
 * only a failure (or a cancellation by resp_free) needs handling. */
static int on_connect_done(il_future_t *f, void *arg) {
  resp_client_t *c = arg;
  const char *msg = NULL;
  int rc = il_future_error(f, &msg); /* also marks the error retrieved */
  if (rc < 0 && !c->transport && !c->ended) {
    if (rc == IL_ECANCELED) /* resp_close or resp_free stopped it */
      msg = "the client was closed before the connection was up";
    end(c, rc == IL_ECANCELED ? IL_ECLOSED : rc);
    fail_all(c, rc, msg);
    fail_future(c->connected, rc, msg);
    complete_closed(c);
  }
  c->connect = NULL;
  il_future_unref(f);
  client_unref(c);
  return 0;
}

int resp_connect(il_loop_t *loop, const char *host, int port,
                 const il_connect_options_t *opts, resp_client_t **client,
                 il_future_t **connected) {
  if (connected)
    *connected = NULL;
  if (client)
    *client = NULL;
  if (!loop || !host || !client || port < 0 || port > 65535)
    return IL_EINVAL;
  resp_client_t *c = calloc(1, sizeof(*c));
  if (!c)
    return IL_ENOMEM;
  c->loop = loop;
  c->refs = 1;
  int rc = resp_parser_new(&c->parser);
  if (rc == 0 && connected)
    rc = il_future_new(loop, &c->connected);
  if (rc == 0)
    rc = il_create_connection(loop, host, port, opts, &client_protocol, c,
                              &c->connect);
  if (rc < 0) {
    client_unref(c);
    return rc;
  }
  rc = il_future_add_done_callback(c->connect, on_connect_done, c);
  if (rc < 0) {
    /* Stop the attempt. Its connection_made may already be queued and
     * would find the client freed: keep the memory (a small leak, on an
     * out-of-memory path only) rather than risk a use after free. */
    c->freed = 1;
    end(c, IL_ENOMEM);
    il_future_cancel(c->connect, NULL);
    il_future_unref(c->connect);
    c->connect = NULL;
    return rc;
  }
  c->refs++; /* for on_connect_done */
  *client = c;
  if (connected)
    *connected = il_future_ref(c->connected);
  return 0;
}

/* ---- sending --------------------------------------------------------------
 */

/* Encodes a command as RESP2: an array of bulk strings. */
static char *encode(int argc, const char *const *argv, const size_t *argvlen,
                    size_t *out_len) {
  size_t total = 32;
  for (int i = 0; i < argc; i++)
    total += 32 + (argvlen ? argvlen[i] : strlen(argv[i]));
  char *buf = malloc(total);
  if (!buf)
    return NULL;
  size_t n = (size_t)snprintf(buf, total, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++) {
    size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
    n += (size_t)snprintf(buf + n, total - n, "$%zu\r\n", len);
    memcpy(buf + n, argv[i], len);
    memcpy(buf + n + len, "\r\n", 2);
    n += len + 2;
  }
  *out_len = n;
  return buf;
}

/* Queues bytes sent before the connection is up. */
static int send_early(resp_client_t *c, const char *buf, size_t len) {
  if (c->early_len + len > c->early_cap) {
    size_t cap = c->early_cap ? c->early_cap : 1024;
    while (cap < c->early_len + len)
      cap *= 2;
    char *early = realloc(c->early, cap);
    if (!early)
      return IL_ENOMEM;
    c->early = early;
    c->early_cap = cap;
  }
  memcpy(c->early + c->early_len, buf, len);
  c->early_len += len;
  return 0;
}

/* Sends a command and queues its future. The caller checked the state. */
static int send_command(resp_client_t *c, cmd_kind_t kind, int argc,
                        const char *const *argv, const size_t *argvlen,
                        il_future_t **reply) {
  il_future_t *f;
  int rc = il_future_new(c->loop, &f); /* also checks the thread */
  if (rc < 0)
    return rc;
  size_t len;
  char *buf = encode(argc, argv, argvlen, &len);
  pending_t *p = malloc(sizeof(*p));
  if (!buf || !p)
    rc = IL_ENOMEM;
  else if (c->transport)
    rc = il_transport_write(c->transport, buf, len); /* copies */
  else
    rc = send_early(c, buf, len);
  free(buf);
  if (rc < 0) {
    free(p);
    il_future_unref(f);
    return rc;
  }
  *p = (pending_t){NULL, f, kind};
  if (c->tail)
    c->tail->next = p;
  else
    c->head = p;
  c->tail = p;
  c->npending++;
  *reply = il_future_ref(f);
  return 0;
}

int resp_command(resp_client_t *c, int argc, const char *const *argv,
                 const size_t *argvlen, il_future_t **reply) {
  if (reply)
    *reply = NULL;
  if (!c || !argv || !reply || argc < 1)
    return IL_EINVAL;
  for (int i = 0; i < argc; i++)
    if (!argv[i])
      return IL_EINVAL;
  if (c->closing || c->ended)
    return IL_ECLOSED;
  if (c->subscribed)
    return IL_EINVALSTATE;
  return send_command(c, CMD_NORMAL, argc, argv, argvlen, reply);
}

#define MAX_WORDS 64

int resp_command_strings(resp_client_t *c, il_future_t **reply,
                         const char *word, ...) {
  const char *argv[MAX_WORDS];
  int argc = 0;
  va_list ap;
  va_start(ap, word);
  for (const char *w = word; w; w = va_arg(ap, const char *)) {
    if (argc == MAX_WORDS) {
      va_end(ap);
      if (reply)
        *reply = NULL;
      return IL_EINVAL;
    }
    argv[argc++] = w;
  }
  va_end(ap);
  return resp_command(c, argc, argv, NULL, reply);
}

int resp_state(const resp_client_t *c) {
  if (!c)
    return IL_EINVAL;
  if (c->ended)
    return c->ended;
  if (c->freed) /* freed while connecting */
    return IL_ECLOSED;
  return c->transport ? 1 : 0;
}

size_t resp_pending(const resp_client_t *c) {
  return c ? c->npending : 0;
}

/* ---- pub/sub --------------------------------------------------------------
 */

int resp_subscribe(resp_client_t *c, const char *channel, resp_message_fn cb,
                   void *ud, il_future_t **done) {
  if (done)
    *done = NULL;
  if (!c || !channel || !cb || !done)
    return IL_EINVAL;
  if (c->closing || c->ended)
    return IL_ECLOSED;
  size_t len = strlen(channel);
  subscription_t *s = *find_sub(c, channel, len);
  subscription_t *fresh = NULL;
  if (!s) { /* allocated before sending, so nothing can fail after it */
    fresh = calloc(1, sizeof(*fresh));
    if (!fresh || !(fresh->channel = strdup(channel))) {
      free(fresh);
      return IL_ENOMEM;
    }
    fresh->len = len;
  }
  const char *argv[2] = {"SUBSCRIBE", channel};
  int rc = send_command(c, CMD_SUBSCRIBE, 2, argv, NULL, done);
  if (rc < 0) {
    if (fresh)
      free(fresh->channel);
    free(fresh);
    return rc;
  }
  if (fresh) {
    fresh->next = c->subs;
    c->subs = s = fresh;
  }
  s->cb = cb;
  s->ud = ud;
  c->subscribed = 1;
  return 0;
}

int resp_unsubscribe(resp_client_t *c, const char *channel,
                     il_future_t **done) {
  if (done)
    *done = NULL;
  if (!c || !channel || !done)
    return IL_EINVAL;
  if (c->closing || c->ended)
    return IL_ECLOSED;
  if (!c->subscribed)
    return IL_EINVALSTATE;
  const char *argv[2] = {"UNSUBSCRIBE", channel};
  int rc = send_command(c, CMD_UNSUBSCRIBE, 2, argv, NULL, done);
  if (rc < 0)
    return rc;
  /* Messages still in flight for the channel are dropped from now on. */
  subscription_t **s = find_sub(c, channel, strlen(channel));
  if (*s) {
    subscription_t *gone = *s;
    *s = gone->next;
    free(gone->channel);
    free(gone);
  }
  return 0;
}

/* ---- closing --------------------------------------------------------------
 */

int resp_close(resp_client_t *c, il_future_t **closed) {
  if (closed)
    *closed = NULL;
  if (!c)
    return IL_EINVAL;
  if (closed && !c->closed) {
    int rc = il_future_new(c->loop, &c->closed);
    if (rc < 0)
      return rc;
    if (c->ended && !c->transport) /* nothing left to wait for */
      complete_closed(c);
  }
  c->closing = 1;
  if (c->connect && c->npending == 0) /* nothing to send: stop connecting */
    il_future_cancel(c->connect, "resp_close");
  maybe_finish_close(c);
  if (closed)
    *closed = il_future_ref(c->closed);
  return 0;
}

void resp_free(resp_client_t *c) {
  if (!c || c->freed)
    return;
  c->freed = c->closing = 1;
  /* Cancelled rather than failed: nobody is told of an error they may no
   * longer listen for (an unretrieved error reaches the loop's handler). */
  fail_all(c, IL_ECANCELED, "the client was freed");
  fail_future(c->connected, IL_ECANCELED, "the client was freed");
  complete_closed(c);
  /* No callback after this: the message callbacks go now. The connect
   * attempt and the transport keep the memory until they have called us
   * back for the last time. */
  while (c->subs) {
    subscription_t *s = c->subs;
    c->subs = s->next;
    free(s->channel);
    free(s);
  }
  if (c->connect)
    il_future_cancel(c->connect, "resp_free");
  if (c->transport)
    il_transport_abort(c->transport);
  client_unref(c);
}
