/* examples/resp/resp_demo.c — the RESP library at work: pipelined commands
 * and pub/sub against a Redis server, written as one task that reads top to
 * bottom.
 *
 *   interloop-resp-demo [--backend NAME] [-n N] [HOST] PORT
 *
 * It connects twice (one client sends commands, the other listens on a
 * channel), pipelines N rounds of SET/GET/INCR (default 100) without waiting
 * for replies in between, checks every reply against its command, publishes
 * three messages and waits for the listener to receive them, deletes its
 * keys and closes both connections. The backend is NAME, else
 * $INTERLOOP_BACKEND (builtin, builtin-poll, uv, ev, event). The last line
 * is "RESULT resp ok commands=<replies received> pubsub=<messages>", or
 * "RESULT resp FAILED: why" with exit status 1. */
#include "resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct demo {
  il_loop_t *loop;
  const char *host;
  int port, rounds;
  int replies;        /* replies received, for the summary */
  int messages;       /* pub/sub messages received */
  il_future_t *inbox; /* completed when the third message arrives */
  char failure[256];  /* why it failed, "" if it did not */
} demo_t;

static int fail(demo_t *d, const char *what, int code, const char *detail) {
  snprintf(d->failure, sizeof(d->failure), "%s: %s%s%s", what,
           resp_strerror(code), detail && *detail ? ": " : "",
           detail ? detail : "");
  return code;
}

/* Waits for a command's reply; returns 0 and the reply (owned by f), or the
 * error with its message. */
static int wait_reply(demo_t *d, il_future_t *f, resp_reply_t **reply,
                      const char **msg) {
  void *value = NULL;
  int rc = il_await(f, &value);
  *reply = value;
  *msg = "";
  if (rc < 0)
    il_future_error(f, msg);
  else
    d->replies++;
  return rc;
}

/* The listener's callback: runs on the loop thread for every message. */
static void on_news(resp_client_t *c, const char *channel, size_t channel_len,
                    const char *message, size_t message_len, void *ud) {
  (void)c;
  demo_t *d = ud;
  printf("  listener received on %.*s: \"%.*s\"\n", (int)channel_len, channel,
         (int)message_len, message);
  if (++d->messages == 3)
    il_future_set_result(d->inbox, NULL, NULL);
}

/* N rounds of SET key:i / GET key:i / INCR counter, all written before the
 * first reply is read. Redis answers in order, so each future gets its own
 * command's reply. */
static int pipeline(demo_t *d, resp_client_t *c, const char *prefix) {
  int n = d->rounds, rc = 0;
  il_future_t **f = calloc((size_t)n * 3, sizeof(*f));
  char counter[96];
  snprintf(counter, sizeof(counter), "%scounter", prefix);
  if (!f)
    return fail(d, "pipeline", IL_ENOMEM, NULL);
  double start = il_loop_time(d->loop);
  for (int i = 0; i < n && rc == 0; i++) {
    char key[96], value[32];
    snprintf(key, sizeof(key), "%skey:%d", prefix, i);
    snprintf(value, sizeof(value), "value %d", i);
    if ((rc = resp_command_strings(c, &f[3 * i], "SET", key, value, NULL)) ||
        (rc = resp_command_strings(c, &f[3 * i + 1], "GET", key, NULL)) ||
        (rc = resp_command_strings(c, &f[3 * i + 2], "INCR", counter, NULL)))
      fail(d, "send", rc, NULL);
  }
  if (rc == 0)
    printf("sent %d commands; %zu replies awaited\n", 3 * n, resp_pending(c));
  for (int i = 0; i < n && rc == 0; i++) {
    resp_reply_t *set, *get, *incr;
    const char *msg;
    char value[32];
    snprintf(value, sizeof(value), "value %d", i);
    if ((rc = wait_reply(d, f[3 * i], &set, &msg)) ||
        (rc = wait_reply(d, f[3 * i + 1], &get, &msg)) ||
        (rc = wait_reply(d, f[3 * i + 2], &incr, &msg))) {
      fail(d, "reply", rc, msg);
    } else if (set->type != RESP_STATUS || strcmp(set->str, "OK") ||
               get->type != RESP_STRING || strcmp(get->str, value) ||
               incr->type != RESP_INTEGER || incr->integer != i + 1) {
      rc = fail(d, "reply", IL_EINVALSTATE, "a reply does not match");
    } else if (i == 0 || i == n - 1) {
      printf("  round %d: SET -> %s, GET -> \"%s\", INCR -> %lld\n", i,
             set->str, get->str, incr->integer);
    }
  }
  if (rc == 0)
    printf("pipelined %d commands in %.1f ms; every reply matched its "
           "command\n",
           3 * n, (il_loop_time(d->loop) - start) * 1000.0);
  for (int i = 0; i < 3 * n; i++)
    il_future_unref(f[i]); /* frees each reply with its future */
  free(f);
  return rc;
}

/* The listener subscribes; the other client publishes three messages. */
static int pubsub(demo_t *d, resp_client_t *c, resp_client_t *listener,
                  const char *prefix) {
  char channel[96];
  snprintf(channel, sizeof(channel), "%snews", prefix);
  il_future_t *f;
  resp_reply_t *r;
  const char *msg;
  int rc = resp_subscribe(listener, channel, on_news, d, &f);
  if (rc < 0)
    return fail(d, "subscribe", rc, NULL);
  rc = wait_reply(d, f, &r, &msg); /* the server confirms */
  il_future_unref(f);
  if (rc < 0)
    return fail(d, "subscribe", rc, msg);
  printf("listener subscribed to %s\n", channel);

  if ((rc = il_future_new(d->loop, &d->inbox)) < 0)
    return fail(d, "pub/sub", rc, NULL);
  const char *news[3] = {"hello", "from", il_loop_backend_name(d->loop)};
  for (int i = 0; i < 3 && rc == 0; i++) {
    rc = resp_command_strings(c, &f, "PUBLISH", channel, news[i], NULL);
    if (rc == 0 && (rc = wait_reply(d, f, &r, &msg)) == 0)
      printf("  published \"%s\" (%lld listener)\n", news[i], r->integer);
    il_future_unref(f);
    if (rc < 0)
      fail(d, "publish", rc, msg);
  }
  if (rc == 0 && (rc = il_wait_for(d->inbox, 5.0, NULL)) < 0)
    fail(d, "waiting for the messages", rc, NULL);
  il_future_unref(d->inbox);
  d->inbox = NULL;
  return rc;
}

/* Deletes the demo's keys and closes a client, waiting until it is closed. */
static int cleanup(demo_t *d, resp_client_t *c, const char *prefix) {
  int n = d->rounds + 1, rc;
  const char **argv = calloc((size_t)n + 1, sizeof(*argv));
  char(*keys)[96] = calloc((size_t)n, sizeof(*keys));
  if (!argv || !keys) {
    free(argv), free(keys);
    return fail(d, "cleanup", IL_ENOMEM, NULL);
  }
  argv[0] = "DEL";
  for (int i = 0; i < n; i++) {
    if (i < d->rounds)
      snprintf(keys[i], sizeof(keys[i]), "%skey:%d", prefix, i);
    else
      snprintf(keys[i], sizeof(keys[i]), "%scounter", prefix);
    argv[i + 1] = keys[i];
  }
  il_future_t *f, *closed;
  resp_reply_t *r;
  const char *msg = "";
  rc = resp_command(c, n + 1, argv, NULL, &f);
  free(argv), free(keys); /* resp_command copied the words */
  if (rc == 0) {
    rc = wait_reply(d, f, &r, &msg);
    if (rc == 0)
      printf("deleted %lld keys\n", r->integer);
    il_future_unref(f);
  }
  if (rc < 0)
    return fail(d, "DEL", rc, msg);
  if ((rc = resp_close(c, &closed)) == 0) {
    rc = il_await(closed, NULL);
    il_future_unref(closed);
  }
  return rc < 0 ? fail(d, "close", rc, NULL) : 0;
}

static int demo_task(il_task_t *self, void *arg) {
  (void)self;
  demo_t *d = arg;
  char prefix[64]; /* keys and channel unique to this run */
  snprintf(prefix, sizeof(prefix), "interloop-demo:%ld:", (long)getpid());

  resp_client_t *c, *listener = NULL;
  il_future_t *up1, *up2 = NULL;
  int rc = resp_connect(d->loop, d->host, d->port, NULL, &c, &up1);
  if (rc < 0)
    return fail(d, "connect", rc, NULL);
  rc = resp_connect(d->loop, d->host, d->port, NULL, &listener, &up2);
  const char *msg = "";
  if (rc == 0 && (rc = il_await(up1, NULL)) < 0)
    il_future_error(up1, &msg); /* "connect to ...: connection refused" */
  else if (rc == 0 && (rc = il_await(up2, NULL)) < 0)
    il_future_error(up2, &msg);
  if (rc < 0) {
    fail(d, "connect", rc, msg);
  } else {
    printf("connected to %s:%d twice (commands, listener)\n", d->host, d->port);
  }
  il_future_unref(up1);
  il_future_unref(up2);

  if (rc == 0)
    rc = pipeline(d, c, prefix);
  if (rc == 0)
    rc = pubsub(d, c, listener, prefix);
  if (rc == 0 && (rc = cleanup(d, c, prefix)) == 0)
    printf("both connections closed\n");
  resp_free(listener); /* also closes it, if still open */
  resp_free(c);
  return rc;
}

int main(int argc, char **argv) {
  demo_t d = {.host = "127.0.0.1", .rounds = 100};
  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      opts.backend = argv[++i];
    else if (!strcmp(argv[i], "-n") && i + 1 < argc)
      d.rounds = atoi(argv[++i]);
    else
      break;
  }
  if (argc - i == 2)
    d.host = argv[i++];
  if (argc - i != 1 || d.rounds < 1) {
    fprintf(stderr, "usage: interloop-resp-demo [--backend NAME] [-n N] "
                    "[HOST] PORT\n");
    return 2;
  }
  d.port = atoi(argv[i]);

  int rc = il_loop_new(&d.loop, &opts);
  if (rc < 0) {
    printf("RESULT resp FAILED: no backend: %s\n",
           il_loop_last_error_message());
    return 1;
  }
  printf("backend %s (%s)\n", il_loop_backend_name(d.loop),
         il_loop_engine_version(d.loop));
  il_task_t *task;
  rc = il_task_spawn(d.loop, demo_task, &d, NULL, &task);
  if (rc == 0) {
    rc = il_loop_run_until_complete(d.loop, task, NULL);
    il_future_unref(task);
  }
  il_loop_free(d.loop);
  if (rc < 0) {
    printf("RESULT resp FAILED: %s\n",
           d.failure[0] ? d.failure : resp_strerror(rc));
    return 1;
  }
  printf("RESULT resp ok commands=%d pubsub=%d\n", d.replies, d.messages);
  return 0;
}
