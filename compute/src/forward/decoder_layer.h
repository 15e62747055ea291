#pragma once
// One decoder layer over all tokens of the batch (formats.md §2.4):
//   h = h + attn(norm1(h));  h = h + ffn(norm2(h)),  ffn = dense MLP or routed MoE block.
#include <torch/types.h>

#include <functional>

#include "forward/forward_context.h"
#include "weights/layer_weights.h"
#include "forward/moe_block.h"
#include "forward/router.h"

namespace sy {

// What a MoE layer reports after its block ran: the routing, the block's normed input, its
// output and the layer's experts (still acquirable during the call).
struct MoeLayerReport {
    const Routing& routing;
    const torch::Tensor& moe_input;   // [N, H] activation dtype
    const MoeOutput& output;
    ExpertSource& experts;
};

struct MoeLayerHooks {
    bool want_norms = false;                              // fill MoeOutput::norms
    std::function<void(const MoeLayerReport&)> report;    // may be empty
};

// h [N, H] activation dtype -> [N, H].
torch::Tensor decoder_layer(const ForwardContext& ctx, const LayerWeights& weights, ExpertSource* experts,
                            const torch::Tensor& h, const MoeLayerHooks& hooks);

}  // namespace sy
