/* core/backend_loader.c — choosing a backend at run time.
 *
 * "builtin" and "builtin-poll" are compiled in. Any other name is a plugin,
 * libinterloop-<name>.so, searched in the installed plugin directory, then
 * in $INTERLOOP_PLUGIN_PATH, then beside the library itself (which is where
 * the build tree keeps them). A name containing '/' is a path. Plugins are
 * opened RTLD_LOCAL so that each binds to its own engine library (Debian's
 * libev exports libevent's function names), and are never unloaded. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IL_PLUGIN_DIR
#define IL_PLUGIN_DIR "/usr/local/lib/interloop-0"
#endif
#ifndef IL_PLUGIN_SUBDIR
#define IL_PLUGIN_SUBDIR "interloop-0"
#endif

static _Thread_local char last_error[1024];
static _Thread_local char search_path[4096];

void il__set_last_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, ap);
  va_end(ap);
}

const char *il_loop_last_error_message(void) {
  return last_error;
}

#define REQUIRED_OPS(XX)                                                       \
  XX(engine_version)                                                           \
  XX(create)                                                                   \
  XX(destroy)                                                                  \
  XX(run)                                                                      \
  XX(stop)                                                                     \
  XX(dispatch_soon)                                                            \
  XX(timer_start)                                                              \
  XX(timer_stop)                                                               \
  XX(wakeup)                                                                   \
  XX(io_start)                                                                 \
  XX(io_modify)                                                                \
  XX(io_stop)

int il__backend_validate(const il_backend_ops_t *ops, const char *where) {
  uint32_t major = IL_BACKEND_ABI_MAJOR_OF(ops->abi_version);
  if (major != IL_BACKEND_ABI_MAJOR) {
    il__set_last_error("backend %s was built for adapter ABI %u.%u; this "
                       "core implements ABI %u.%u",
                       where, major, ops->abi_version & 0xffffu,
                       IL_BACKEND_ABI_MAJOR, IL_BACKEND_ABI_MINOR);
    return IL_EBACKENDABI;
  }
  if (ops->struct_size < sizeof(il_backend_ops_t)) {
    il__set_last_error("backend %s: its ops struct is %u bytes, ABI %u.0 "
                       "needs %zu",
                       where, ops->struct_size, IL_BACKEND_ABI_MAJOR,
                       sizeof(il_backend_ops_t));
    return IL_EBACKENDABI;
  }
  if (!ops->name || !*ops->name) {
    il__set_last_error("backend %s has no name", where);
    return IL_ENOBACKEND;
  }
#define CHECK_OP(op)                                                           \
  if (!ops->op) {                                                              \
    il__set_last_error("backend %s lacks the required op '%s'", where, #op);   \
    return IL_ENOBACKEND;                                                      \
  }
  REQUIRED_OPS(CHECK_OP)
#undef CHECK_OP
  if (!!(ops->features & IL_BACKEND_F_SIGNALS) !=
      !!(ops->signal_start && ops->signal_stop)) {
    il__set_last_error("backend %s: IL_BACKEND_F_SIGNALS disagrees with its "
                       "signal ops",
                       where);
    return IL_ENOBACKEND;
  }
  return 0;
}

/* ---- the search path ------------------------------------------------------
 */

static size_t append_dir(char *buf, size_t len, size_t cap, const char *dir,
                         size_t dirlen) {
  if (dirlen == 0 || len + dirlen + 2 > cap)
    return len;
  /* skip duplicates */
  const char *p = buf;
  while (p < buf + len) {
    const char *end = memchr(p, ':', (size_t)(buf + len - p));
    size_t l = end ? (size_t)(end - p) : (size_t)(buf + len - p);
    if (l == dirlen && memcmp(p, dir, l) == 0)
      return len;
    p += l + 1;
  }
  if (len)
    buf[len++] = ':';
  memcpy(buf + len, dir, dirlen);
  len += dirlen;
  buf[len] = '\0';
  return len;
}

const char *il_backend_search_path(void) {
  size_t len = 0;
  search_path[0] = '\0';
  len = append_dir(search_path, len, sizeof(search_path), IL_PLUGIN_DIR,
                   strlen(IL_PLUGIN_DIR));
  const char *env = getenv("INTERLOOP_PLUGIN_PATH");
  while (env && *env) {
    const char *end = strchr(env, ':');
    size_t l = end ? (size_t)(end - env) : strlen(env);
    len = append_dir(search_path, len, sizeof(search_path), env, l);
    env = end ? end + 1 : NULL;
  }
  Dl_info info;
  if (dladdr((void *)il_backend_search_path, &info) && info.dli_fname) {
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash) {
      char dir[2048];
      size_t l = (size_t)(slash - info.dli_fname);
      if (l + sizeof(IL_PLUGIN_SUBDIR) + 1 < sizeof(dir)) {
        memcpy(dir, info.dli_fname, l);
        dir[l] = '/';
        memcpy(dir + l + 1, IL_PLUGIN_SUBDIR, sizeof(IL_PLUGIN_SUBDIR));
        len =
            append_dir(search_path, len, sizeof(search_path), dir, strlen(dir));
      }
    }
  }
#ifdef IL_BUILD_PLUGIN_DIR
  len = append_dir(search_path, len, sizeof(search_path), IL_BUILD_PLUGIN_DIR,
                   strlen(IL_BUILD_PLUGIN_DIR));
#endif
  (void)len;
  return search_path;
}

/* ---- names ------------------------------------------------------------------
 */

static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static char *found_names[32];
static size_t nfound;

static void remember_name(const char *name, size_t len) {
  for (size_t i = 0; i < nfound; i++)
    if (strlen(found_names[i]) == len && !memcmp(found_names[i], name, len))
      return;
  if (nfound < sizeof(found_names) / sizeof(found_names[0])) {
    char *s = strndup(name, len);
    if (s)
      found_names[nfound++] = s;
  }
}

size_t il_backend_names(const char **names, size_t cap) {
  static const char *const builtins[] = {"builtin", "builtin-poll"};
  char path[4096];
  snprintf(path, sizeof(path), "%s", il_backend_search_path());
  pthread_mutex_lock(&names_mu);
  char *save = NULL;
  for (char *dir = strtok_r(path, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    DIR *d = opendir(dir);
    if (!d)
      continue;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      const char *n = e->d_name;
      size_t l = strlen(n);
      if (l > 17 && !strncmp(n, "libinterloop-", 13) &&
          !strcmp(n + l - 3, ".so"))
        remember_name(n + 13, l - 16);
    }
    closedir(d);
  }
  size_t total = 0;
  for (size_t i = 0; i < 2; i++, total++)
    if (names && total < cap)
      names[total] = builtins[i];
  for (size_t i = 0; i < nfound; i++, total++)
    if (names && total < cap)
      names[total] = found_names[i];
  pthread_mutex_unlock(&names_mu);
  return total;
}

static void list_names(char *buf, size_t cap) {
  const char *names[40];
  size_t n = il_backend_names(names, 40);
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && i < 40; i++) {
    int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
    if (w < 0 || (size_t)w >= cap - len)
      break;
    len += (size_t)w;
  }
}

/* ---- loading
 * ------------------------------------------------------------------ */

static int load_plugin(const char *path, const il_backend_ops_t **out) {
  dlerror();
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    il__set_last_error("cannot load backend plugin %s: %s", path,
                       why ? why : "unknown dlopen failure");
    return IL_ENOBACKEND;
  }
  il_backend_plugin_fn entry;
  void *sym = dlsym(handle, IL_BACKEND_PLUGIN_SYMBOL);
  memcpy(&entry, &sym, sizeof(entry));
  if (!entry) {
    il__set_last_error("backend plugin %s has no entry symbol '%s'", path,
                       IL_BACKEND_PLUGIN_SYMBOL);
    dlclose(handle);
    return IL_ENOBACKEND;
  }
  const il_backend_ops_t *ops = entry(IL_BACKEND_ABI_VERSION);
  if (!ops) {
    il__set_last_error("backend plugin %s refused to serve adapter ABI %u.%u",
                       path, IL_BACKEND_ABI_MAJOR, IL_BACKEND_ABI_MINOR);
    dlclose(handle);
    return IL_EBACKENDABI;
  }
  int rc = il__backend_validate(ops, path);
  if (rc < 0) {
    dlclose(handle);
    return rc;
  }
  *out = ops; /* the handle stays open for the life of the process */
  return 0;
}

static int name_ok(const char *name) {
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
      return 0;
  return *name != '\0' && *name != '.';
}

int il_backend_load(const char *name, const il_backend_ops_t **out) {
  if (out)
    *out = NULL;
  if (!name || !out) {
    il__set_last_error("il_backend_load: NULL argument");
    return IL_EINVAL;
  }
  if (!strcmp(name, "builtin")) {
    *out = &il__builtin_ops;
    return 0;
  }
  if (!strcmp(name, "builtin-poll")) {
    *out = &il__builtin_poll_ops;
    return 0;
  }
  if (strchr(name, '/')) {
    if (access(name, R_OK) != 0) {
      il__set_last_error("backend plugin %s does not exist or is not "
                         "readable",
                         name);
      return IL_ENOBACKEND;
    }
    return load_plugin(name, out);
  }
  char avail[512];
  if (!name_ok(name)) {
    list_names(avail, sizeof(avail));
    il__set_last_error("\"%s\" is not a backend name; available: %s", name,
                       avail);
    return IL_ENOBACKEND;
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s", il_backend_search_path());
  char *save = NULL;
  for (char *dir = strtok_r(path, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    char file[4096 + 64];
    snprintf(file, sizeof(file), "%s/libinterloop-%s.so", dir, name);
    if (access(file, R_OK) == 0)
      return load_plugin(file, out);
  }
  list_names(avail, sizeof(avail));
  il__set_last_error("no backend named \"%s\": looked for libinterloop-%s.so "
                     "in %s; available: %s",
                     name, name, il_backend_search_path(), avail);
  return IL_ENOBACKEND;
}
