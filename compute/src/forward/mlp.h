#pragma once
#include <torch/types.h>

#include "weights/layer_weights.h"
#include "switchyard/core/model_config.h"

namespace sy {

// SiLU-gated MLP without biases (formats.md §2.2): down(silu(gate(x)) * up(x)).
// x [N, H], gate/up [I, H], down [H, I] -> [N, H]. With grad mode off (inference) the activation
// and the product overwrite the gate projection's output: the same bits, two buffers fewer.
torch::Tensor silu_mlp(const torch::Tensor& x, const torch::Tensor& gate, const torch::Tensor& up,
                       const torch::Tensor& down);

// One routed expert of `model`'s family (FamilySpec::expert_mlp) on its tokens x [n, H] -> [n, H].
torch::Tensor expert_mlp(const ModelDescription& model, const torch::Tensor& x, const ExpertWeights& expert);

}  // namespace sy
