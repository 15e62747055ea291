#pragma once
// One decoder layer over all tokens of the batch (formats.md §2.4):
//   h = h + attn(norm1(h));  h = h + ffn(norm2(h)),  ffn = dense MLP or routed MoE block.
#include <torch/types.h>

#include <functional>

#include "forward_context.h"
#include "layer_weights.h"
#include "router.h"

namespace sy {

// Called for MoE layers with the routing and the block's normed input, before the experts run.
using RoutingCallback = std::function<void(const Routing& routing, const torch::Tensor& moe_input)>;

// h [N, H] activation dtype -> [N, H].
torch::Tensor decoder_layer(const ForwardContext& ctx, const LayerWeights& weights, ExpertSource* experts,
                            const torch::Tensor& h, const RoutingCallback& on_routing);

}  // namespace sy
