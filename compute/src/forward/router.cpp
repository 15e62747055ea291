#include "forward/router.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <string>

#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_names.h"

namespace sy {
namespace {

using Role = TensorRole;

constexpr double k_neg_inf = -std::numeric_limits<double>::infinity();

// Per-rule behaviour as a table (style.md rule 14: no type switch spread over the code).
struct RouterTraits {
    bool logits_in_f32;   // DeepSeek upcasts x and the gate weight before the matmul (§2.5)
    bool sigmoid;         // independent sigmoid scores instead of a softmax over E
    bool grouped;         // group-limited selection (n_group / topk_group)
    bool always_renorm;   // Mixtral renormalises whatever norm_topk_prob says
    double renorm_eps;    // HF DeepSeek adds 1e-20 to the denominator
};

RouterTraits traits_of(RouterRule rule) {
    switch (rule) {
    case RouterRule::softmax_topk_renorm: return {false, false, false, true, 0.0};
    case RouterRule::softmax_topk: return {false, false, false, false, 0.0};
    case RouterRule::softmax_group_topk: return {true, false, true, false, 1e-20};
    case RouterRule::sigmoid_group_topk: return {true, true, true, false, 1e-20};
    case RouterRule::sigmoid_topk_renorm: return {true, true, false, true, 0.0};   // MiniMaxM2TopKRouter
    // gpt-oss: top-k of the raw logits, softmax over those k (§6.3), which is what every
    // renormalising softmax router computes here (see route()).
    case RouterRule::topk_softmax: return {false, false, false, true, 0.0};
    case RouterRule::none: break;
    }
    throw std::logic_error("route() called for a dense layer");
}

// Logits are accumulated in f64 and rounded once to the dtype HF produces them in (the
// activation dtype; f32 for DeepSeek, §2.5). BLAS rounds a product differently depending on the
// output's width (OpenBLAS picks other kernels for small matrices: measured up to 1.4e-6 apart
// for 6 tokens x 8 vs 7 experts), so an f32 GEMM would make an expert's logit depend on how many
// other experts the router has; with f64 sums that difference lies ~1e-16 below the rounding and
// removing an expert leaves the others' logits bit-identical (editing.md §2.7). The router GEMM
// is E / (3 I) of one expert's work.
torch::Tensor router_logits(const RouterTraits& traits, const LayerWeights& w, const torch::Tensor& x) {
    const torch::Tensor& gate = w.at(Role::router);
    torch::Tensor logits = torch::matmul(x.to(torch::kFloat64), gate.to(torch::kFloat64).t());
    const torch::Tensor bias = w.find(Role::router_bias);   // gpt-oss: a linear layer with bias
    if (bias.defined()) logits = logits + bias.to(torch::kFloat64);
    return (traits.logits_in_f32 ? logits : logits.to(x.scalar_type())).to(torch::kFloat32);
}

// Keeps the topk_group best groups of E/n_group contiguous experts and masks the rest to -inf
// (DeepSeek official; HF uses 0, which differs only when a kept score is <= 0, §5.4); the family
// row says which (GLM follows transformers, its reference). Group score: sum of the two best
// scores with a correction bias (V3, GLM), else the best score (V2).
torch::Tensor mask_groups(const ModelDescription& m, const torch::Tensor& scores) {
    const int64_t n = scores.size(0), experts = scores.size(1), group_size = experts / m.n_group;
    const torch::Tensor grouped = scores.view({n, m.n_group, group_size});
    const int64_t best = m.family->has_router_score_bias() ? std::min<int64_t>(2, group_size) : 1;
    const torch::Tensor group_scores = std::get<0>(grouped.topk(best, -1)).sum(-1);   // [N, G]
    const torch::Tensor kept = std::get<1>(group_scores.topk(m.topk_group, -1));
    const torch::Tensor keep = torch::zeros({n, m.n_group}, scores.options().dtype(torch::kBool)).scatter(1, kept, true);
    const torch::Tensor keep_experts = keep.unsqueeze(-1).expand({n, m.n_group, group_size}).reshape({n, experts});
    const double fill = m.family->group_mask_fill == GroupMaskFill::zero ? 0.0 : k_neg_inf;
    return scores.masked_fill(keep_experts.logical_not(), fill);
}

torch::Tensor apply_mask(const torch::Tensor& scores, const torch::Tensor& masked) {
    return masked.defined() ? scores.masked_fill(masked.unsqueeze(0), k_neg_inf) : scores;
}

}  // namespace

Routing route(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x, const torch::Tensor& masked) {
    const RouterTraits traits = traits_of(m.family->router);
    const bool renormalise = traits.always_renorm || m.norm_topk_prob;
    Routing r;
    r.logits = router_logits(traits, w, x);
    // A masked expert's logit is -inf: it leaves a softmax's denominator exactly as slicing its
    // router row would (editing.md §2.7), and a sigmoid score of 0.
    const torch::Tensor logits = apply_mask(r.logits, masked);
    // A NaN logit of a selectable expert would still pick experts (top-k orders NaN arbitrarily)
    // and give NaN weights and losses: a run over broken weights or a diverged model must fail,
    // not write garbage. Masked experts' rows may hold anything: they are never selected.
    const int64_t nan_rows = torch::isnan(logits).any(1).sum().item<int64_t>();
    SY_CHECK(nan_rows == 0, CheckpointError,
             "layer " + std::to_string(w.layer) + ": the router's logits are NaN for " + std::to_string(nan_rows) + " of " +
                 std::to_string(logits.size(0)) + " tokens: the weights of " + tensor_name(*m.family, Role::router, w.layer) +
                 " or this layer's input hold NaN or Inf (a corrupt checkpoint, or a training run that diverged)");
    r.probs = traits.sigmoid ? torch::sigmoid(logits) : torch::softmax(logits, -1);
    const torch::Tensor bias = w.find(Role::router_score_bias);
    // The correction bias only chooses experts; weights come from the unbiased scores.
    r.selection = apply_mask(bias.defined() ? r.probs + bias.to(torch::kFloat32) : r.probs, masked);
    // Softmax routers choose on the logits: the same order as on the probabilities, but free of
    // the denominator's rounding, which depends on every other expert.
    const torch::Tensor scores = traits.sigmoid ? r.selection : logits;
    const torch::Tensor candidates = traits.grouped && m.n_group > 1 ? mask_groups(m, scores) : scores;
    r.ids = std::get<1>(candidates.topk(m.top_k, -1, /*largest=*/true, /*sorted=*/true));
    torch::Tensor weights;
    if (renormalise && !traits.sigmoid) {
        // softmax(z)_i / sum_S softmax(z)_j == softmax(z_S)_i: computed from the chosen logits
        // alone, the gates do not depend on experts that were not chosen, so removing a
        // never-chosen expert leaves every output bit-identical (editing.md §2.7).
        weights = torch::softmax(logits.gather(1, r.ids), -1);
    } else {
        weights = r.probs.gather(1, r.ids);
        if (renormalise) weights = weights / (weights.sum(-1, /*keepdim=*/true) + traits.renorm_eps);
    }
    r.weights = weights * m.routed_scaling_factor;
    return r;
}

}  // namespace sy
