#pragma once
// Self-attention of one decoder layer over all tokens of the batch: x [N, H] (already normed)
// -> [N, H]. The variant comes from the family row's AttentionKind and the layer's kind.
#include <torch/types.h>

#include "forward/forward_context.h"
#include "weights/layer_weights.h"

namespace sy {

torch::Tensor gqa_attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x);
torch::Tensor mla_attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x);
// Qwen3-Next's linear-attention layers (attention_linear.cpp).
torch::Tensor gated_delta_net(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x);

// The layer's token mixer: full, sliding or linear attention per ModelDescription::layer_attention.
inline torch::Tensor attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x) {
    if (ctx.model.is_linear_attention_layer(weights.layer)) return gated_delta_net(ctx, weights, x);
    return ctx.model.family->is_mla() ? mla_attention(ctx, weights, x) : gqa_attention(ctx, weights, x);
}

}  // namespace sy
