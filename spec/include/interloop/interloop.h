/* interloop/interloop.h — the umbrella header: include this one. */
#ifndef INTERLOOP_H
#define INTERLOOP_H

#include "common.h"
#include "version.h"
#include "error.h"
#include "loop.h"
#include "future.h"
#include "task.h"
#include "sync.h"
#include "transport.h"
#include "stream.h"
#include "executor.h"
#include "process.h"

#endif /* INTERLOOP_H */
