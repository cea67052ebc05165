// The process-wide metrics registry: the SDK's BasicMetricsRegistry (one implementation for
// the kernel and for plugin tests).
#pragma once

#include "corral/basic_metrics_registry.h"

namespace corral::kernel::runtime {

using MetricsRegistryImpl = sdk::BasicMetricsRegistry;

}  // namespace corral::kernel::runtime
