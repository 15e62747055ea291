#pragma once
#include <torch/types.h>

namespace sy {

// SiLU-gated MLP without biases (formats.md §2.2): down(silu(gate(x)) * up(x)).
// x [N, H], gate/up [I, H], down [H, I] -> [N, H].
torch::Tensor silu_mlp(const torch::Tensor& x, const torch::Tensor& gate, const torch::Tensor& up,
                       const torch::Tensor& down);

}  // namespace sy
