/* interloop/common.h — export macro and basic types shared by every header.
 *
 * Part of the interloop specification; see spec/SPEC.md §1. */
#ifndef INTERLOOP_COMMON_H
#define INTERLOOP_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* IL_EXTERN marks a function that is part of the public ABI. The library is
 * built with hidden visibility by default, so only symbols marked here (and
 * matched by the version script) are exported. */
#if defined(_WIN32)
#  if defined(IL_BUILDING_SHARED)
#    define IL_EXTERN __declspec(dllexport)
#  elif defined(IL_USING_SHARED)
#    define IL_EXTERN __declspec(dllimport)
#  else
#    define IL_EXTERN
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define IL_EXTERN __attribute__((visibility("default")))
#else
#  define IL_EXTERN
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define IL_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define IL_WARN_UNUSED
#endif

#ifdef __cplusplus
#  define IL_BEGIN_DECLS extern "C" {
#  define IL_END_DECLS }
#else
#  define IL_BEGIN_DECLS
#  define IL_END_DECLS
#endif

IL_BEGIN_DECLS

/* Opaque object types. */
typedef struct il_loop il_loop_t;
typedef struct il_handle il_handle_t;

/* A destructor for user data attached to an interloop object. */
typedef void (*il_destructor_fn)(void *data);

IL_END_DECLS

#endif /* INTERLOOP_COMMON_H */
