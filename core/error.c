/* core/error.c — the error table's accessors. */
#include <interloop/error.h>

#include <errno.h>

/* The table carries Linux errno values; on Linux they must agree with the
 * system headers, so il_translate_sys_error() is a negation there. */
#if defined(__linux__)
#define IL__CHECK_ERRNO(name, value, msg)                                      \
  _Static_assert(!(name > 0 && name < 4000) || (value) == -(name),             \
                 "IL_" #name " differs from -" #name);
IL__CHECK_ERRNO(EPERM, -1, "")
IL__CHECK_ERRNO(EINVAL, -22, "")
IL__CHECK_ERRNO(EAGAIN, -11, "")
IL__CHECK_ERRNO(ENOTSUP, -95, "")
IL__CHECK_ERRNO(ECONNRESET, -104, "")
IL__CHECK_ERRNO(ETIMEDOUT, -110, "")
IL__CHECK_ERRNO(ECANCELED, -125, "")
IL__CHECK_ERRNO(EMFILE, -24, "")
IL__CHECK_ERRNO(EADDRINUSE, -98, "")
IL__CHECK_ERRNO(EINPROGRESS, -115, "")
#undef IL__CHECK_ERRNO
#endif

const char *il_strerror(int code) {
  switch (code) {
#define IL__ERR_MSG(name, value, msg)                                          \
  case IL_##name:                                                              \
    return msg;
    IL_ERRNO_MAP(IL__ERR_MSG)
#undef IL__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *il_err_name(int code) {
  switch (code) {
#define IL__ERR_NAME(name, value, msg)                                         \
  case IL_##name:                                                              \
    return "IL_" #name;
    IL_ERRNO_MAP(IL__ERR_NAME)
#undef IL__ERR_NAME
  default:
    return "IL_EUNKNOWN";
  }
}

/* Linux only for now: the table's values are Linux's. A port to a system with
 * other errno values maps them here, one case per table entry. */
int il_translate_sys_error(int sys_errno) {
  if (sys_errno <= 0)
    return sys_errno;
  return -sys_errno;
}
