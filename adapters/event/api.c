/* adapters/event/api.c — binding to libevent.
 *
 * Debian's libev exports libevent 1.x's function names (event_add,
 * event_del, event_base_new, event_base_priority_init, ...). If libev sits in
 * the process's global scope (the executable links it, or something opened
 * it RTLD_GLOBAL), ordinary symbol binding sends both the plugin's calls and
 * libevent's calls to its *own* exported functions (event_free calls
 * event_del, event_base_new_with_config calls event_base_priority_init) to
 * libev, which corrupts libevent's objects.
 *
 * So the plugin does not link libevent. It opens libevent_core by soname
 * with RTLD_LOCAL | RTLD_DEEPBIND, which puts libevent's own scope ahead of
 * the global one for libevent's references, and takes every function it
 * calls from dlsym() on that handle. Two cases cannot be fixed that way and
 * are refused with a reason instead of crashing later:
 *   - libevent_core was already loaded by someone else: its references were
 *     bound when it was loaded, and DEEPBIND no longer applies;
 *   - a sanitizer runtime is present: sanitizers abort on RTLD_DEEPBIND.
 * In both the adapter checks that none of the names libevent calls
 * internally resolves, in the global scope, to another library.
 *
 * The linkable library (no IL__EVENT_PLUGIN) calls libevent directly: an
 * application that links both engines chooses the binding itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "event_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifdef IL__EVENT_PLUGIN
#include <dlfcn.h>

#ifndef IL__EVENT_SONAME
#define IL__EVENT_SONAME "libevent_core-2.1.so.7"
#endif

il__event_api_t il__event_api;

/* libevent's exported names that other libraries also define (libev's
 * libevent 1.x emulation) and that libevent itself calls through its PLT. */
static const char *const interposable[] = {"event_init",
                                           "event_base_new",
                                           "event_base_free",
                                           "event_base_loop",
                                           "event_base_dispatch",
                                           "event_base_once",
                                           "event_base_set",
                                           "event_base_loopexit",
                                           "event_base_loopbreak",
                                           "event_base_priority_init",
                                           "event_priority_init",
                                           "event_priority_set",
                                           "event_add",
                                           "event_del",
                                           "event_set",
                                           "event_once",
                                           "event_pending",
                                           "event_loop",
                                           "event_dispatch",
                                           "event_loopexit",
                                           "event_get_version",
                                           "event_get_method"};

static int sanitizer_runtime(void) {
  static const char *const probes[] = {"__asan_init", "__tsan_init",
                                       "__msan_init", "__lsan_init"};
  for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
    if (dlsym(RTLD_DEFAULT, probes[i]))
      return 1;
  return 0;
}
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_error[512];

static void load(void) {
#ifdef IL__EVENT_PLUGIN
  void *already = dlopen(IL__EVENT_SONAME, RTLD_NOW | RTLD_NOLOAD);
  int deep = !already && !sanitizer_runtime();
  void *h = dlopen(IL__EVENT_SONAME,
                   RTLD_NOW | RTLD_LOCAL | (deep ? RTLD_DEEPBIND : 0));
  if (already)
    dlclose(already); /* h holds its own reference */
  if (!h) {
    const char *why = dlerror();
    snprintf(load_error, sizeof(load_error), "cannot load %s: %s",
             IL__EVENT_SONAME, why ? why : "unknown dlopen failure");
    load_rc = IL_ENOBACKEND;
    return;
  }
#define IL__EVENT_RESOLVE(fn)                                                  \
  {                                                                            \
    void *p = dlsym(h, #fn);                                                   \
    if (!p) {                                                                  \
      snprintf(load_error, sizeof(load_error), "%s has no function %s",        \
               IL__EVENT_SONAME, #fn);                                         \
      load_rc = IL_ENOBACKEND;                                                 \
      return;                                                                  \
    }                                                                          \
    memcpy(&il__event_api.fn, &p, sizeof(p));                                  \
  }
  IL__EVENT_API(IL__EVENT_RESOLVE)
#undef IL__EVENT_RESOLVE
  if (!deep) {
    for (size_t i = 0; i < sizeof(interposable) / sizeof(interposable[0]);
         i++) {
      void *global = dlsym(RTLD_DEFAULT, interposable[i]);
      void *own = dlsym(h, interposable[i]);
      if (!global || !own || global == own)
        continue;
      Dl_info info;
      const char *who =
          dladdr(global, &info) && info.dli_fname ? info.dli_fname : "?";
      snprintf(load_error, sizeof(load_error),
               "%s resolves to %s in the global scope, so libevent's calls "
               "to its own functions would go there (Debian's libev exports "
               "libevent's names); the plugin cannot isolate libevent: %s",
               interposable[i], who,
               already ? "libevent_core was already loaded"
                       : "a sanitizer runtime forbids RTLD_DEEPBIND");
      load_rc = IL_ENOBACKEND;
      return;
    }
  }
#endif
  size_t lib_size = IL__EV(event_get_struct_event_size)();
  if (lib_size != sizeof(struct event)) {
    snprintf(load_error, sizeof(load_error),
             "libevent %s has a %zu-byte struct event; this adapter was built "
             "for %zu bytes",
             IL__EV(event_get_version)(), lib_size, sizeof(struct event));
    load_rc = IL_ENOBACKEND;
  }
}

int il__event_api_load(void) {
  pthread_once(&load_once, load);
  return load_rc;
}

const char *il__event_api_error(void) {
  pthread_once(&load_once, load);
  return load_error;
}
