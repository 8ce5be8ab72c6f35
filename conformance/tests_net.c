/* conformance/tests_net.c — placeholder. */
#include "harness.h"
