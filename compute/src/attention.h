#pragma once
// Self-attention of one decoder layer over all tokens of the batch: x [N, H] (already normed)
// -> [N, H]. The variant comes from the family row's AttentionKind.
#include <torch/types.h>

#include "forward_context.h"
#include "layer_weights.h"

namespace sy {

torch::Tensor gqa_attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x);
torch::Tensor mla_attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x);

inline torch::Tensor attention(const ForwardContext& ctx, const LayerWeights& weights, const torch::Tensor& x) {
    return ctx.model.family->is_mla() ? mla_attention(ctx, weights, x) : gqa_attention(ctx, weights, x);
}

}  // namespace sy
