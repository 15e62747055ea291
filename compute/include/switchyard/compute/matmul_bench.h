#pragma once
// The machine's own GEMM speed for given shapes, measured with the same LibTorch call the
// forward pass makes (x · wᵀ, weights stored [out, in] as in the checkpoint). Used by
// bench/trace_bench.sh to express the trace's achieved GFLOP/s as a fraction of what this
// machine can do. No torch in this header. Compute thread only.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/compute/model_runner.h"

namespace sy {

// y[m, n] = x[m, k] · w[n, k]ᵀ: 2·m·k·n FLOP.
struct MatmulShape {
    std::string name;   // e.g. "expert_up"
    int64_t m = 0, k = 0, n = 0;
};

struct MatmulTiming {
    MatmulShape shape;
    ComputeDType dtype = ComputeDType::f32;
    int64_t repeats = 0;
    double seconds = 0;   // per call, best of the timed rounds
    double gflops() const;
};

// Times each shape on `device` ("cpu", "cuda[:i]"): one warm-up call, then rounds of calls for at
// least `min_seconds` in total; reports the fastest round. Random normal operands.
std::vector<MatmulTiming> time_matmuls(const std::vector<MatmulShape>& shapes, ComputeDType dtype,
                                       const std::string& device, double min_seconds);

}  // namespace sy
