/* examples/resp/test_resp.c — tests of the RESP library: the same binary,
 * built once, runs on every backend, owned and adopted.
 *
 *   interloop-resp-test --parser
 *       the reply parser alone, fed whole, byte by byte and split at every
 *       position (no server needed)
 *   interloop-resp-test [--backend NAME] [--adopted] [--host H] --port P
 *       the client against a Redis server at H:P (default 127.0.0.1): on a
 *       loop interloop owns, or with --adopted on an engine loop created and
 *       driven the way an application would (the backend's foreign_new and
 *       foreign_run), which must be left clean at the end
 *   interloop-resp-test --free-port
 *       prints a TCP port free on 127.0.0.1 at this moment (for the script)
 *
 * Each check prints "FAIL file:line: what" when it fails; each group prints
 * "ok: group" when all its checks passed. Exit status 0 when all passed. */
#include "resp.h"

#include <interloop/backend.h> /* for adopted mode: the backend ABI */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, what)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, what);                    \
    }                                                                          \
  } while (0)

/* Prints "ok: name" if no check failed since `before`. */
static void group_done(const char *name, int before) {
  if (failures == before)
    printf("ok: %s\n", name);
  fflush(stdout);
}

/* ---- the parser -----------------------------------------------------------
 */

/* Renders a reply as text, escaping bytes that are not printable, so that
 * replies can be compared as strings. */
static void dump(const resp_reply_t *r, char *out, size_t cap, size_t *n) {
  static const char *const prefix[] = {"?", "$", "+", "-", ":", "nil", "["};
#define PUT(...)                                                               \
  do {                                                                         \
    int w_ = snprintf(out + *n, cap - *n, __VA_ARGS__);                        \
    if (w_ > 0)                                                                \
      *n = *n + (size_t)w_ < cap ? *n + (size_t)w_ : cap - 1;                  \
  } while (0)
  PUT("%s", prefix[r->type]);
  switch (r->type) {
  case RESP_STRING:
  case RESP_STATUS:
  case RESP_ERROR:
    for (size_t i = 0; i < r->len; i++) {
      unsigned char ch = (unsigned char)r->str[i];
      if (ch >= 32 && ch < 127 && ch != '\\')
        PUT("%c", ch);
      else
        PUT("\\x%02x", ch);
    }
    break;
  case RESP_INTEGER:
    PUT("%lld", r->integer);
    break;
  case RESP_ARRAY:
    for (size_t i = 0; i < r->elements; i++) {
      if (i > 0)
        PUT(",");
      dump(r->element[i], out, cap, n);
    }
    PUT("]");
    break;
  default:
    break;
  }
#undef PUT
}

/* Feeds `in` in pieces of `step` bytes (the last piece of the first `split`
 * bytes ends at `split`, when split > 0) and dumps every reply, separated by
 * spaces. Returns the first error, or 0. */
static int parse_all(const char *in, size_t len, size_t step, size_t split,
                     char *out, size_t cap) {
  resp_parser_t *p;
  size_t n = 0;
  out[0] = '\0';
  if (resp_parser_new(&p) < 0)
    return IL_ENOMEM;
  int rc = 0;
  size_t pos = 0;
  while (pos < len && rc >= 0) {
    size_t piece = step ? step : len;
    if (split > pos && pos + piece > split)
      piece = split - pos;
    if (pos + piece > len)
      piece = len - pos;
    size_t off = 0;
    while (off < piece) { /* a piece may hold several replies */
      size_t used;
      resp_reply_t *r;
      rc = resp_parser_feed(p, in + pos + off, piece - off, &used, &r);
      if (rc < 0)
        break;
      if (used == 0 && rc == 0) { /* must always make progress */
        rc = IL_EINVALSTATE;
        break;
      }
      off += used;
      if (rc == 1) {
        if (n > 0 && n + 1 < cap)
          out[n++] = ' ';
        dump(r, out, cap, &n);
        resp_reply_free(r);
      }
    }
    pos += piece;
  }
  resp_parser_free(p);
  return rc < 0 ? rc : 0;
}

static const char good_stream[] =
    "+OK\r\n-ERR bad thing\r\n:0\r\n:-42\r\n"
    ":9223372036854775807\r\n:-9223372036854775808\r\n"
    "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n+\r\n"
    "$8\r\na\r\nb\0c\r\n\r\n"
    "*3\r\n:1\r\n*2\r\n$1\r\nx\r\n-E inner\r\n+s\r\n"
    "*2\r\n*1\r\n*1\r\n:7\r\n$-1\r\n";

static const char good_dump[] =
    "+OK -ERR bad thing :0 :-42 :9223372036854775807 "
    ":-9223372036854775808 $hello $ nil nil [] + "
    "$a\\x0d\\x0ab\\x00c\\x0d\\x0a [:1,[$x,-E inner],+s] [[[:7]],nil]";

static const struct {
  const char *what, *bytes;
} bad_inputs[] = {
    {"unknown type byte", "?\r\n"},
    {"empty integer", ":\r\n"},
    {"integer with a letter", ":12a\r\n"},
    {"integer overflow", ":9223372036854775808\r\n"},
    {"bulk length -2", "$-2\r\n"},
    {"bulk length not a number", "$abc\r\n"},
    {"bulk without CRLF after it", "$3\r\nabcd\r\n"},
    {"array length -5", "*-5\r\n"},
    {"LF without CR", "+OK\n"},
    {"empty line", "\r\n"},
    {"bulk over 512 MiB", "$600000000\r\n"},
};

static void test_parser(void) {
  int before = failures;
  size_t len = sizeof(good_stream) - 1;
  char out[2048], msg[256];

  /* The whole stream at once, one byte at a time, in odd pieces, and split
   * in two at every position: always the same replies. */
  CHECK(parse_all(good_stream, len, 0, 0, out, sizeof(out)) == 0,
        "parse the stream at once");
  CHECK(!strcmp(out, good_dump), "replies parsed at once");
  if (strcmp(out, good_dump))
    printf("  got:      %s\n  expected: %s\n", out, good_dump);
  for (size_t step = 1; step <= 7; step++) {
    CHECK(parse_all(good_stream, len, step, 0, out, sizeof(out)) == 0 &&
              !strcmp(out, good_dump),
          "replies parsed in small pieces (1 to 7 bytes)");
  }
  for (size_t split = 1; split < len; split++) {
    snprintf(msg, sizeof(msg), "replies parsed split at byte %zu", split);
    CHECK(parse_all(good_stream, len, 0, split, out, sizeof(out)) == 0 &&
              !strcmp(out, good_dump),
          msg);
  }

  /* Malformed input fails, however it is split, and the parser then
   * refuses everything. */
  for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
    const char *b = bad_inputs[i].bytes;
    snprintf(msg, sizeof(msg), "malformed input refused: %s",
             bad_inputs[i].what);
    CHECK(parse_all(b, strlen(b), 0, 0, out, sizeof(out)) == RESP_EPROTOCOL,
          msg);
    CHECK(parse_all(b, strlen(b), 1, 0, out, sizeof(out)) == RESP_EPROTOCOL,
          msg);
  }
  resp_parser_t *p;
  size_t used;
  resp_reply_t *r;
  CHECK(resp_parser_new(&p) == 0, "parser_new");
  CHECK(resp_parser_feed(p, "!x\r\n", 4, &used, &r) == RESP_EPROTOCOL,
        "bad type byte");
  CHECK(strlen(resp_parser_error(p)) > 0, "the parser says why it failed");
  CHECK(resp_parser_feed(p, "+OK\r\n", 5, &used, &r) == RESP_EPROTOCOL,
        "a failed parser refuses further input");
  resp_parser_free(p);

  /* Limits: lines up to 64 KiB, arrays nested up to 64 deep. */
  size_t big = 70000;
  char *line = malloc(big + 3);
  memset(line, 'a', big + 3);
  line[0] = '+';
  memcpy(line + big + 1, "\r\n", 2);
  CHECK(parse_all(line, big + 3, 0, 0, out, sizeof(out)) == RESP_EPROTOCOL,
        "a 70000-byte line is refused");
  free(line);
  char nest[65 * 4 + 5];
  for (int i = 0; i < 65; i++)
    memcpy(nest + 4 * i, "*1\r\n", 4);
  memcpy(nest + 65 * 4, ":1\r\n", 5);
  CHECK(parse_all(nest, sizeof(nest) - 1, 0, 0, out, sizeof(out)) ==
            RESP_EPROTOCOL,
        "arrays nested 65 deep are refused");
  CHECK(parse_all(nest + 4, sizeof(nest) - 5, 0, 0, out, sizeof(out)) == 0,
        "arrays nested 64 deep are parsed");

  /* A reply cut short waits for the rest; `used` counts what was taken. */
  CHECK(resp_parser_new(&p) == 0, "parser_new");
  CHECK(resp_parser_feed(p, "$5\r\nhel", 7, &used, &r) == 0 && used == 7 &&
            r == NULL,
        "half a bulk string: 0, all bytes used");
  CHECK(resp_parser_feed(p, "lo\r\n:1\r\n", 8, &used, &r) == 1 && used == 4 &&
            r && r->type == RESP_STRING && r->len == 5 &&
            !memcmp(r->str, "hello", 6),
        "the rest completes it and leaves the next reply");
  resp_reply_free(r);
  CHECK(resp_parser_feed(p, ":1\r\n", 4, &used, &r) == 1 && used == 4 && r &&
            r->integer == 1,
        "the next reply");
  resp_reply_free(r);
  CHECK(resp_parser_feed(NULL, "", 0, &used, &r) == IL_EINVAL &&
            resp_parser_feed(p, NULL, 1, &used, &r) == IL_EINVAL &&
            resp_parser_feed(p, "", 0, NULL, &r) == IL_EINVAL &&
            resp_parser_new(NULL) == IL_EINVAL,
        "bad arguments: IL_EINVAL");

  /* A 1 MiB bulk string in pieces of 1000 bytes. */
  size_t mib = 1 << 20;
  char *bulk = malloc(mib + 32);
  int h = snprintf(bulk, 32, "$%zu\r\n", mib);
  for (size_t i = 0; i < mib; i++)
    bulk[h + i] = (char)(i * 7 + i / 251);
  memcpy(bulk + h + mib, "\r\n", 2);
  size_t total = (size_t)h + mib + 2, pos = 0;
  r = NULL;
  int rc = 0;
  while (pos < total && rc == 0) {
    size_t piece = total - pos < 1000 ? total - pos : 1000;
    rc = resp_parser_feed(p, bulk + pos, piece, &used, &r);
    pos += used;
  }
  CHECK(rc == 1 && pos == total && r && r->len == mib &&
            !memcmp(r->str, bulk + h, mib),
        "1 MiB bulk string in 1000-byte pieces");
  resp_reply_free(r);
  free(bulk);
  resp_parser_free(p);
  group_done("parser", before);
}

/* ---- helpers for the client tests ---------------------------------------- */

/* A command's outcome, read inside the task. */
typedef struct result {
  il_future_t *f; /* unref with done_with() when finished with r */
  int rc;         /* 0, or the future's error */
  resp_reply_t *r;
  const char *msg; /* the error's message, "" if none */
} result_t;

/* Waits for a command's future (inside the task). */
static result_t await_reply(il_future_t *f) {
  result_t res = {f, 0, NULL, ""};
  void *v = NULL;
  res.rc = il_await(f, &v);
  res.r = v;
  if (res.rc < 0 && il_future_done(f))
    il_future_error(f, &res.msg);
  return res;
}

/* Sends a command of C-string words (the array ends with NULL) and waits. */
static result_t call(resp_client_t *c, const char *const *words) {
  int argc = 0;
  while (words[argc])
    argc++;
  il_future_t *f;
  int rc = resp_command(c, argc, words, NULL, &f);
  if (rc < 0)
    return (result_t){NULL, rc, NULL, "(not sent)"};
  return await_reply(f);
}

#define CALL(c, ...) call(c, (const char *const[]){__VA_ARGS__, NULL})

static void done_with(result_t *res) {
  il_future_unref(res->f);
  res->f = NULL;
}

static int is_str(const resp_reply_t *r, resp_type_t type, const char *s) {
  return r && r->type == type && r->len == strlen(s) && !strcmp(r->str, s);
}

/* Checks that a call replied with the status/string/integer expected. */
static int expect_status(resp_client_t *c, const char *const *words,
                         const char *status) {
  result_t res = call(c, words);
  int ok = res.rc == 0 && is_str(res.r, RESP_STATUS, status);
  if (!ok)
    printf("  %s: rc %s (%s)\n", words[0], il_err_name(res.rc), res.msg);
  done_with(&res);
  return ok;
}

static int expect_integer(resp_client_t *c, const char *const *words,
                          long long n) {
  result_t res = call(c, words);
  int ok = res.rc == 0 && res.r && res.r->type == RESP_INTEGER &&
           res.r->integer == n;
  done_with(&res);
  return ok;
}

#define STATUS(c, s, ...)                                                      \
  expect_status(c, (const char *const[]){__VA_ARGS__, NULL}, s)
#define INTEGER(c, n, ...)                                                     \
  expect_integer(c, (const char *const[]){__VA_ARGS__, NULL}, n)

typedef struct test {
  il_loop_t *loop;
  const char *host;
  int port;
  char prefix[64]; /* every key and channel begins with it */
  char key[16][128];
} test_t;

/* A key or channel name unique to this run: prefix + name. */
static const char *K(test_t *t, int slot, const char *name) {
  snprintf(t->key[slot], sizeof(t->key[slot]), "%s%s", t->prefix, name);
  return t->key[slot];
}

static resp_client_t *connect_client(test_t *t) {
  resp_client_t *c = NULL;
  il_future_t *connected;
  int rc = resp_connect(t->loop, t->host, t->port, NULL, &c, &connected);
  CHECK(rc == 0, "resp_connect");
  if (rc < 0)
    return NULL;
  rc = il_await(connected, NULL);
  il_future_unref(connected);
  CHECK(rc == 0, "connected");
  if (rc < 0)
    printf("  cannot connect to %s:%d: %s\n", t->host, t->port,
           il_strerror(rc));
  return c;
}

/* ---- the client tests -----------------------------------------------------
 */

static int order[3000], norder;

static int record_order(il_future_t *f, void *arg) {
  (void)f;
  if (norder < 3000)
    order[norder++] = (int)(intptr_t)arg;
  return 0;
}

/* Many commands written before any reply arrives; the replies complete
 * their futures in order, with the right values. */
static void test_pipeline(test_t *t, resp_client_t *c) {
  int before = failures;
  enum { N = 300 };
  static il_future_t *f[3 * N];
  char key[N][96], val[N][32];
  CHECK(INTEGER(c, 0, "DEL", K(t, 0, "counter")) ||
            INTEGER(c, 1, "DEL", K(t, 0, "counter")),
        "DEL counter");
  norder = 0;
  int sent = 0;
  for (int i = 0; i < N; i++) {
    snprintf(key[i], sizeof(key[i]), "%skey:%d", t->prefix, i);
    snprintf(val[i], sizeof(val[i]), "value %d", i);
    const char *set[] = {"SET", key[i], val[i]};
    const char *get[] = {"GET", key[i]};
    const char *incr[] = {"INCR", t->key[0]};
    sent += resp_command(c, 3, set, NULL, &f[3 * i]) == 0;
    sent += resp_command(c, 2, get, NULL, &f[3 * i + 1]) == 0;
    sent += resp_command(c, 2, incr, NULL, &f[3 * i + 2]) == 0;
  }
  CHECK(sent == 3 * N, "every pipelined command sent");
  CHECK(resp_pending(c) == 3 * N, "resp_pending counts them all");
  for (int i = 0; i < 3 * N; i++)
    il_future_add_done_callback(f[i], record_order, (void *)(intptr_t)i);
  int ok = 1;
  for (int i = 0; i < N; i++) {
    result_t set = await_reply(f[3 * i]);
    result_t get = await_reply(f[3 * i + 1]);
    result_t incr = await_reply(f[3 * i + 2]);
    ok = ok && set.rc == 0 && is_str(set.r, RESP_STATUS, "OK");
    ok = ok && get.rc == 0 && is_str(get.r, RESP_STRING, val[i]);
    ok = ok && incr.rc == 0 && incr.r->type == RESP_INTEGER &&
         incr.r->integer == i + 1;
    done_with(&set), done_with(&get), done_with(&incr);
  }
  CHECK(ok, "pipelined SET/GET/INCR replies carry the right values");
  il_sleep(t->loop, 0.01); /* lets the last done-callbacks run */
  int in_order = norder == 3 * N;
  for (int i = 0; in_order && i < 3 * N; i++)
    in_order = order[i] == i;
  CHECK(in_order, "pipelined futures completed in the order sent");
  CHECK(resp_pending(c) == 0, "nothing pending afterwards");
  group_done("pipelined replies in order", before);
}

static void test_integers_and_nil(test_t *t, resp_client_t *c) {
  int before = failures;
  const char *n = K(t, 1, "n");
  CHECK(STATUS(c, "OK", "SET", n, "9223372036854775806"), "SET n");
  CHECK(INTEGER(c, 9223372036854775807LL, "INCR", n), "INCR to LLONG_MAX");
  CHECK(STATUS(c, "OK", "SET", n, "-5"), "SET n -5");
  CHECK(INTEGER(c, -1000005, "INCRBY", n, "-1000000"), "negative integer");
  CHECK(INTEGER(c, 0, "EXISTS", K(t, 2, "missing")), "integer 0");
  group_done("integers", before);

  before = failures;
  result_t res = CALL(c, "GET", K(t, 2, "missing"));
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_NIL, "GET missing: nil");
  done_with(&res);
  res = CALL(c, "BLPOP", K(t, 2, "missing"), "0.01");
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_NIL,
        "BLPOP timing out: nil array");
  done_with(&res);
  res = CALL(c, "LRANGE", K(t, 2, "missing"), "0", "-1");
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_ARRAY &&
            res.r->elements == 0,
        "LRANGE missing: empty array");
  done_with(&res);
  const char *list = K(t, 3, "list");
  CHECK(INTEGER(c, 0, "DEL", list) || 1, "DEL list");
  CHECK(INTEGER(c, 3, "RPUSH", list, "a", "b", "c"), "RPUSH");
  res = CALL(c, "LRANGE", list, "0", "-1");
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_ARRAY &&
            res.r->elements == 3 &&
            is_str(res.r->element[0], RESP_STRING, "a") &&
            is_str(res.r->element[2], RESP_STRING, "c"),
        "LRANGE: array of strings");
  done_with(&res);
  group_done("nil and arrays", before);
}

static void test_error_replies(test_t *t, resp_client_t *c) {
  int before = failures;
  result_t res = CALL(c, "NOSUCHCOMMAND", "x");
  CHECK(res.rc == RESP_EREPLY && !strncmp(res.msg, "ERR unknown command", 19),
        "unknown command: RESP_EREPLY with the server's message");
  CHECK(res.r == NULL, "a failed future has no reply");
  done_with(&res);
  const char *s = K(t, 4, "string");
  CHECK(STATUS(c, "OK", "SET", s, "not a number"), "SET");
  res = CALL(c, "INCR", s);
  CHECK(res.rc == RESP_EREPLY && strstr(res.msg, "not an integer"),
        "INCR on a string: RESP_EREPLY");
  done_with(&res);
  res = CALL(c, "LPUSH", s, "x");
  CHECK(res.rc == RESP_EREPLY && !strncmp(res.msg, "WRONGTYPE", 9),
        "LPUSH on a string: WRONGTYPE");
  done_with(&res);
  CHECK(STATUS(c, "PONG", "PING"), "the connection still works");

  /* An error inside an array is an element, not a failure. */
  CHECK(STATUS(c, "OK", "MULTI"), "MULTI");
  CHECK(STATUS(c, "QUEUED", "SET", K(t, 5, "tx"), "1"), "queued SET");
  CHECK(STATUS(c, "QUEUED", "LPUSH", s, "x"), "queued LPUSH");
  res = CALL(c, "EXEC");
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_ARRAY &&
            res.r->elements == 2 &&
            is_str(res.r->element[0], RESP_STATUS, "OK") &&
            res.r->element[1]->type == RESP_ERROR &&
            !strncmp(res.r->element[1]->str, "WRONGTYPE", 9),
        "EXEC: an array holding a status and an error");
  done_with(&res);
  CHECK(strcmp(resp_strerror(RESP_EREPLY), "unknown error") &&
            !strcmp(resp_strerror(IL_ECLOSED), il_strerror(IL_ECLOSED)),
        "resp_strerror knows both kinds of codes");
  group_done("error replies", before);
}

static void test_binary(test_t *t, resp_client_t *c) {
  int before = failures;
  static const char key[] = "bin\0key\r\n";
  static const char value[] = "a\r\nb\0c$3\r\n*1\r\n\0\r\n";
  char k[160];
  size_t klen = (size_t)snprintf(k, sizeof(k), "%s", t->prefix);
  memcpy(k + klen, key, sizeof(key) - 1);
  klen += sizeof(key) - 1;
  const char *set[] = {"SET", k, value};
  size_t setlen[] = {3, klen, sizeof(value) - 1};
  il_future_t *f;
  CHECK(resp_command(c, 3, set, setlen, &f) == 0, "SET binary");
  result_t res = await_reply(f);
  CHECK(res.rc == 0 && is_str(res.r, RESP_STATUS, "OK"), "SET binary: OK");
  done_with(&res);
  const char *get[] = {"GET", k};
  size_t getlen[] = {3, klen};
  CHECK(resp_command(c, 2, get, getlen, &f) == 0, "GET binary");
  res = await_reply(f);
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_STRING &&
            res.r->len == sizeof(value) - 1 &&
            !memcmp(res.r->str, value, sizeof(value) - 1) &&
            res.r->str[res.r->len] == '\0',
        "GET returns the same bytes, CR LF and NUL included");
  done_with(&res);
  group_done("binary-safe values", before);

  before = failures;
  size_t mib = 1 << 20;
  char *big = malloc(mib);
  for (size_t i = 0; i < mib; i++)
    big[i] = (char)(i * 7 + i / 251);
  const char *bigkey = K(t, 6, "big");
  const char *bset[] = {"SET", bigkey, big};
  size_t bsetlen[] = {3, strlen(bigkey), mib};
  CHECK(resp_command(c, 3, bset, bsetlen, &f) == 0, "SET 1 MiB");
  result_t set_res = await_reply(f);
  CHECK(set_res.rc == 0, "SET 1 MiB: OK");
  done_with(&set_res);
  /* Three GETs in flight at once: 3 MiB of replies split across reads. */
  il_future_t *g[3];
  for (int i = 0; i < 3; i++)
    CHECK(resp_command_strings(c, &g[i], "GET", bigkey, NULL) == 0,
          "GET 1 MiB");
  for (int i = 0; i < 3; i++) {
    res = await_reply(g[i]);
    CHECK(res.rc == 0 && res.r && res.r->len == mib &&
              !memcmp(res.r->str, big, mib),
          "GET returns the 1 MiB value intact");
    done_with(&res);
  }
  CHECK(INTEGER(c, (long long)mib, "STRLEN", bigkey), "STRLEN 1 MiB");
  free(big);
  group_done("1 MiB value", before);
}

/* A cancelled command's reply is dropped; the next reply still goes to the
 * next command. */
static void test_cancel(test_t *t, resp_client_t *c) {
  int before = failures;
  CHECK(STATUS(c, "OK", "SET", K(t, 7, "a"), "A"), "SET a");
  CHECK(STATUS(c, "OK", "SET", K(t, 8, "b"), "B"), "SET b");
  il_future_t *fa, *fb;
  CHECK(resp_command_strings(c, &fa, "GET", t->key[7], NULL) == 0 &&
            resp_command_strings(c, &fb, "GET", t->key[8], NULL) == 0,
        "two GETs");
  CHECK(il_future_cancel(fa, "not needed") == 1, "cancel the first");
  result_t res = await_reply(fb);
  CHECK(res.rc == 0 && is_str(res.r, RESP_STRING, "B"),
        "the second gets its own reply");
  done_with(&res);
  CHECK(il_future_cancelled(fa), "the first stays cancelled");
  il_future_unref(fa);
  CHECK(STATUS(c, "PONG", "PING"), "the connection is in step");
  group_done("cancelled command", before);
}

/* ---- pub/sub ---- */

typedef struct inbox {
  int count, expected;
  char channel[8][128], message[8][128 * 1024];
  size_t len[8];
  il_future_t *all_in; /* completed when count reaches expected */
} inbox_t;

static void on_message(resp_client_t *c, const char *channel, size_t chlen,
                       const char *msg, size_t len, void *ud) {
  (void)c;
  inbox_t *in = ud;
  if (in->count < 8 && chlen < 128 && len <= sizeof(in->message[0])) {
    memcpy(in->channel[in->count], channel, chlen);
    in->channel[in->count][chlen] = '\0';
    memcpy(in->message[in->count], msg, len);
    in->len[in->count] = len;
  }
  if (++in->count == in->expected && in->all_in)
    il_future_set_result(in->all_in, NULL, NULL);
}

/* Waits until the inbox holds `expected` messages, at most 10 s. */
static int wait_inbox(il_loop_t *loop, inbox_t *in, int expected) {
  in->expected = expected;
  if (in->count >= expected)
    return 0;
  if (il_future_new(loop, &in->all_in) < 0)
    return IL_ENOMEM;
  int rc = il_wait_for(in->all_in, 10.0, NULL);
  il_future_unref(in->all_in);
  in->all_in = NULL;
  return rc;
}

static void free_on_message(resp_client_t *c, const char *channel, size_t chlen,
                            const char *msg, size_t len, void *ud) {
  (void)channel, (void)chlen, (void)msg, (void)len;
  ++*(int *)ud;
  resp_free(c);
}

static void test_pubsub(test_t *t, resp_client_t *pub) {
  int before = failures;
  static inbox_t in1, in2;
  resp_client_t *sub = connect_client(t);
  if (!sub)
    return;
  const char *ch1 = K(t, 9, "chan1"), *ch2 = K(t, 10, "chan2");
  il_future_t *f;
  CHECK(resp_unsubscribe(sub, ch1, &f) == IL_EINVALSTATE && !f,
        "unsubscribe before subscribing: IL_EINVALSTATE");
  CHECK(resp_subscribe(sub, ch1, on_message, &in1, &f) == 0, "subscribe");
  result_t res = await_reply(f);
  CHECK(res.rc == 0 && res.r && res.r->type == RESP_ARRAY &&
            res.r->elements == 3 &&
            is_str(res.r->element[0], RESP_STRING, "subscribe") &&
            is_str(res.r->element[1], RESP_STRING, ch1) &&
            res.r->element[2]->integer == 1,
        "subscribe confirmed: [subscribe, channel, 1]");
  done_with(&res);
  CHECK(resp_command_strings(sub, &f, "PING", NULL) == IL_EINVALSTATE && !f,
        "a subscribed client refuses normal commands: IL_EINVALSTATE");

  static char large[100 * 1024];
  for (size_t i = 0; i < sizeof(large); i++)
    large[i] = (char)(i % 253);
  static const char binary[] = "t\r\nw\0o";
  const char *msgs[3] = {"one", binary, large};
  size_t lens[3] = {3, sizeof(binary) - 1, sizeof(large)};
  for (int i = 0; i < 3; i++) {
    const char *argv[] = {"PUBLISH", ch1, msgs[i]};
    size_t argl[] = {7, strlen(ch1), lens[i]};
    CHECK(resp_command(pub, 3, argv, argl, &f) == 0, "PUBLISH");
    res = await_reply(f);
    CHECK(res.rc == 0 && res.r && res.r->integer == 1,
          "PUBLISH reached one subscriber");
    done_with(&res);
  }
  CHECK(wait_inbox(t->loop, &in1, 3) == 0, "three messages arrived");
  int same = in1.count == 3;
  for (int i = 0; same && i < 3; i++)
    same = !strcmp(in1.channel[i], ch1) && in1.len[i] == lens[i] &&
           !memcmp(in1.message[i], msgs[i], lens[i]);
  CHECK(same, "the messages arrived in order, bytes intact");

  /* A second channel with its own callback. */
  CHECK(resp_subscribe(sub, ch2, on_message, &in2, &f) == 0, "subscribe 2");
  res = await_reply(f);
  CHECK(res.rc == 0 && res.r->element[2]->integer == 2,
        "two channels subscribed");
  done_with(&res);
  CHECK(INTEGER(pub, 1, "PUBLISH", ch2, "two"), "PUBLISH on channel 2");
  CHECK(wait_inbox(t->loop, &in2, 1) == 0 && !strcmp(in2.message[0], "two") &&
            in1.count == 3,
        "channel 2's message went to its own callback");

  /* Unsubscribing from both makes it a normal connection again. */
  CHECK(resp_unsubscribe(sub, ch1, &f) == 0, "unsubscribe 1");
  res = await_reply(f);
  CHECK(res.rc == 0 && is_str(res.r->element[0], RESP_STRING, "unsubscribe") &&
            res.r->element[2]->integer == 1,
        "unsubscribe confirmed, one channel left");
  done_with(&res);
  CHECK(resp_command_strings(sub, &f, "PING", NULL) == IL_EINVALSTATE,
        "still subscribed to one: commands refused");
  CHECK(resp_unsubscribe(sub, ch2, &f) == 0, "unsubscribe 2");
  res = await_reply(f);
  CHECK(res.rc == 0 && res.r->element[2]->integer == 0,
        "unsubscribe confirmed, no channel left");
  done_with(&res);
  CHECK(STATUS(sub, "PONG", "PING"), "normal commands work again");
  CHECK(INTEGER(pub, 0, "PUBLISH", ch1, "nobody"), "nobody listens now");
  resp_free(sub);

  /* A callback may free its client, also with more messages in the same
   * read: none is delivered after that. */
  static int calls;
  sub = connect_client(t);
  if (!sub)
    return;
  CHECK(resp_subscribe(sub, ch1, free_on_message, &calls, &f) == 0,
        "subscribe");
  res = await_reply(f);
  CHECK(res.rc == 0, "subscribed");
  done_with(&res);
  il_future_t *p1, *p2;
  CHECK(resp_command_strings(pub, &p1, "PUBLISH", ch1, "1", NULL) == 0 &&
            resp_command_strings(pub, &p2, "PUBLISH", ch1, "2", NULL) == 0,
        "two PUBLISH");
  res = await_reply(p1);
  done_with(&res);
  res = await_reply(p2);
  done_with(&res);
  for (int i = 0; i < 500 && calls == 0; i++)
    il_sleep(t->loop, 0.01);
  il_sleep(t->loop, 0.05); /* time for a wrong second call */
  CHECK(calls == 1, "the callback that freed its client was called once");
  group_done("pub/sub", before);
}

/* ---- closing, losing, refusing ---- */

static void test_close(test_t *t) {
  int before = failures;
  resp_client_t *c = connect_client(t);
  if (!c)
    return;
  il_future_t *set, *closed, *f;
  CHECK(resp_command_strings(c, &set, "SET", K(t, 11, "closing"), "v", NULL) ==
            0,
        "SET before close");
  CHECK(resp_close(c, &closed) == 0 && closed, "resp_close");
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED && !f,
        "a command after resp_close: IL_ECLOSED");
  result_t res = await_reply(set);
  CHECK(res.rc == 0 && is_str(res.r, RESP_STATUS, "OK"),
        "a command sent before resp_close still gets its reply");
  done_with(&res);
  CHECK(il_await(closed, NULL) == 0, "the closed future completes");
  il_future_unref(closed);
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED,
        "a command on a closed client: IL_ECLOSED");
  CHECK(resp_subscribe(c, "x", on_message, NULL, &f) == IL_ECLOSED,
        "subscribe on a closed client: IL_ECLOSED");
  CHECK(resp_close(c, NULL) == 0, "resp_close again");
  resp_free(c);

  /* resp_free with a command waiting: it is cancelled at once. */
  c = connect_client(t);
  if (!c)
    return;
  CHECK(resp_command_strings(c, &f, "BLPOP", K(t, 12, "never"), "0", NULL) == 0,
        "a blocking BLPOP");
  il_sleep(t->loop, 0.01);
  resp_free(c);
  CHECK(il_future_cancelled(f), "resp_free cancels the waiting command");
  il_future_unref(f);

  /* resp_free and resp_close while still connecting. */
  CHECK(resp_connect(t->loop, t->host, t->port, NULL, &c, &f) == 0, "connect");
  resp_free(c);
  CHECK(il_future_cancelled(f), "resp_free while connecting: connected is "
                                "cancelled");
  il_future_unref(f);
  CHECK(resp_connect(t->loop, t->host, t->port, NULL, &c, &f) == 0, "connect");
  CHECK(resp_close(c, &closed) == 0, "resp_close while connecting");
  CHECK(il_await(closed, NULL) == 0, "closed completes");
  CHECK(il_future_cancelled(f), "connected is cancelled by resp_close");
  il_future_unref(closed);
  il_future_unref(f);
  resp_free(c);
  group_done("closed client", before);
}

/* Another client kills the connection while a command waits: the command
 * fails with the transport's error. */
static void test_connection_lost(test_t *t, resp_client_t *killer) {
  int before = failures;
  resp_client_t *c = connect_client(t);
  if (!c)
    return;
  result_t id = CALL(c, "CLIENT", "ID");
  CHECK(id.rc == 0 && id.r && id.r->type == RESP_INTEGER, "CLIENT ID");
  char idtext[32];
  snprintf(idtext, sizeof(idtext), "%lld", id.r ? id.r->integer : 0);
  done_with(&id);
  il_future_t *f, *closed;
  CHECK(resp_command_strings(c, &f, "BLPOP", K(t, 13, "never"), "0", NULL) == 0,
        "a blocking BLPOP");
  CHECK(INTEGER(killer, 1, "CLIENT", "KILL", "ID", idtext), "CLIENT KILL");
  result_t res = await_reply(f);
  CHECK(res.rc == IL_EOF || res.rc == IL_ECONNRESET,
        "the waiting command fails with the transport's error");
  if (res.rc != IL_EOF && res.rc != IL_ECONNRESET)
    printf("  got %s (%s)\n", il_err_name(res.rc), res.msg);
  done_with(&res);
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED,
        "a command on a lost client: IL_ECLOSED");
  CHECK(resp_close(c, &closed) == 0 && il_await(closed, NULL) == 0,
        "resp_close on a lost client completes");
  il_future_unref(closed);
  resp_free(c);
  group_done("connection lost", before);
}

/* A port with a bound socket that does not listen refuses connections. */
static void test_refused(test_t *t) {
  int before = failures;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t salen = sizeof(sa);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            getsockname(s, (struct sockaddr *)&sa, &salen) == 0,
        "a bound, non-listening socket");
  resp_client_t *c;
  il_future_t *connected, *ping, *f;
  CHECK(resp_connect(t->loop, "127.0.0.1", ntohs(sa.sin_port), NULL, &c,
                     &connected) == 0,
        "resp_connect");
  CHECK(resp_command_strings(c, &ping, "PING", NULL) == 0,
        "a command sent while connecting");
  CHECK(il_await(connected, NULL) == IL_ECONNREFUSED,
        "connected fails with IL_ECONNREFUSED");
  const char *msg = "";
  il_future_error(connected, &msg);
  CHECK(strstr(msg, "refused") != NULL, "the message says refused");
  CHECK(il_await(ping, NULL) == IL_ECONNREFUSED,
        "the early command fails with IL_ECONNREFUSED too");
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED,
        "later commands: IL_ECLOSED");
  il_future_unref(connected);
  il_future_unref(ping);
  resp_free(c);
  close(s);
  group_done("connection refused", before);
}

/* ---- a server that misbehaves ----
 * interloop's own server in this process plays a broken Redis: it sends a
 * reply nobody asked for, or garbage, or good replies one byte at a time. */

typedef enum fake_mode { UNSOLICITED, GARBAGE, TRICKLE } fake_mode_t;

typedef struct fake {
  fake_mode_t mode;
  il_transport_t *t; /* a reference while trickling */
  const char *bytes;
  size_t sent;
} fake_t;

static const char trickled[] = "+OK\r\n$5\r\nhe\r\nl\r\n*2\r\n:1\r\n$-1\r\n";

static int trickle(il_loop_t *loop, void *arg) {
  fake_t *fk = arg;
  if (!il_transport_is_closing(fk->t) && fk->bytes[fk->sent]) {
    il_transport_write(fk->t, fk->bytes + fk->sent++, 1);
    if (fk->bytes[fk->sent])
      return il_loop_call_later(loop, 0.001, trickle, fk, NULL);
  }
  il_transport_unref(fk->t);
  fk->t = NULL;
  return 0;
}

static void fake_made(il_transport_t *t, void *ud) {
  fake_t *fk = ud;
  if (fk->mode == UNSOLICITED)
    il_transport_write(t, ":1\r\n", 4);
}

static void fake_received(il_transport_t *t, const void *data, size_t len,
                          void *ud) {
  (void)data, (void)len;
  fake_t *fk = ud;
  if (fk->mode == GARBAGE) {
    il_transport_write(t, "?oops\r\n", 7);
  } else if (fk->mode == TRICKLE && !fk->bytes) {
    fk->bytes = trickled;
    fk->t = il_transport_ref(t);
    il_loop_call_soon(il_transport_loop(t), trickle, fk, NULL);
  }
}

static const il_protocol_t fake_protocol = {
    .size = sizeof(il_protocol_t),
    .connection_made = fake_made,
    .data_received = fake_received,
};

static int fake_factory(il_server_t *s, void *server_ud,
                        const il_protocol_t **proto, void **ud) {
  (void)s;
  *proto = &fake_protocol;
  *ud = server_ud;
  return 0;
}

/* Connects a client to a fake server in `mode`. */
static resp_client_t *fake_client(test_t *t, fake_t *fk, il_server_t **srv) {
  resp_client_t *c = NULL;
  il_future_t *up;
  if (il_create_server(t->loop, "127.0.0.1", 0, NULL, fake_factory, fk, srv) <
      0)
    return NULL;
  if (resp_connect(t->loop, "127.0.0.1", il_server_port(*srv), NULL, &c, &up) <
      0)
    return NULL;
  CHECK(il_await(up, NULL) == 0, "connected to the fake server");
  il_future_unref(up);
  return c;
}

static void test_bad_server(test_t *t) {
  int before = failures;
  il_server_t *srv = NULL;
  il_future_t *f;

  static fake_t garbage = {.mode = GARBAGE};
  resp_client_t *c = fake_client(t, &garbage, &srv);
  CHECK(c != NULL, "fake server (garbage)");
  result_t res = CALL(c, "PING");
  CHECK(res.rc == RESP_EPROTOCOL && strstr(res.msg, "unknown reply type"),
        "garbage: the command fails with RESP_EPROTOCOL and why");
  done_with(&res);
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED,
        "after a protocol error the client is closed");
  resp_free(c);
  il_server_free(srv);

  static fake_t unsolicited = {.mode = UNSOLICITED};
  c = fake_client(t, &unsolicited, &srv);
  CHECK(c != NULL, "fake server (unsolicited)");
  for (int i = 0; i < 500 && resp_state(c) == 1; i++)
    il_sleep(t->loop, 0.01); /* until the client notices */
  CHECK(resp_state(c) == RESP_EPROTOCOL,
        "a reply to no command ends the connection: RESP_EPROTOCOL");
  CHECK(resp_command_strings(c, &f, "PING", NULL) == IL_ECLOSED,
        "and later commands are refused");
  resp_free(c);
  il_server_free(srv);

  static fake_t slow = {.mode = TRICKLE};
  c = fake_client(t, &slow, &srv);
  CHECK(c != NULL, "fake server (trickle)");
  il_future_t *g[3];
  CHECK(resp_command_strings(c, &g[0], "PING", NULL) == 0 &&
            resp_command_strings(c, &g[1], "GET", "x", NULL) == 0 &&
            resp_command_strings(c, &g[2], "MGET", "y", NULL) == 0,
        "three commands");
  result_t r0 = await_reply(g[0]), r1 = await_reply(g[1]),
           r2 = await_reply(g[2]);
  CHECK(r0.rc == 0 && is_str(r0.r, RESP_STATUS, "OK"), "byte by byte: OK");
  CHECK(r1.rc == 0 && r1.r->type == RESP_STRING && r1.r->len == 5 &&
            !memcmp(r1.r->str, "he\r\nl", 5),
        "byte by byte: a bulk string with CR LF inside");
  CHECK(r2.rc == 0 && r2.r->type == RESP_ARRAY && r2.r->elements == 2 &&
            r2.r->element[0]->integer == 1 &&
            r2.r->element[1]->type == RESP_NIL,
        "byte by byte: an array");
  done_with(&r0), done_with(&r1), done_with(&r2);
  CHECK(slow.t == NULL, "the fake server is done trickling");
  resp_free(c);
  il_server_free(srv);
  group_done("misbehaving server", before);
}

static void test_bad_arguments(il_loop_t *loop, resp_client_t *c) {
  int before = failures;
  il_future_t *f = (il_future_t *)1;
  const char *argv[] = {"PING", NULL};
  resp_client_t *out;
  CHECK(resp_command(NULL, 1, argv, NULL, &f) == IL_EINVAL && !f,
        "NULL client");
  CHECK(resp_command(c, 0, argv, NULL, &f) == IL_EINVAL, "argc 0");
  CHECK(resp_command(c, 2, argv, NULL, &f) == IL_EINVAL, "a NULL word");
  CHECK(resp_command(c, 1, argv, NULL, NULL) == IL_EINVAL, "NULL reply");
  CHECK(resp_command_strings(c, &f, NULL) == IL_EINVAL, "no words");
  CHECK(resp_connect(NULL, "127.0.0.1", 1, NULL, &out, NULL) == IL_EINVAL,
        "NULL loop");
  CHECK(resp_connect(loop, "127.0.0.1", 70000, NULL, &out, NULL) == IL_EINVAL,
        "port out of range");
  CHECK(resp_subscribe(c, "x", NULL, NULL, &f) == IL_EINVAL, "NULL callback");
  CHECK(resp_close(NULL, NULL) == IL_EINVAL, "resp_close(NULL)");
  CHECK(resp_pending(NULL) == 0, "resp_pending(NULL)");
  resp_free(NULL);
  resp_reply_free(NULL);
  group_done("bad arguments", before);
}

static int main_task(il_task_t *self, void *arg) {
  (void)self;
  test_t *t = arg;
  resp_client_t *c = connect_client(t);
  if (!c)
    return IL_ECONNREFUSED;
  test_bad_arguments(t->loop, c);
  test_pipeline(t, c);
  test_integers_and_nil(t, c);
  test_error_replies(t, c);
  test_binary(t, c);
  test_cancel(t, c);
  test_pubsub(t, c);
  test_close(t);
  test_connection_lost(t, c);
  test_refused(t);
  test_bad_server(t);
  resp_free(c);
  return 0;
}

/* ---- driving the loop, owned or adopted -----------------------------------
 */

static int loop_errors;

static void on_loop_error(il_loop_t *loop, const il_error_context_t *ctx,
                          void *ud) {
  (void)loop, (void)ud;
  loop_errors++;
  printf("FAIL: the loop's error handler was called: %s (%s)\n", ctx->message,
         il_err_name(ctx->code));
}

static int watchdog(il_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  printf("FAIL: the tests did not finish in 60 s\n");
  exit(1);
}

static int tick(il_loop_t *loop, void *arg) {
  (void)loop, (void)arg;
  return 0;
}

/* One turn of the loop (at most ~10 ms), by whoever drives it. */
static void turn(il_loop_t *loop, const il_backend_ops_t *ops, void *engine) {
  il_loop_call_later(loop, 0.01, tick, NULL, NULL);
  if (engine)
    ops->foreign_run(engine, IL_RUN_ONCE);
  else
    il_loop_run(loop, IL_RUN_ONCE);
}

static int run_client_tests(const char *backend, int adopted, const char *host,
                            int port) {
  const il_backend_ops_t *ops = NULL;
  void *engine = NULL;
  il_loop_t *loop = NULL;
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = backend;
  const char *name = backend ? backend : getenv("INTERLOOP_BACKEND");
  int rc = il_backend_load(name && *name ? name : "builtin", &ops);
  if (rc < 0) {
    printf("FAIL: cannot load the backend: %s\n", il_loop_last_error_message());
    return 1;
  }
  if (adopted) {
    /* As an application would: its own engine loop, adopted. */
    if (!ops->foreign_new) {
      printf("FAIL: backend %s cannot create a foreign loop\n", ops->name);
      return 1;
    }
    rc = ops->foreign_new(&engine);
    if (rc == 0 &&
        (rc = il_loop_new_with_backend(&loop, ops, engine, &opts)) < 0)
      ops->foreign_free(engine);
  } else {
    rc = il_loop_new(&loop, &opts);
  }
  if (rc < 0) {
    printf("FAIL: cannot create the loop: %s (%s)\n", il_strerror(rc),
           il_loop_last_error_message());
    return 1;
  }
  il_loop_set_error_handler(loop, on_loop_error, NULL);
  printf("backend %s (%s), %s, server %s:%d\n", il_loop_backend_name(loop),
         il_loop_engine_version(loop), adopted ? "adopted" : "owned", host,
         port);

  test_t t = {.loop = loop, .host = host, .port = port};
  snprintf(t.prefix, sizeof(t.prefix), "test-resp:%ld:%s:", (long)getpid(),
           adopted ? "adopted" : "owned");
  il_task_t *task;
  rc = il_task_spawn(loop, main_task, &t, NULL, &task);
  CHECK(rc == 0, "spawn the test task");
  il_handle_t *dog = NULL;
  il_loop_call_later(loop, 60.0, watchdog, task, &dog);
  if (rc == 0) {
    if (engine) /* the application drives its engine loop itself */
      while (!il_future_done(task))
        ops->foreign_run(engine, IL_RUN_ONCE);
    else
      il_loop_run_until_complete(loop, task, NULL);
    rc = il_future_result(task, NULL);
    CHECK(rc == 0, "the test task finished");
    if (rc < 0)
      printf("  task: %s\n", il_strerror(rc));
    il_future_unref(task);
  }
  il_handle_cancel(dog);
  il_handle_release(dog);

  /* The freed clients' connections finish closing in a few turns. */
  il_loop_stats_t st = IL_LOOP_STATS_INIT;
  for (int i = 0; i < 200; i++) {
    turn(loop, ops, engine);
    il_loop_get_stats(loop, &st);
    if (st.transports == 0)
      break;
  }
  CHECK(st.transports == 0 && st.readers == 0 && st.writers == 0 &&
            st.handles_held == 0,
        "no transport, watcher or handle left");
  CHECK(loop_errors == 0, "no error reached the loop's error handler");
  CHECK(il_loop_close(loop) == 0, "il_loop_close");
  il_loop_free(loop);
  if (engine)
    CHECK(ops->foreign_free(engine) == 0,
          "the adopted engine loop is left clean");
  if (failures == 0)
    printf("all resp checks passed on %s (%s)\n", ops->name,
           adopted ? "adopted" : "owned");
  else
    printf("%d check(s) FAILED on %s (%s)\n", failures, ops->name,
           adopted ? "adopted" : "owned");
  return failures ? 1 : 0;
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof(sa);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
    perror("free port");
    return 1;
  }
  printf("%d\n", ntohs(sa.sin_port));
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  const char *backend = NULL, *host = "127.0.0.1";
  int adopted = 0, port = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--parser")) {
      test_parser();
      printf("%s\n", failures ? "parser checks FAILED"
                              : "all parser checks "
                                "passed");
      return failures ? 1 : 0;
    } else if (!strcmp(argv[i], "--free-port")) {
      return free_port();
    } else if (!strcmp(argv[i], "--adopted")) {
      adopted = 1;
    } else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
      backend = argv[++i];
    } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
      host = argv[++i];
    } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: interloop-resp-test --parser | --free-port | "
                      "[--backend NAME] [--adopted] [--host H] --port P\n");
      return 2;
    }
  }
  if (port <= 0) {
    fprintf(stderr, "interloop-resp-test: --port is required\n");
    return 2;
  }
  return run_client_tests(backend, adopted, host, port);
}
