/* conformance/tests_transport.c — placeholder. */
#include "harness.h"
