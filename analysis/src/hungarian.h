#pragma once
// The solver moved to core (switchyard/core/hungarian.h) so sy_compute can share it; this
// keeps the analysis sources' spelling `sy::analysis::hungarian` working.
#include "switchyard/core/hungarian.h"

namespace sy::analysis {

using sy::assign_with_capacity;
using sy::hungarian;

}  // namespace sy::analysis
