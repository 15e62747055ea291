// Which experts each method picks, on planted scores.
#include <gtest/gtest.h>

#include <cmath>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/editing/expert_choice.h"

using namespace sy;
using namespace sy::test;

namespace {

// Scores for every MoE layer of `d` where expert e has REAP = reap[e], count = counts[e], etc.
ExpertScores planted(const ModelDescription& d, const std::vector<double>& reap, const std::vector<int64_t>& counts) {
    ExpertScores s;
    s.top_k = d.top_k;
    s.hidden_size = 2;
    s.tokens = 100;
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
        LayerExpertScores l;
        l.layer = d.moe_layers[i];
        l.experts = d.num_experts[i];
        l.count = counts;
        double total = 0;
        for (int64_t c : counts) total += double(c);
        for (int64_t c : counts) l.frequency.push_back(double(c) / total);
        l.reap = reap;
        l.ean.assign(reap.size(), 1.0);
        l.gate_mass = l.mean_prob = l.ean;
        l.router_logit_gram.assign(reap.size() * reap.size(), 0.0);
        s.layers.push_back(l);
    }
    return s;
}

}  // namespace

TEST(ExpertChoice, PrunesTheLowestSaliencySameCountPerLayer) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    const ExpertScores s = planted(model.description, {5, 1, 7, NAN, 3, 9, 2, 8}, {10, 20, 30, 0, 5, 40, 25, 15});
    const ExpertsByLayer reap = choose_pruned_experts(model.description, &s, {PruneMethod::reap, 0.25, 0, 0});
    EXPECT_EQ(reap.at(0), std::vector<int>({1, 3}));   // never routed (NaN) counts as lowest
    EXPECT_EQ(reap.size(), 4u);
    const ExpertsByLayer freq = choose_pruned_experts(model.description, &s, {PruneMethod::frequency, 0, 5, 0});
    EXPECT_EQ(freq.at(2), std::vector<int>({0, 3, 4}));
    // floor(8 * 0.3) = 2
    EXPECT_EQ(choose_pruned_experts(model.description, &s, {PruneMethod::ean, 0.3, 0, 0}).at(1).size(), 2u);
    EXPECT_THROW(choose_pruned_experts(model.description, &s, {PruneMethod::reap, 0.1, 0, 0}), UsageError);   // removes none
    EXPECT_THROW(choose_pruned_experts(model.description, &s, {PruneMethod::reap, 1.0, 0, 0}), UsageError);
    EXPECT_THROW(choose_pruned_experts(model.description, &s, {PruneMethod::reap, 0, 1, 0}), UsageError);     // below top_k
    EXPECT_THROW(choose_pruned_experts(model.description, nullptr, {PruneMethod::reap, 0.25, 0, 0}), UsageError);
}

TEST(ExpertChoice, RandomIsSeededAndGroupLimitedRoutersLoseEquallyPerGroup) {
    const Model mixtral = open_model(model_dir("tiny-mixtral"));
    const PruneChoice a{PruneMethod::random, 0.5, 0, 11}, b{PruneMethod::random, 0.5, 0, 12};
    EXPECT_EQ(choose_pruned_experts(mixtral.description, nullptr, a), choose_pruned_experts(mixtral.description, nullptr, a));
    EXPECT_NE(choose_pruned_experts(mixtral.description, nullptr, a), choose_pruned_experts(mixtral.description, nullptr, b));
    const Model v3 = open_model(model_dir("tiny-deepseek-v3"));   // 16 experts, 4 groups of 4
    std::vector<double> reap(16);
    for (int e = 0; e < 16; ++e) reap[size_t(e)] = e < 4 ? 0.1 * e : 10 + e;   // group 0 holds the four lowest
    const ExpertScores s = planted(v3.description, reap, std::vector<int64_t>(16, 10));
    EXPECT_EQ(choose_pruned_experts(v3.description, &s, {PruneMethod::reap, 0.25, 0, 0}).at(1), std::vector<int>({0, 4, 8, 12}));
    EXPECT_THROW(choose_pruned_experts(v3.description, &s, {PruneMethod::reap, 0, 14, 0}), UsageError);   // 2 of 4 groups
}

TEST(ExpertChoice, HcSmoeClustersNearestMeanOutputsAndMSmoeFollowsRouterLogits) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    ExpertScores s = planted(model.description, std::vector<double>(8, 1), {80, 10, 20, 30, 40, 50, 60, 70});
    // Mean outputs in 2-d: experts {0,1}, {2,3}, {4,5}, {6,7} are close pairs.
    const std::vector<double> points = {0, 0, 0.1, 0, 5, 5, 5, 5.2, -5, 5, -5.1, 5, 9, -9, 9, -9.05};
    for (auto& l : s.layers) l.output_mean = points;
    s.output_tokens = 10;
    const auto groups = choose_merge_groups(model.description, s, MergeMethod::hc_smoe, 4, MergeWeights::frequency);
    ASSERT_EQ(groups.at(0).size(), 4u);
    EXPECT_EQ(groups.at(0)[0].members, std::vector<int>({0, 1}));
    EXPECT_EQ(groups.at(0)[0].dominant, 0);                     // most frequent member
    EXPECT_DOUBLE_EQ(groups.at(0)[0].weights[0], 80.0 / 90.0);
    // M-SMoE: dominant = 4 most frequent (0, 7, 6, 5); 1..4 join by router-logit cosine.
    for (auto& l : s.layers) {
        l.router_logit_gram.assign(64, 0.0);
        for (int e = 0; e < 8; ++e) l.router_logit_gram[size_t(e * 8 + e)] = 1;
        auto link = [&](int a, int b) { l.router_logit_gram[size_t(a * 8 + b)] = l.router_logit_gram[size_t(b * 8 + a)] = 0.9; };
        link(1, 7), link(2, 6), link(3, 6), link(4, 0);
    }
    const auto m = choose_merge_groups(model.description, s, MergeMethod::m_smoe, 4, MergeWeights::uniform);
    std::vector<std::vector<int>> members;
    for (const auto& g : m.at(1)) members.push_back(g.members);
    EXPECT_EQ(members, (std::vector<std::vector<int>>{{0, 4}, {1, 7}, {2, 3, 6}}));
    s.output_tokens = 0;
    EXPECT_THROW(choose_merge_groups(model.description, s, MergeMethod::hc_smoe, 4, MergeWeights::uniform), UsageError);
}
