/* conformance/tests_udp.c — placeholder. */
#include "harness.h"
