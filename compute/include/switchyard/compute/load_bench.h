#pragma once
// How fast the forward pass's weight loading runs on this machine: every weight of a model
// loaded into the compute dtype with the code trace and eval use (resident tensors, then every
// layer with its experts), timed. bench/load_bench.sh divides the source bytes per second by a
// same-run plain read of the files. No torch in this header.
#include <cstdint>
#include <string>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/model.h"

namespace sy {

struct LoadTiming {
    uint64_t source_bytes = 0;   // bytes read from the checkpoint
    uint64_t loaded_bytes = 0;   // bytes of the converted tensors
    double seconds = 0;          // wall time of the load
    double cpu_seconds = 0;      // user + system time of this process during the load
};

LoadTiming time_weight_load(const Model& model, ComputeDType dtype, const std::string& device);

}  // namespace sy
