#pragma once
// The MoE feed-forward block: routed experts run once each over the tokens routed to them
// (tokens grouped by expert, no per-token loops), weighted outputs accumulated with index_add_,
// plus the family's shared experts (formats.md §3.3, §4.5, §5.4).
#include <torch/types.h>

#include "weights/layer_weights.h"
#include "forward/router.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct MoeOutput {
    torch::Tensor out;     // [N, H] activation dtype
    torch::Tensor norms;   // [N, k] f32 ||f_e(x)||_2 of each chosen expert (un-gated), only on request
};

// x [N, H] activation dtype (normed input). Expert outputs are weighted and summed in f32 (HF
// sums in the activation dtype; f32 is at least as exact).
MoeOutput moe_block(const ModelDescription& model, const LayerWeights& weights, const torch::Tensor& x,
                    const Routing& routing, ExpertSource& experts, bool want_norms = false);

// One routed expert's un-gated output f_e(x) for x [n, H] (activation dtype) -> [n, H].
torch::Tensor expert_output(const ModelDescription& model, ExpertSource& experts, int expert, const torch::Tensor& x);

}  // namespace sy
