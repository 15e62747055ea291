#pragma once
// The training objective of one micro-batch, in two parts:
// - token losses, all written as a weighted sum of next-token NLLs: sum_t w_t nll_t, whose
//   weights w_t = d objective / d nll_t are constant for (negated) cross-entropy and follow
//   from the current NLLs for NPO; so the LM head can be differentiated chunk by chunk;
// - routing terms on the router probabilities of the MoE layers (anchor, load balance).
// Compute thread only.
#include <torch/types.h>

#include <vector>

#include "forward/batch_layout.h"
#include "forward/router.h"
#include "switchyard/compute/training.h"

namespace sy {

// A stream's token loss over one step: `normaliser` is the step's target-token count of the
// stream (cross-entropy) or its window count (NPO).
struct TokenObjective {
    TokenLoss loss = TokenLoss::cross_entropy;
    double weight = 1.0;
    double normaliser = 1.0;
    double npo_beta = 0.1;
    std::vector<double> reference;   // NPO: per sequence of the micro-batch, mean token log-prob of the reference model
};

struct TokenWeights {
    torch::Tensor weights;           // [N] f32 on the device; 0 at tokens without a target
    double value = 0;                // this micro-batch's part of the stream's (unweighted) loss
};

// `nll` [N] f32 (detached; any value where there is no target). Cross-entropy ignores it.
TokenWeights token_weights(const TokenObjective& objective, const BatchLayout& layout, const torch::Tensor& nll);

// Part of a cross-entropy loss value from the NLLs [n] the head computed with autograd (so the
// head runs once): sum where has_target [n] / normaliser, sign as the loss.
double cross_entropy_value(const TokenObjective& objective, const torch::Tensor& nll, const torch::Tensor& has_target);

// Probabilities the routing terms use: softmax routers' p as is; sigmoid scores normalised to
// sum 1 per token.
torch::Tensor routing_distribution(const ModelDescription& model, const Routing& routing);

// One term on one layer's routing, for the tokens of one micro-batch.
// anchor: sum_t ||p_t - onehot(expert)||^2 / token_normaliser (the step's token count).
// load_balance: E * sum_e f_e P_e of this layer * token_share / moe_layers, P_e the mean of p_e
// over these tokens; f_e the share of top-k slots of `slot_shares` [E] when given (the whole
// micro-batch's, summed over data-parallel ranks: balance_slot_shares), else of these tokens.
torch::Tensor routing_term(const ModelDescription& model, const RoutingLoss& term, const Routing& routing,
                           double token_normaliser, double token_share, const torch::Tensor& slot_shares = {});

// Top-k slots each expert took in `routing` [E] f32, no gradient: the training log's expert
// load and the Switch loss's f_e.
torch::Tensor expert_slot_counts(const Routing& routing);

// f_e of the Switch loss for one layer: each expert's share of the `slots` top-k slots its
// `counts` (expert_slot_counts) come from, [E] f32, summed over the processes of a data-parallel
// run first (`reducer`, may be null), so every rank weights its tokens' P_e by the whole
// micro-batch's f_e: the sum of the ranks' terms is then the one-process term, value and
// gradient. Every rank must call it for the same layers in the same order (a rank without
// tokens calls join_balance_slot_shares).
torch::Tensor balance_slot_shares(const torch::Tensor& counts, int64_t slots, GradientReducer* reducer);
void join_balance_slot_shares(int64_t experts, const torch::Device& device, GradientReducer& reducer);

}  // namespace sy
