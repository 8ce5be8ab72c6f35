/* core/version.c — il_version(), il_version_string(). */
#include <interloop/version.h>

unsigned il_version(void) {
  return IL_VERSION_HEX;
}

const char *il_version_string(void) {
  return IL_VERSION_STRING;
}
