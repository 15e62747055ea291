#pragma once
// One micro-batch through the model with autograd: the decoder layers trace and eval run
// (forward/decoder_layer.h), layers below the first trained one without autograd, the LM head
// differentiated chunk by chunk (the [N, V] logits never exist at once), and, with activation
// checkpointing, only each trained layer's input kept: the layer is run again during backward.
// Gradients accumulate in the masters (TrainableModel::masters). Compute thread only.
#include <functional>
#include <vector>

#include "forward/router.h"
#include "switchyard/compute/model_runner.h"
#include "training/losses.h"
#include "training/trainable_model.h"

namespace sy {

struct RoutingObjective {
    std::vector<RoutingLoss> terms;
    double token_normaliser = 1.0;   // the stream's tokens in the step (every position)
    double token_share = 1.0;        // this micro-batch's tokens / the stream's tokens in the step
    // Data parallel: the load-balancing term's f_e are summed over the ranks sharing the
    // micro-batch (balance_slot_shares). Null: one process.
    GradientReducer* reducer = nullptr;
    bool has(RoutingLoss::Kind kind) const;
};

struct MicroBatchResult {
    double token_value = 0;              // this micro-batch's part of the stream's loss
    std::vector<double> routing_values;  // per RoutingObjective::terms, its part of the term
    // Per model layer: top-k slots each expert took in the forward pass, [E] f32 on the device
    // (undefined for dense layers); the training log's load CV.
    std::vector<torch::Tensor> expert_load;
    int64_t tokens = 0;
};

// Forward, then backward of weight * token loss + sum of weighted routing terms. Polls `cancel`
// between layers (throws Cancelled; the masters' gradients are then partial).
MicroBatchResult train_micro_batch(TrainableModel& model, const Batch& batch, const TokenObjective& token,
                                   const RoutingObjective& routing, bool checkpointing, const CancelToken& cancel);

// Forward without autograd: next-token NLL [N] (NaN at each sequence's last token), with every
// MoE layer's routing shown to `on_routing` (may be empty).
std::vector<float> forward_nll(TrainableModel& model, const Batch& batch,
                               const std::function<void(int layer, const Routing& routing)>& on_routing,
                               const CancelToken& cancel);

}  // namespace sy
