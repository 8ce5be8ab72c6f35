/* core/server.c — placeholder until the servers land. */
#include "transport_internal.h"

void il__servers_close(il_loop_t *loop) { IL__UNUSED(loop); }
