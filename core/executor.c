/* core/executor.c — placeholder until the executor lands. */
#include "transport_internal.h"

void il__executor_close(il_loop_t *loop) { IL__UNUSED(loop); }
