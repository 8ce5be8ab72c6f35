/* conformance/tests_streams.c — placeholder. */
#include "harness.h"
