/* adapters/event/test_libev_global.c — the event plugin with libev in the
 * process's global scope.
 *
 * Debian's libev exports libevent's function names. With libev opened
 * RTLD_GLOBAL first, a plugin that let the dynamic linker bind libevent
 * would call libev's event_base_new / event_add on libevent's objects (and
 * libevent's own internal calls would go there too). The plugin must still
 * run a timer and an fd watcher on real libevent. In a sanitizer build the
 * isolation it needs (RTLD_DEEPBIND) is forbidden by the sanitizer runtime,
 * and the plugin must then refuse loudly rather than crash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <interloop/backend.h>
#include <interloop/interloop.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#ifndef IL_TEST_SANITIZED
static int timer_fired, read_ok;

static int on_timer(il_loop_t *loop, void *arg) {
  (void)loop;
  (void)arg;
  timer_fired = 1;
  return 0;
}

static int on_read(il_loop_t *loop, int fd, void *arg) {
  (void)arg;
  char buf[8];
  if (read(fd, buf, sizeof(buf)) == 2 && !memcmp(buf, "ok", 2))
    read_ok = 1;
  il_loop_remove_reader(loop, fd);
  return 0;
}
#endif

int main(void) {
  void *libev = dlopen("libev.so.4", RTLD_NOW | RTLD_GLOBAL);
  if (!libev) {
    fprintf(stderr, "cannot open libev.so.4: %s\n", dlerror());
    return 1;
  }
  /* The hazard is real: the global event_base_new is libev's. */
  Dl_info info;
  void *global_new = dlsym(RTLD_DEFAULT, "event_base_new");
  CHECK(global_new != NULL);
  CHECK(dladdr(global_new, &info) && strstr(info.dli_fname, "libev.so"));

  il_loop_options_t opts = IL_LOOP_OPTIONS_INIT;
  opts.backend = "event";
  il_loop_t *loop = NULL;
  int rc = il_loop_new(&loop, &opts);
#ifdef IL_TEST_SANITIZED
  /* Refused, with the reason on stderr (the default error handler). */
  CHECK(rc == IL_ENOBACKEND);
  CHECK(loop == NULL);
  CHECK(strstr(il_loop_last_error_message(), "event") != NULL);
  printf("sanitizer build: the event plugin refused to run with libev in "
         "the global scope (%s)\n",
         il_loop_last_error_message());
  return 0;
#else
  if (rc != 0) {
    fprintf(stderr, "il_loop_new(event): %s: %s\n", il_err_name(rc),
            il_loop_last_error_message());
    return 1;
  }
  char v[128];
  snprintf(v, sizeof(v), "%s", il_loop_engine_version(loop));
  CHECK(strncmp(v, "libevent 2.", 11) == 0);

  int fds[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) == 0);
  double t0 = il_loop_time(loop); /* before the timer: never early from here */
  CHECK(il_loop_call_later(loop, 0.02, on_timer, NULL, NULL) == 0);
  CHECK(il_loop_add_reader(loop, fds[0], on_read, NULL) == 0);
  CHECK(write(fds[1], "ok", 2) == 2);
  while ((!timer_fired || !read_ok) && il_loop_time(loop) - t0 < 5.0)
    CHECK(il_loop_run(loop, IL_RUN_ONCE) == 0);
  CHECK(timer_fired);
  CHECK(read_ok);
  CHECK(il_loop_time(loop) - t0 >= 0.02);
  CHECK(il_loop_free(loop) == 0);
  close(fds[0]);
  close(fds[1]);
  printf("event plugin ran a timer and an fd watcher on %s with libev "
         "loaded RTLD_GLOBAL\n",
         v);
  return 0;
#endif
}
