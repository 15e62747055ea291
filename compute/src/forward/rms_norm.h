#pragma once
#include <torch/types.h>

namespace sy {

// Llama-style RMSNorm over the last dim (formats.md §2.1): normalise in f32, cast back to the
// activation dtype, then multiply by `weight` (same dtype as x). An f32 `weight` under a bf16 x
// is multiplied in f32 before the cast (gpt-oss style). x [..., D], weight [D].
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace sy
