/* interloop/version.h — library version. See spec/SPEC.md §2. */
#ifndef INTERLOOP_VERSION_H
#define INTERLOOP_VERSION_H

#include "common.h"

/* The major version is the ABI major and the shared library's SONAME. */
#define IL_VERSION_MAJOR 0
#define IL_VERSION_MINOR 1
#define IL_VERSION_PATCH 0

#define IL__STR2(x) #x
#define IL__STR(x) IL__STR2(x)
#define IL_VERSION_STRING                                                      \
  IL__STR(IL_VERSION_MAJOR) "." IL__STR(IL_VERSION_MINOR) "." IL__STR(         \
      IL_VERSION_PATCH)

/* (major << 16) | (minor << 8) | patch, comparable with <. */
#define IL_VERSION_HEX                                                         \
  ((IL_VERSION_MAJOR << 16) | (IL_VERSION_MINOR << 8) | IL_VERSION_PATCH)

IL_BEGIN_DECLS

/* The version of the library actually loaded, as IL_VERSION_HEX.
 * Any thread. Never fails. */
IL_EXTERN unsigned il_version(void);

/* The version of the library actually loaded, "MAJOR.MINOR.PATCH".
 * Returns a static string the caller must not free. Any thread. */
IL_EXTERN const char *il_version_string(void);

IL_END_DECLS

#endif /* INTERLOOP_VERSION_H */
