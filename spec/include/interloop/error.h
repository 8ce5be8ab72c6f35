/* interloop/error.h — error codes. See spec/SPEC.md §3.
 *
 * Every interloop function that can fail returns an int: 0 (or a documented
 * non-negative value) on success, a negative IL_E* code on failure. The codes
 * come from one table, IL_ERRNO_MAP. Codes that mirror a POSIX errno carry the
 * Linux value negated on every platform; interloop's own codes live at -4000
 * and below. A code, once published, is never renumbered or reused: a retired
 * code keeps its slot in the table. */
#ifndef INTERLOOP_ERROR_H
#define INTERLOOP_ERROR_H

#include "common.h"

/* XX(NAME, value, "message") */
#define IL_ERRNO_MAP(XX)                                                       \
  XX(EPERM, -1, "operation not permitted")                                     \
  XX(ENOENT, -2, "no such file or directory")                                  \
  XX(ESRCH, -3, "no such process")                                             \
  XX(EINTR, -4, "interrupted system call")                                     \
  XX(EIO, -5, "i/o error")                                                     \
  XX(ENXIO, -6, "no such device or address")                                   \
  XX(E2BIG, -7, "argument list too long")                                      \
  XX(ENOEXEC, -8, "exec format error")                                         \
  XX(EBADF, -9, "bad file descriptor")                                         \
  XX(ECHILD, -10, "no child processes")                                        \
  XX(EAGAIN, -11, "resource temporarily unavailable")                          \
  XX(ENOMEM, -12, "not enough memory")                                         \
  XX(EACCES, -13, "permission denied")                                         \
  XX(EFAULT, -14, "bad address")                                               \
  XX(EBUSY, -16, "resource busy or locked")                                    \
  XX(EEXIST, -17, "file already exists")                                       \
  XX(ENODEV, -19, "no such device")                                            \
  XX(ENOTDIR, -20, "not a directory")                                          \
  XX(EISDIR, -21, "is a directory")                                            \
  XX(EINVAL, -22, "invalid argument")                                          \
  XX(ENFILE, -23, "file table overflow")                                       \
  XX(EMFILE, -24, "too many open files")                                       \
  XX(ENOTTY, -25, "inappropriate ioctl for device")                            \
  XX(EFBIG, -27, "file too large")                                             \
  XX(ENOSPC, -28, "no space left on device")                                   \
  XX(ESPIPE, -29, "invalid seek")                                              \
  XX(EROFS, -30, "read-only file system")                                      \
  XX(EPIPE, -32, "broken pipe")                                                \
  XX(ERANGE, -34, "result too large")                                          \
  XX(ENAMETOOLONG, -36, "name too long")                                       \
  XX(ENOSYS, -38, "function not implemented")                                  \
  XX(ENOTEMPTY, -39, "directory not empty")                                    \
  XX(ELOOP, -40, "too many symbolic links encountered")                        \
  XX(ENOTSOCK, -88, "socket operation on non-socket")                          \
  XX(EDESTADDRREQ, -89, "destination address required")                        \
  XX(EMSGSIZE, -90, "message too long")                                        \
  XX(EPROTOTYPE, -91, "protocol wrong type for socket")                        \
  XX(ENOPROTOOPT, -92, "protocol not available")                               \
  XX(EPROTONOSUPPORT, -93, "protocol not supported")                           \
  XX(ENOTSUP, -95, "operation not supported")                                  \
  XX(EAFNOSUPPORT, -97, "address family not supported")                        \
  XX(EADDRINUSE, -98, "address already in use")                                \
  XX(EADDRNOTAVAIL, -99, "address not available")                              \
  XX(ENETDOWN, -100, "network is down")                                        \
  XX(ENETUNREACH, -101, "network is unreachable")                              \
  XX(ECONNABORTED, -103, "software caused connection abort")                   \
  XX(ECONNRESET, -104, "connection reset by peer")                             \
  XX(ENOBUFS, -105, "no buffer space available")                               \
  XX(EISCONN, -106, "socket is already connected")                             \
  XX(ENOTCONN, -107, "socket is not connected")                                \
  XX(ESHUTDOWN, -108, "cannot send after transport endpoint shutdown")         \
  XX(ETIMEDOUT, -110, "operation timed out")                                   \
  XX(ECONNREFUSED, -111, "connection refused")                                 \
  XX(EHOSTUNREACH, -113, "host is unreachable")                                \
  XX(EALREADY, -114, "operation already in progress")                          \
  XX(EINPROGRESS, -115, "operation in progress")                               \
  XX(ECANCELED, -125, "operation canceled")                                    \
  XX(ECLOSED, -4001, "object is closed")                                       \
  XX(EINVALSTATE, -4002, "invalid state for this operation")                   \
  XX(ERUNNING, -4003, "loop is already running")                               \
  XX(EWRONGTHREAD, -4004, "called from a thread that does not own the loop")   \
  XX(ENOBACKEND, -4005, "backend not found or not loadable")                   \
  XX(EBACKENDABI, -4006, "backend ABI version mismatch")                       \
  XX(ESTOPPED, -4007, "loop stopped before the future completed")              \
  XX(EINCOMPLETE, -4008, "end of stream before the expected data")            \
  XX(ELIMIT, -4009, "limit exceeded")                                          \
  XX(ENOTASK, -4010, "not called from inside a task")                          \
  XX(EAI, -4011, "name resolution failed")                                     \
  XX(EFORKED, -4012, "loop used in a forked child without il_loop_fork")       \
  XX(ECALLBACK, -4013, "callback reported a failure")                          \
  XX(EOF, -4095, "end of file")

/* IL_EPERM, IL_ENOENT, ... */
enum il_errno {
#define IL__ERR_ENUM(name, value, msg) IL_##name = (value),
  IL_ERRNO_MAP(IL__ERR_ENUM)
#undef IL__ERR_ENUM
  IL_ERRNO_MAX_ = -4096
};

IL_BEGIN_DECLS

/* A human-readable message for `code` ("invalid argument"). Returns a static
 * string; an unknown code gives "unknown error". Any thread. */
IL_EXTERN const char *il_strerror(int code);

/* The code's symbolic name ("IL_EINVAL"). Returns a static string; an unknown
 * code gives "IL_EUNKNOWN". Any thread. */
IL_EXTERN const char *il_err_name(int code);

/* Translates a positive system errno value to an IL_E* code (for example
 * ECONNRESET -> IL_ECONNRESET). Values that have no table entry are returned
 * negated. Any thread. */
IL_EXTERN int il_translate_sys_error(int sys_errno);

IL_END_DECLS

#endif /* INTERLOOP_ERROR_H */
