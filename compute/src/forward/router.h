#pragma once
// Expert routing for every RouterRule of the family table (formats.md §2.5, §3.3, §4.5, §5.4,
// §9.2), with optional inference-time expert masks (MoTE / SteerMoE style switching,
// editing.md §4.2: masked experts are never selected, no weights change). All outputs are
// f32/i64 on the compute device.
#include <torch/types.h>

#include "weights/layer_weights.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct Routing {
    torch::Tensor logits;      // [N, E] f32, raw router logits (no mask)
    torch::Tensor probs;       // [N, E] f32, softmax over the unmasked experts, or sigmoid
    torch::Tensor selection;   // [N, E] f32, scores top-k was taken on (probs / sigmoid + bias), -inf where masked
    torch::Tensor ids;         // [N, k] int64, chosen experts in descending selection order
    torch::Tensor weights;     // [N, k] f32, final gate weights (renormalised / scaled)
};

// x [N, H] in the activation dtype (the MoE block's normed input). `masked` [E] bool (true =
// never select) or undefined. Throws std::logic_error for a dense layer.
Routing route(const ModelDescription& model, const LayerWeights& weights, const torch::Tensor& x,
              const torch::Tensor& masked = {});

}  // namespace sy
