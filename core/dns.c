/* core/dns.c — getaddrinfo and getnameinfo on the loop's executor
 * (SPEC §12.3). The arguments are copied into the job, so the caller's
 * strings and address may go away at once; the job frees the copy. */
#include "transport_internal.h"

#include <interloop/executor.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>


/* A getaddrinfo/getnameinfo failure as a code and a static message. */
static int resolver_error(int eai, const char **message) {
  if (eai == EAI_SYSTEM) {
    int code = errno > 0 ? il_translate_sys_error(errno) : IL_EAI;
    *message = il_strerror(code);
    return code;
  }
  *message = gai_strerror(eai);
  return eai == EAI_MEMORY ? IL_ENOMEM : IL_EAI;
}

/* ---- getaddrinfo ----------------------------------------------------------
 */

typedef struct gai_args {
  struct addrinfo hints;
  const char *host, *service; /* NULL or into `names` */
  char names[];
} gai_args_t;

static void free_addrinfo(void *res) {
  freeaddrinfo(res);
}

static int gai_run(void *arg, void **result, il_destructor_fn *dtor,
                   const char **message) {
  gai_args_t *a = arg;
  struct addrinfo *res = NULL;
  int eai = getaddrinfo(a->host, a->service, &a->hints, &res);
  if (eai != 0)
    return resolver_error(eai, message);
  *result = res;
  *dtor = free_addrinfo;
  return 0;
}

/* Copies s (may be NULL) to *at; returns where the next string goes. */
static char *copy_name(char *at, const char *s, const char **out) {
  *out = NULL;
  if (!s)
    return at;
  size_t n = strlen(s) + 1;
  memcpy(at, s, n);
  *out = at;
  return at + n;
}

int il_getaddrinfo(il_loop_t *loop, const char *host, const char *service,
                   const struct addrinfo *hints, il_future_t **out) {
  if (out)
    *out = NULL;
  if (!out || (!host && !service))
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  size_t len =
      (host ? strlen(host) + 1 : 0) + (service ? strlen(service) + 1 : 0);
  gai_args_t *a = calloc(1, sizeof(*a) + len);
  if (!a)
    return IL_ENOMEM;
  /* Only the four members getaddrinfo reads from hints; POSIX wants the
   * rest zero. */
  a->hints.ai_family = hints ? hints->ai_family : AF_UNSPEC;
  a->hints.ai_socktype = hints ? hints->ai_socktype : SOCK_STREAM;
  a->hints.ai_protocol = hints ? hints->ai_protocol : 0;
  a->hints.ai_flags = hints ? hints->ai_flags : AI_ADDRCONFIG;
  copy_name(copy_name(a->names, host, &a->host), service, &a->service);
  rc = il__executor_submit(loop, gai_run, a, free, out);
  if (rc < 0)
    free(a);
  return rc;
}

/* ---- getnameinfo ----------------------------------------------------------
 */

typedef struct gni_args {
  struct sockaddr_storage ss;
  socklen_t len;
  int flags;
} gni_args_t;

static int gni_run(void *arg, void **result, il_destructor_fn *dtor,
                   const char **message) {
  gni_args_t *a = arg;
  il_nameinfo_t *ni = malloc(sizeof(*ni));
  if (!ni)
    return IL_ENOMEM;
  int eai =
      getnameinfo((const struct sockaddr *)&a->ss, a->len, ni->host,
                  sizeof(ni->host), ni->service, sizeof(ni->service), a->flags);
  if (eai != 0) {
    int code = resolver_error(eai, message);
    free(ni);
    return code;
  }
  *result = ni;
  *dtor = free;
  return 0;
}

int il_getnameinfo(il_loop_t *loop, const struct sockaddr *sa, socklen_t len,
                   int flags, il_future_t **out) {
  if (out)
    *out = NULL;
  if (!out || !sa || len == 0 || len > sizeof(struct sockaddr_storage))
    return IL_EINVAL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  gni_args_t *a = calloc(1, sizeof(*a));
  if (!a)
    return IL_ENOMEM;
  memcpy(&a->ss, sa, len);
  a->len = len;
  a->flags = flags;
  rc = il__executor_submit(loop, gni_run, a, free, out);
  if (rc < 0)
    free(a);
  return rc;
}
