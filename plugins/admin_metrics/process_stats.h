// Process statistics for /metrics: /proc/self (Linux), getrusage/getrlimit, and jemalloc's
// mallctl found at run time (dlsym(RTLD_DEFAULT)): the plugin never links jemalloc itself.
#pragma once

#include "exposition.h"

namespace corral::plugins::metrics {

// Reads everything it can; a value it cannot read stays empty. Thread-safe (jemalloc's
// epoch refresh is serialised inside).
ProcessStats readProcessStats();

}  // namespace corral::plugins::metrics
