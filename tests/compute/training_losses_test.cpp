// The training objective's terms (compute/src/training/losses.h) on small fixed inputs, against
// values written out here by hand from their definitions, not through the engine's code:
// - load balance: transformers' load_balancing_loss_func (modeling_mixtral.py: per-slot token
//   shares [k, E] times mean router probabilities, summed, times E) and Switch Transformer eq. 4
//   (arXiv 2101.03961, top-1), with loops over tokens and slots;
// - router anchor: SEUF's ||p_t - onehot(e)||^2 (editing.md §3 step 3), summed element by element;
// - NPO (Zhang et al. 2024, arXiv 2404.05868, eq. 3) on per-window mean log-probabilities, and
//   its per-token weights (d loss / d nll_t) against central finite differences of that value.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "switchyard/core/model.h"
#include "test_paths.h"
#include "training/losses.h"

namespace sy {
namespace {

using Matrix = std::vector<std::vector<double>>;

// Router logits of five tokens over four experts.
const Matrix k_logits = {{0.3, -1.2, 2.0, 0.1}, {1.5, 1.4, -0.3, 0.0}, {-0.7, 0.2, 0.9, 2.2}, {0.0, 0.0, 0.1, -0.1},
                         {2.5, -2.0, 0.4, 1.0}};

Matrix softmax_rows(const Matrix& logits) {
    Matrix p = logits;
    for (auto& row : p) {
        const double top = *std::max_element(row.begin(), row.end());
        double sum = 0;
        for (double& v : row) sum += (v = std::exp(v - top));
        for (double& v : row) v /= sum;
    }
    return p;
}

// Indices of the k largest entries of each row, largest first.
std::vector<std::vector<int64_t>> top_k(const Matrix& p, int k) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& row : p) {
        std::vector<int64_t> order(row.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
        order.resize(k);
        out.push_back(order);
    }
    return out;
}

Routing routing_of(const Matrix& p, const std::vector<std::vector<int64_t>>& ids) {
    std::vector<float> flat;
    for (const auto& row : p) flat.insert(flat.end(), row.begin(), row.end());
    std::vector<int64_t> flat_ids;
    for (const auto& row : ids) flat_ids.insert(flat_ids.end(), row.begin(), row.end());
    Routing r;
    r.probs = torch::tensor(flat, torch::kFloat32).reshape({int64_t(p.size()), int64_t(p[0].size())});
    r.ids = torch::tensor(flat_ids, torch::kInt64).reshape({int64_t(ids.size()), int64_t(ids[0].size())});
    return r;
}

// transformers' load_balancing_loss_func on one layer's probabilities: tokens_per_expert [k, E]
// = mean over tokens of the one-hot of each slot's expert; router_prob_per_expert [E] = mean
// probability; loss = E * sum(tokens_per_expert * router_prob_per_expert).
double transformers_load_balance(const Matrix& p, const std::vector<std::vector<int64_t>>& ids) {
    const std::size_t n = p.size(), experts = p[0].size(), k = ids[0].size();
    double loss = 0;
    for (std::size_t slot = 0; slot < k; ++slot)
        for (std::size_t e = 0; e < experts; ++e) {
            double share = 0, prob = 0;
            for (std::size_t t = 0; t < n; ++t) {
                share += ids[t][slot] == int64_t(e) ? 1.0 / double(n) : 0.0;
                prob += p[t][e] / double(n);
            }
            loss += share * prob;
        }
    return double(experts) * loss;
}

double value(const torch::Tensor& t) { return t.to(torch::kFloat64).item<double>(); }

TEST(TrainingLosses, LoadBalanceIsTransformersLossOverTopKPerLayer) {
    const Model model = open_model(test::examples_dir() / "tiny-mixtral");   // softmax router, 4 MoE layers
    const double layers = double(model.description.moe_layers.size());
    const Matrix p = softmax_rows(k_logits);
    RoutingLoss balance;
    balance.kind = RoutingLoss::Kind::load_balance;
    for (int k : {1, 2}) {
        SCOPED_TRACE(k);
        const auto ids = top_k(p, k);
        const Routing routing = routing_of(p, ids);
        const double reference = transformers_load_balance(p, ids);
        // Our term per layer is transformers' divided by k (f_e = share of the top-k slots, so a
        // uniform router scores 1 whatever k) and averaged over the MoE layers; a micro-batch
        // holding `share` of the step's tokens contributes that share.
        EXPECT_NEAR(value(routing_term(model.description, balance, routing, 5.0, 1.0)) * layers * k, reference, 1e-6);
        EXPECT_NEAR(value(routing_term(model.description, balance, routing, 5.0, 0.25)) * layers * k, 0.25 * reference, 1e-6);
    }
    // Switch eq. 4 (top-1): N * sum_i f_i P_i with f_i the share of tokens sent to expert i, N = E.
    const auto top1 = top_k(p, 1);
    double switch_loss = 0;
    for (int e = 0; e < 4; ++e) {
        double f = 0, prob = 0;
        for (std::size_t t = 0; t < p.size(); ++t) {
            f += top1[t][0] == e ? 0.2 : 0.0;
            prob += p[t][e] / 5.0;
        }
        switch_loss += 4.0 * f * prob;
    }
    EXPECT_NEAR(value(routing_term(model.description, balance, routing_of(p, top1), 5.0, 1.0)) * layers, switch_loss, 1e-6);
    // A perfectly balanced router scores 1 per layer (Switch's minimum).
    const Matrix uniform(4, std::vector<double>(4, 0.25));
    const Routing even = routing_of(uniform, {{0, 1}, {2, 3}, {1, 0}, {3, 2}});
    EXPECT_NEAR(value(routing_term(model.description, balance, even, 4.0, 1.0)) * layers, 1.0, 1e-6);
}

TEST(TrainingLosses, AnchorIsTheSquaredDistanceToTheTargetsOneHot) {
    const Model model = open_model(test::examples_dir() / "tiny-mixtral");
    const Matrix p = softmax_rows(k_logits);
    const Routing routing = routing_of(p, top_k(p, 2));
    for (int expert : {0, 2, 3}) {
        double sum = 0;
        for (const auto& row : p)
            for (std::size_t e = 0; e < row.size(); ++e) sum += std::pow(row[e] - (int(e) == expert ? 1.0 : 0.0), 2);
        RoutingLoss anchor{RoutingLoss::Kind::anchor, 1, expert, 1.0};
        // Normalised by the step's token count (here 8: the micro-batch holds 5 of them).
        EXPECT_NEAR(value(routing_term(model.description, anchor, routing, 8.0, 5.0 / 8.0)), sum / 8.0, 1e-6) << expert;
    }
}

TEST(TrainingLosses, SigmoidScoresAreNormalisedBeforeTheRoutingTerms) {
    const Model model = open_model(test::data_dir() / "models" / "tiny-deepseek-v3");   // sigmoid router
    Matrix scores = k_logits;
    for (auto& row : scores)
        for (double& v : row) v = 1.0 / (1.0 + std::exp(-v));
    Matrix p = scores;
    for (auto& row : p) {
        const double sum = std::accumulate(row.begin(), row.end(), 0.0);
        for (double& v : row) v /= sum;
    }
    const auto ids = top_k(scores, 2);
    double sum = 0;
    for (const auto& row : p)
        for (std::size_t e = 0; e < row.size(); ++e) sum += std::pow(row[e] - (e == 1 ? 1.0 : 0.0), 2);
    RoutingLoss anchor{RoutingLoss::Kind::anchor, 1, 1, 1.0};
    EXPECT_NEAR(value(routing_term(model.description, anchor, routing_of(scores, ids), 5.0, 1.0)), sum / 5.0, 1e-6);
}

// Two windows of 4 and 3 tokens; the last token of each has no target.
BatchLayout two_windows() {
    BatchLayout layout;
    layout.tokens = 7;
    layout.longest = 4;
    layout.offsets = {0, 4};
    layout.lengths = {4, 3};
    layout.has_target = torch::tensor(std::vector<uint8_t>{1, 1, 1, 0, 1, 1, 0}).to(torch::kBool);
    return layout;
}

// NPO, eq. 3, with the window's mean token log-probability for log pi(y|x):
// sum over windows of -(2/beta) log sigmoid(-beta (m - m_ref)) / normaliser.
double npo_by_hand(const std::vector<double>& nll, const std::vector<double>& reference, double beta, double normaliser) {
    const std::vector<std::pair<int, int>> windows = {{0, 3}, {4, 2}};   // first token, targets
    double loss = 0;
    for (std::size_t s = 0; s < windows.size(); ++s) {
        double logp = 0;
        for (int t = 0; t < windows[s].second; ++t) logp -= nll[windows[s].first + t];
        const double m = logp / windows[s].second;
        loss += -(2.0 / beta) * std::log(1.0 / (1.0 + std::exp(beta * (m - reference[s])))) / normaliser;
    }
    return loss;
}

TEST(TrainingLosses, NpoValueAndTokenWeightsMatchTheDefinition) {
    const BatchLayout layout = two_windows();
    const std::vector<double> nll = {2.0, 3.5, 1.25, 9.0, 0.5, 4.0, 7.0};   // 9.0 and 7.0: no target
    for (double beta : {0.1, 2.0}) {
        SCOPED_TRACE(beta);
        TokenObjective o;
        o.loss = TokenLoss::npo;
        o.npo_beta = beta;
        o.weight = 0.5;
        o.normaliser = 2.0;          // windows in the step
        o.reference = {-2.0, -3.0};  // the reference model's mean log-probabilities
        const TokenWeights w = token_weights(o, layout, torch::tensor(nll, torch::kFloat64).to(torch::kFloat32));
        const double expected = npo_by_hand(nll, o.reference, beta, o.normaliser);
        EXPECT_NEAR(w.value, expected, 1e-6);
        // At the reference, every window scores (2 / beta) log 2.
        const std::vector<double> at_reference = {2.0, 2.0, 2.0, 0.0, 3.0, 3.0, 0.0};
        EXPECT_NEAR(npo_by_hand(at_reference, o.reference, beta, 1.0), 2 * (2.0 / beta) * std::log(2.0), 1e-12);
        const TokenWeights at = token_weights(o, layout, torch::tensor(at_reference, torch::kFloat64).to(torch::kFloat32));
        EXPECT_NEAR(at.value, 2 * (2.0 / beta) * std::log(2.0) / o.normaliser, 1e-5);
        // Weights: the stream's weight times d loss / d nll_t, by central differences.
        const torch::Tensor weights = w.weights.to(torch::kFloat64);
        for (int t = 0; t < 7; ++t) {
            std::vector<double> up = nll, down = nll;
            up[t] += 1e-5;
            down[t] -= 1e-5;
            const double derivative = (npo_by_hand(up, o.reference, beta, o.normaliser) -
                                       npo_by_hand(down, o.reference, beta, o.normaliser)) / 2e-5;
            EXPECT_NEAR(weights[t].item<double>(), o.weight * derivative, 1e-6) << "token " << t;
        }
    }
}

TEST(TrainingLosses, CrossEntropyAndGradientAscentWeighTargetsEqually) {
    const BatchLayout layout = two_windows();
    const torch::Tensor nll = torch::tensor(std::vector<float>{2.0f, 3.5f, 1.25f, 9.0f, 0.5f, 4.0f, 7.0f});
    for (TokenLoss loss : {TokenLoss::cross_entropy, TokenLoss::negated_cross_entropy}) {
        TokenObjective o;
        o.loss = loss;
        o.weight = 3.0;
        o.normaliser = 5.0;   // target tokens in the step
        const double sign = loss == TokenLoss::cross_entropy ? 1.0 : -1.0;
        const TokenWeights w = token_weights(o, layout, nll);
        const std::vector<double> expected = {0.6, 0.6, 0.6, 0.0, 0.6, 0.6, 0.0};
        for (int t = 0; t < 7; ++t) EXPECT_NEAR(w.weights[t].item<double>(), sign * expected[t], 1e-7) << t;
        EXPECT_NEAR(cross_entropy_value(o, nll, layout.has_target), sign * (2.0 + 3.5 + 1.25 + 0.5 + 4.0) / 5.0, 1e-6);
    }
}

}  // namespace
}  // namespace sy
