/* conformance/plugins/bad_plugins.c — plugins the loader must refuse, each
 * for one reason, built from this one file with -DBAD_<REASON>:
 *   BAD_ABI       built for adapter ABI major 99
 *   BAD_SIZE      an ops struct smaller than ABI 1.0's
 *   BAD_MISSING   lacks a required op (run)
 *   BAD_REFUSES   the entry point returns NULL
 *   BAD_NOENTRY   no il_backend_plugin symbol at all
 *   BAD_GOOD      none of the above: a minimal plugin the loader accepts
 * test_loader_refusals_explained loads each and checks the message. */
#include <interloop/backend.h>

#include <stddef.h>

#ifndef BAD_NOENTRY
static const char *version(void) { return "nothing 0"; }
static int create(const il_backend_host_t *h, void *e, void **s) {
  (void)h;
  (void)e;
  *s = NULL;
  return 0;
}
static void destroy(void *s) { (void)s; }
static int run(void *s, int m) {
  (void)s;
  (void)m;
  return 0;
}
static void vs(void *s) { (void)s; }
static void vsi(void *s, int on) {
  (void)s;
  (void)on;
}
static void vsu(void *s, uint64_t t) {
  (void)s;
  (void)t;
}
static int io_start(void *s, int fd, unsigned e, void *u, void **io) {
  (void)s;
  (void)fd;
  (void)e;
  (void)u;
  *io = NULL;
  return 0;
}
static int io_modify(void *s, void *io, unsigned e) {
  (void)s;
  (void)io;
  (void)e;
  return 0;
}
static void io_stop(void *s, void *io) {
  (void)s;
  (void)io;
}

static il_backend_ops_t ops = {
    .abi_version = IL_BACKEND_ABI_VERSION,
    .struct_size = sizeof(il_backend_ops_t),
    .name = "bad",
    .engine_version = version,
    .create = create,
    .destroy = destroy,
    .run = run,
    .stop = vs,
    .dispatch_soon = vsi,
    .timer_start = vsu,
    .timer_stop = vs,
    .wakeup = vs,
    .io_start = io_start,
    .io_modify = io_modify,
    .io_stop = io_stop,
};

__attribute__((visibility("default"))) const il_backend_ops_t *
il_backend_plugin(uint32_t host_abi_version);

const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version) {
  (void)host_abi_version;
#if defined(BAD_ABI)
  ops.abi_version = 99u << 16;
#elif defined(BAD_SIZE)
  ops.struct_size = 16;
#elif defined(BAD_MISSING)
  ops.run = NULL;
#elif defined(BAD_REFUSES)
  return NULL;
#endif
  return &ops;
}
#else
__attribute__((visibility("default"))) int il_not_the_entry(void);
int il_not_the_entry(void) { return 0; }
#endif
