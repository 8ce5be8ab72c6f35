/* conformance/tests_executor.c — placeholder. */
#include "harness.h"
