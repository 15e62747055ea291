#include "router.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace sy {
namespace {

using Role = TensorRole;

// Per-rule behaviour as a table (style.md rule 14: no type switch spread over the code).
struct RouterTraits {
    bool logits_in_f32;   // DeepSeek upcasts x and the gate weight before the matmul (§2.5)
    bool sigmoid;         // independent sigmoid scores instead of a softmax over E
    bool grouped;         // group-limited selection (n_group / topk_group)
    bool always_renorm;   // Mixtral renormalises whatever norm_topk_prob says
    double renorm_eps;    // HF DeepSeek adds 1e-20 to the denominator
    bool topk_on_logits = false;   // gpt-oss: top-k of the raw logits, softmax over the k (§6.3)
};

RouterTraits traits_of(RouterRule rule) {
    switch (rule) {
    case RouterRule::softmax_topk_renorm: return {false, false, false, true, 0.0};
    case RouterRule::softmax_topk: return {false, false, false, false, 0.0};
    case RouterRule::softmax_group_topk: return {true, false, true, false, 1e-20};
    case RouterRule::sigmoid_group_topk: return {true, true, true, false, 1e-20};
    case RouterRule::sigmoid_topk_renorm: return {true, true, false, true, 0.0};   // MiniMaxM2TopKRouter
    case RouterRule::topk_softmax: return {false, false, false, false, 0.0, true};
    case RouterRule::none: break;
    }
    throw std::logic_error("route() called for a dense layer");
}

torch::Tensor router_logits(const RouterTraits& traits, const LayerWeights& w, const torch::Tensor& x) {
    const torch::Tensor& gate = w.at(Role::router);
    if (traits.logits_in_f32) return torch::matmul(x.to(torch::kFloat32), gate.to(torch::kFloat32).t());
    const torch::Tensor bias = w.find(Role::router_bias);   // gpt-oss
    const torch::Tensor logits = torch::matmul(x, gate.t());
    return (bias.defined() ? logits + bias : logits).to(torch::kFloat32);
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
    const double fill =
        m.family->group_mask_fill == GroupMaskFill::zero ? 0.0 : -std::numeric_limits<double>::infinity();
    return scores.masked_fill(keep_experts.logical_not(), fill);
}

}  // namespace

Routing route(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x) {
    const RouterTraits traits = traits_of(m.family->router);
    Routing r;
    r.logits = router_logits(traits, w, x);
    if (traits.topk_on_logits) {
        r.selection = r.logits;
        r.ids = std::get<1>(r.logits.topk(m.top_k, -1, /*largest=*/true, /*sorted=*/true));
        r.weights = torch::softmax(r.logits.gather(1, r.ids), -1);
        return r;
    }
    const torch::Tensor probs = traits.sigmoid ? torch::sigmoid(r.logits) : torch::softmax(r.logits, -1);
    const torch::Tensor bias = w.find(Role::router_score_bias);
    // The correction bias only chooses experts; weights come from the unbiased scores.
    r.selection = bias.defined() ? probs + bias.to(torch::kFloat32) : probs;
    const torch::Tensor candidates = traits.grouped && m.n_group > 1 ? mask_groups(m, r.selection) : r.selection;
    r.ids = std::get<1>(candidates.topk(m.top_k, -1, /*largest=*/true, /*sorted=*/true));
    torch::Tensor weights = probs.gather(1, r.ids);
    if (traits.always_renorm || m.norm_topk_prob)
        weights = weights / (weights.sum(-1, /*keepdim=*/true) + traits.renorm_eps);
    r.weights = weights * m.routed_scaling_factor;
    return r;
}

}  // namespace sy
