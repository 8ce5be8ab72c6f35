/* examples/fetch/fetch.c — fetches several http:// URLs at once over
 * HTTP/1.1 and prints how many bytes each one gave, in the order they finish.
 *
 *   interloop-fetch [--backend NAME] [--timeout SECONDS] URL...
 *
 * Each URL gets its own task, which reads top to bottom like blocking code:
 * connect (il_open_connection resolves the host name off the loop thread),
 * send the request, read the status line and the headers, then read the
 * body. While one task waits for its server, the others run. The body's end
 * is found the three ways HTTP/1.1 allows: a Content-Length, chunked
 * transfer encoding, or the server closing the connection.
 *
 * A URL that fails (a refused connection, a status other than 200, a time
 * limit passed) is reported on its line; the others go on. The last line is
 * "RESULT fetch ok urls=N/N bytes=TOTAL" and the exit status 0 when every
 * URL gave 200 and its whole body, else "RESULT fetch failed ..." and 1.
 * --timeout limits each URL's whole fetch (default 30 s; 0: none). The
 * backend is NAME, else $INTERLOOP_BACKEND, else builtin. */
#include <interloop/interloop.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNTIL_EOF UINT64_MAX /* read_body: no length known */

/* One URL and what became of it. */
typedef struct fetch {
  il_loop_t *loop;
  const char *url;
  double timeout, t0; /* the time limit; when the program started */
  /* the URL's parts */
  char host[256];      /* for connecting: "example.org", "::1" */
  char authority[300]; /* for the Host header: "example.org:8080" */
  int port;
  const char *path; /* "/index.html?q=1" (points into url) */
  /* the outcome */
  int rc;          /* 0, or the IL_E* code it failed with */
  const char *why; /* what was wrong with the URL or the response, or NULL */
  int status;      /* the HTTP status code; 0 before the status line */
  char reason[64]; /* "OK", "Not Found" */
  const char *framing; /* how the body's end was found */
  uint64_t bytes;      /* body bytes received */
} fetch_t;

/* Records what was wrong (a malformed URL or response) and returns IL_EIO,
 * the code this program uses for such problems. */
static int problem(fetch_t *f, const char *why) {
  f->why = why;
  return IL_EIO;
}

/* Splits "http://host[:port][/path]" (host may be "[ipv6]"). */
static int parse_url(fetch_t *f) {
  const char *p = f->url;
  if (strncasecmp(p, "http://", 7) != 0)
    return problem(f, "not an http:// URL");
  p += 7;
  size_t alen = strcspn(p, "/?#");
  f->path = p[alen] == '/' ? p + alen : "/";
  if (alen >= sizeof(f->authority))
    return problem(f, "host part of the URL too long");
  memcpy(f->authority, p, alen);
  f->authority[alen] = '\0';

  const char *host = f->authority, *colon;
  size_t hlen;
  if (host[0] == '[') { /* [::1]:8080 */
    const char *close = strchr(host, ']');
    if (!close)
      return problem(f, "no ']' after an IPv6 address");
    host++;
    hlen = (size_t)(close - host);
    colon = close[1] == ':' ? close + 1 : NULL;
  } else {
    colon = strchr(host, ':');
    hlen = colon ? (size_t)(colon - host) : strlen(host);
  }
  if (hlen == 0)
    return problem(f, "no host in the URL");
  memcpy(f->host, host, hlen);
  f->host[hlen] = '\0';
  f->port = 80;
  if (colon) {
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
      return problem(f, "bad port in the URL");
    f->port = (int)port;
  }
  return 0;
}

/* Reads one line ending in "\n" into buf, without its "\r\n" (cut to fit
 * buf). A connection that ends first gives IL_EINCOMPLETE. */
static int read_line(il_stream_reader_t *r, char *buf, size_t size) {
  char *line = NULL;
  size_t len;
  int rc = il_stream_readuntil(r, "\n", 1, &line, &len);
  if (rc < 0) {
    free(line); /* IL_EINCOMPLETE hands over what was left */
    return rc;
  }
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  if (len >= size)
    len = size - 1;
  memcpy(buf, line, len);
  buf[len] = '\0';
  free(line);
  return 0;
}

/* Reads and counts `want` body bytes, or every byte until the server closes
 * the connection (UNTIL_EOF). The data itself is dropped: we only count. */
static int read_body(fetch_t *f, il_stream_reader_t *r, uint64_t want) {
  char buf[16384];
  while (want > 0) {
    size_t n = want < sizeof(buf) ? (size_t)want : sizeof(buf), got;
    int rc = il_stream_read(r, buf, n, &got);
    if (rc < 0)
      return rc;
    if (got == 0) /* end of the connection */
      return want == UNTIL_EOF ? 0 : IL_EINCOMPLETE;
    f->bytes += got;
    if (want != UNTIL_EOF)
      want -= got;
  }
  return 0;
}

/* Chunked transfer encoding: "<hex size>[;ext]\r\n<data>\r\n" repeated, a
 * chunk of size 0, optional trailer lines, an empty line. */
static int read_chunked(fetch_t *f, il_stream_reader_t *r) {
  char line[256];
  int rc;
  for (;;) {
    if ((rc = read_line(r, line, sizeof(line))) < 0)
      return rc;
    char *end;
    uint64_t size = strtoull(line, &end, 16);
    if (end == line)
      return problem(f, "bad chunk size");
    if (size == 0)
      break;
    if ((rc = read_body(f, r, size)) < 0 ||
        (rc = read_line(r, line, sizeof(line))) < 0)
      return rc;
    if (line[0] != '\0')
      return problem(f, "no line end after a chunk");
  }
  do /* trailers, up to the empty line */
    rc = read_line(r, line, sizeof(line));
  while (rc == 0 && line[0] != '\0');
  return rc;
}

/* One request and its response on an open connection. */
static int exchange(fetch_t *f, il_stream_reader_t *r, il_stream_writer_t *w) {
  /* The request: one per connection, so "Connection: close" asks the
   * server to close once it has answered. */
  char req[2048];
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: %s\r\n"
                   "User-Agent: interloop-fetch\r\nAccept: */*\r\n"
                   "Connection: close\r\n\r\n",
                   f->path, f->authority);
  if (n < 0 || (size_t)n >= sizeof(req))
    return problem(f, "URL too long");
  int rc = il_stream_write(w, req, (size_t)n); /* queued; never waits */
  if (rc < 0)
    return rc;

  /* The status line: "HTTP/1.1 200 OK". */
  char line[1024];
  int reason_at = 0;
  if ((rc = read_line(r, line, sizeof(line))) < 0)
    return rc;
  if (sscanf(line, "HTTP/%*d.%*d %3d %n", &f->status, &reason_at) < 1 ||
      f->status < 100)
    return problem(f, "no HTTP status line");
  snprintf(f->reason, sizeof(f->reason), "%s",
           reason_at ? line + reason_at : "");

  /* The headers, up to an empty line. Only two matter here. */
  uint64_t length = UNTIL_EOF;
  int chunked = 0;
  while ((rc = read_line(r, line, sizeof(line))) == 0 && line[0] != '\0') {
    if (!strncasecmp(line, "Content-Length:", 15)) {
      length = strtoull(line + 15, NULL, 10);
    } else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
      size_t len = strlen(line); /* "chunked" must be the last coding */
      chunked = len >= 25 && !strcasecmp(line + len - 7, "chunked");
    }
  }
  if (rc < 0)
    return rc;

  /* The body: chunked wins over a length; 204 and 304 never have one. */
  if (f->status == 204 || f->status == 304) {
    f->framing = "no body";
    return 0;
  }
  if (chunked) {
    f->framing = "chunked";
    return read_chunked(f, r);
  }
  f->framing = length == UNTIL_EOF ? "until close" : "content-length";
  return read_body(f, r, length);
}

/* Connects, exchanges, releases the connection (also on errors). */
static int fetch(fetch_t *f) {
  int rc = parse_url(f);
  if (rc < 0)
    return rc;
  il_stream_reader_t *r;
  il_stream_writer_t *w;
  if ((rc = il_open_connection(f->loop, f->host, f->port, NULL, &r, &w)) < 0)
    return rc; /* IL_ECONNREFUSED, IL_EAI (unknown name), ... */
  rc = exchange(f, r, w);
  il_stream_release(r, w);
  return rc;
}

/* The task for one URL: fetch within the time limit, then print the line.
 * Every task prints as it finishes, so the lines come in completion order. */
static int fetch_task(il_task_t *self, void *arg) {
  (void)self;
  fetch_t *f = arg;
  il_timeout_t *limit = NULL;
  int rc = 0;
  if (f->timeout > 0) /* cancels this task when the time is up */
    rc = il_timeout_enter(f->loop, f->timeout, &limit);
  if (rc == 0)
    rc = fetch(f);
  if (limit) /* turns that cancellation into IL_ETIMEDOUT */
    rc = il_timeout_exit(limit, rc);
  f->rc = rc;

  printf("%s: ", f->url);
  if (f->status) /* the reason may be empty */
    printf("%d%s%s, ", f->status, f->reason[0] ? " " : "", f->reason);
  if (rc == 0)
    printf("%" PRIu64 " bytes (%s)", f->bytes, f->framing);
  else if (f->bytes > 0)
    printf("failed after %" PRIu64 " bytes: %s", f->bytes,
           f->why ? f->why : il_strerror(rc));
  else
    printf("failed: %s", f->why ? f->why : il_strerror(rc));
  printf(", %.2f s\n", il_loop_time(f->loop) - f->t0);
  return 0; /* the outcome is in *f; the task itself never fails */
}

static int usage(void) {
  fprintf(stderr, "usage: interloop-fetch [--backend NAME] "
                  "[--timeout SECONDS] URL...\n");
  return 2;
}

int main(int argc, char **argv) {
  il_loop_options_t loop_opts = IL_LOOP_OPTIONS_INIT;
  double timeout = 30;
  int first = 1; /* argv[first..] are the URLs */
  while (first < argc && argv[first][0] == '-') {
    const char *opt = argv[first++];
    if (!strcmp(opt, "--backend") && first < argc) {
      loop_opts.backend = argv[first++];
    } else if (!strcmp(opt, "--timeout") && first < argc) {
      char *end;
      timeout = strtod(argv[first++], &end);
      if (*end != '\0' || !(timeout >= 0))
        return usage();
    } else {
      return usage();
    }
  }
  size_t n = (size_t)(argc - first);
  if (n == 0)
    return usage();

  il_loop_t *loop;
  if (il_loop_new(&loop, &loop_opts) < 0) {
    fprintf(stderr, "il_loop_new: %s\n", il_loop_last_error_message());
    printf("RESULT fetch failed urls=0/%zu bytes=0 (no loop)\n", n);
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* each line as soon as it is printed */
  printf("fetching %zu URLs on backend %s (%s)\n", n,
         il_loop_backend_name(loop), il_loop_engine_version(loop));
  double t0 = il_loop_time(loop);

  /* One task per URL, all started at once; gather waits for them all. */
  fetch_t *fetches = calloc(n, sizeof(*fetches));
  il_task_t **tasks = calloc(n, sizeof(*tasks));
  il_future_t *all = NULL;
  int rc = fetches && tasks ? 0 : IL_ENOMEM;
  for (size_t i = 0; i < n && rc == 0; i++) {
    fetches[i].loop = loop;
    fetches[i].url = argv[first + (int)i];
    fetches[i].timeout = timeout;
    fetches[i].t0 = t0;
    rc = il_task_spawn(loop, fetch_task, &fetches[i], NULL, &tasks[i]);
  }
  if (rc == 0)
    rc = il_gather(loop, tasks, n, IL_GATHER_DEFAULT, &all);
  if (rc == 0)
    rc = il_loop_run_until_complete(loop, all, NULL);
  if (rc < 0)
    fprintf(stderr, "interloop-fetch: %s\n", il_strerror(rc));
  double elapsed = il_loop_time(loop) - t0;
  il_loop_close(loop); /* after an error: cancels the tasks still running */

  /* The total counts every body byte received, also from failed URLs. */
  size_t ok = 0;
  uint64_t total = 0;
  for (size_t i = 0; fetches && i < n; i++) {
    total += fetches[i].bytes;
    if (rc == 0 && fetches[i].rc == 0 && fetches[i].status == 200)
      ok++;
    if (tasks)
      il_future_unref(tasks[i]);
  }
  il_future_unref(all);
  printf("total: %" PRIu64 " bytes, %zu of %zu URLs ok, %.2f s\n", total, ok, n,
         elapsed);
  printf("RESULT fetch %s urls=%zu/%zu bytes=%" PRIu64 "\n",
         ok == n ? "ok" : "failed", ok, n, total);
  il_loop_free(loop);
  free(tasks);
  free(fetches);
  return ok == n ? 0 : 1;
}
