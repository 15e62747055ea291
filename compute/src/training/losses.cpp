// Token and routing losses (losses.h). NPO follows Zhang et al. 2024 (arXiv 2404.05868, eq. 3):
// L = -(2/beta) log sigmoid(-beta (log pi_theta(y|x) - log pi_ref(y|x))), with the sequence
// log-likelihood taken as the window's mean token log-probability so beta does not depend on
// the window length (editing.md §3: SEUF runs NPO as its default unlearning loss). Its gradient
// with respect to the mean log-probability m is 2 sigmoid(beta (m - m_ref)), which goes to 0 as
// the window is forgotten: unlike gradient ascent, the loss stops pushing (what keeps it from
// diverging on small models).
#include "training/losses.h"

#include <torch/torch.h>

#include <cmath>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }
double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

TokenWeights npo_weights(const TokenObjective& o, const BatchLayout& layout, const torch::Tensor& nll) {
    SY_CHECK(o.reference.size() == layout.lengths.size(), ShapeMismatch,
             "NPO: " + std::to_string(o.reference.size()) + " reference values for " +
                 std::to_string(layout.lengths.size()) + " windows");
    const torch::Tensor host = nll.detach().to(torch::kCPU).to(torch::kFloat64).contiguous();
    const double* values = host.data_ptr<double>();
    std::vector<float> weights(static_cast<std::size_t>(layout.tokens), 0.0f);
    TokenWeights out;
    for (std::size_t s = 0; s < layout.lengths.size(); ++s) {
        const int64_t first = layout.offsets[s], targets = layout.lengths[s] - 1;
        double sum = 0;
        for (int64_t t = 0; t < targets; ++t) sum += values[first + t];
        const double mean_logp = -sum / double(targets);
        const double delta = mean_logp - o.reference[s];
        out.value += -(2.0 / o.npo_beta) * log_sigmoid(-o.npo_beta * delta) / o.normaliser;
        // d L / d nll_t = d L / d m * d m / d nll_t = 2 sigmoid(beta delta) / normaliser * (-1 / targets)
        const double w = -o.weight * 2.0 * sigmoid(o.npo_beta * delta) / (o.normaliser * double(targets));
        for (int64_t t = 0; t < targets; ++t) weights[static_cast<std::size_t>(first + t)] = static_cast<float>(w);
    }
    out.weights = torch::tensor(weights, torch::kFloat32).to(nll.device());
    return out;
}

}  // namespace

TokenWeights token_weights(const TokenObjective& o, const BatchLayout& layout, const torch::Tensor& nll) {
    if (o.loss == TokenLoss::npo) return npo_weights(o, layout, nll);
    const double sign = o.loss == TokenLoss::negated_cross_entropy ? -1.0 : 1.0;
    TokenWeights out;
    out.weights = layout.has_target.to(torch::kFloat32) * (sign * o.weight / o.normaliser);
    return out;
}

double cross_entropy_value(const TokenObjective& o, const torch::Tensor& nll, const torch::Tensor& has_target) {
    const double sign = o.loss == TokenLoss::negated_cross_entropy ? -1.0 : 1.0;
    const torch::Tensor kept = nll.detach().to(torch::kFloat64).masked_fill(has_target.logical_not(), 0.0);
    return sign * kept.sum().item<double>() / o.normaliser;
}

torch::Tensor routing_distribution(const ModelDescription& model, const Routing& routing) {
    // Softmax probabilities already sum to 1 (masked experts at 0); sigmoid scores do not.
    const RouterRule rule = model.family->router;
    const bool sigmoid = rule == RouterRule::sigmoid_group_topk || rule == RouterRule::sigmoid_topk_renorm;
    return sigmoid ? routing.probs / routing.probs.sum(-1, /*keepdim=*/true).clamp_min(1e-20) : routing.probs;
}

torch::Tensor routing_term(const ModelDescription& model, const RoutingLoss& term, const Routing& routing,
                           double token_normaliser, double token_share, const torch::Tensor& slot_shares) {
    const torch::Tensor p = routing_distribution(model, routing);   // [N, E]
    if (term.kind == RoutingLoss::Kind::anchor) {
        torch::Tensor target = torch::zeros_like(p);
        target.select(1, term.expert).fill_(1.0);
        return (p - target).pow(2).sum() / token_normaliser;
    }
    const int64_t experts = p.size(1);
    // Share of top-k slots: no gradient, as in Switch.
    const torch::Tensor f =
        (slot_shares.defined() ? slot_shares : balance_slot_shares(expert_slot_counts(routing), routing.ids.numel(), nullptr))
            .to(p.scalar_type());
    const torch::Tensor mean_p = p.mean(0);
    const double layers = double(std::max<std::size_t>(model.moe_layers.size(), 1));
    return double(experts) * (f * mean_p).sum() * (token_share / layers);
}

torch::Tensor expert_slot_counts(const Routing& routing) {
    torch::NoGradGuard no_grad;
    return torch::bincount(routing.ids.reshape({-1}), {}, routing.probs.size(1)).to(torch::kFloat32);
}

torch::Tensor balance_slot_shares(const torch::Tensor& counts, int64_t slots, GradientReducer* reducer) {
    torch::NoGradGuard no_grad;
    const int64_t experts = counts.size(0);
    // [E counts, slots] in one buffer: one all-reduce per layer.
    torch::Tensor sums = torch::cat({counts, torch::full({1}, float(slots), counts.options())}).contiguous();
    if (reducer) reducer->all_reduce_sum(sums.data_ptr<float>(), sums.numel());
    return sums.narrow(0, 0, experts) / sums[experts].clamp_min(1.0f);
}

void join_balance_slot_shares(int64_t experts, const torch::Device& device, GradientReducer& reducer) {
    torch::Tensor zeros = torch::zeros({experts + 1}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    reducer.all_reduce_sum(zeros.data_ptr<float>(), zeros.numel());
}

}  // namespace sy
