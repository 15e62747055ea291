#pragma once
// The MoE feed-forward block: routed experts run once each over the tokens routed to them
// (tokens grouped by expert, no per-token loops), weighted outputs accumulated with index_add_,
// plus the family's shared experts (formats.md §3.3, §4.5, §5.4).
#include <torch/types.h>

#include "layer_weights.h"
#include "router.h"
#include "switchyard/core/model_config.h"

namespace sy {

// x [N, H] activation dtype (normed input); returns [N, H] in the same dtype. Expert outputs
// are weighted and summed in f32 (HF sums in the activation dtype; f32 is at least as exact).
torch::Tensor moe_block(const ModelDescription& model, const LayerWeights& weights, const torch::Tensor& x,
                        const Routing& routing, ExpertSource& experts);

}  // namespace sy
