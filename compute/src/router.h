#pragma once
// Expert routing for every RouterRule of the family table (formats.md §2.5, §3.3, §4.5, §5.4,
// §9.2). All outputs are f32/i64 on the compute device.
#include <torch/types.h>

#include "layer_weights.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct Routing {
    torch::Tensor logits;      // [N, E] f32, raw router logits
    torch::Tensor selection;   // [N, E] f32, scores top-k was taken on (softmax / sigmoid + bias)
    torch::Tensor ids;         // [N, k] int64, chosen experts in descending selection order
    torch::Tensor weights;     // [N, k] f32, final gate weights (renormalised / scaled)
};

// x [N, H] in the activation dtype (the MoE block's normed input).
Routing route(const ModelDescription& model, const LayerWeights& weights, const torch::Tensor& x);

}  // namespace sy
