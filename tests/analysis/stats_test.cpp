// `stats` numbers on a hand-built six-token trace, asserted against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "planted_trace.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {
namespace {

using testing::Trace;

// Two MoE layers (model layers 1, 3), 4 experts, top-2, six tokens in two documents:
//   t  L0     L1     doc pos domain token
//   0  [0,1]  [2,3]  0   0   0      10
//   1  [0,2]  [2,0]  0   1   0      11
//   2  [1,3]  [1,0]  0   2   0      10
//   3  [0,1]  [3,2]  1   0   1      12
//   4  [2,0]  [3,1]  1   1   1      10
//   5  [0,3]  [3,2]  1   2   1      11
Trace hand_trace() {
    Trace tr = testing::empty_trace({1, 3}, {4, 4}, 2, 6);
    const int ids[2][6][2] = {{{0, 1}, {0, 2}, {1, 3}, {0, 1}, {2, 0}, {0, 3}},
                              {{2, 3}, {2, 0}, {1, 0}, {3, 2}, {3, 1}, {3, 2}}};
    for (int l = 0; l < 2; ++l)
        for (int t = 0; t < 6; ++t)
            for (int j = 0; j < 2; ++j) testing::id_at(tr, l, t, j) = static_cast<int16_t>(ids[l][t][j]);
    tr.buffer.doc = {0, 0, 0, 1, 1, 1};
    tr.buffer.pos = {0, 1, 2, 0, 1, 2};
    tr.buffer.domain = {0, 0, 0, 1, 1, 1};
    tr.buffer.token_ids = {10, 11, 10, 12, 10, 11};
    return tr;
}

StatsResult run(const Trace& tr, StatsOptions options = {}) {
    options.domain_names = {"code", "math"};
    options.position_bucket_tokens = 2;
    StatsAccumulator acc(tr.shape, options);
    acc.add(tr.buffer.view());
    return acc.finish();
}

TEST(Stats, CountsFractionsAndImbalance) {
    const StatsResult r = run(hand_trace());
    ASSERT_EQ(r.loads.size(), 2u);
    EXPECT_EQ(r.loads[0].layer, 1);
    EXPECT_EQ(r.loads[0].counts, (std::vector<int64_t>{5, 3, 2, 2}));
    EXPECT_EQ(r.loads[0].first_choice_counts, (std::vector<int64_t>{4, 1, 1, 0}));
    EXPECT_EQ(r.loads[1].counts, (std::vector<int64_t>{2, 2, 4, 4}));
    EXPECT_DOUBLE_EQ(r.loads[0].fractions[0], 5.0 / 12.0);
    const LoadMetrics& m = r.loads[0].metrics;
    const double p[4] = {5 / 12.0, 3 / 12.0, 2 / 12.0, 2 / 12.0};
    double h = 0;
    for (double v : p) h -= v * std::log2(v);
    EXPECT_NEAR(m.entropy_bits, h, 1e-12);
    EXPECT_NEAR(m.max_over_mean, 5.0 / 3.0, 1e-12);
    EXPECT_NEAR(m.max_vio, 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(m.gini, 10.0 / 48.0, 1e-12);              // sorted 2,2,3,5
    EXPECT_NEAR(m.cv, std::sqrt(1.5) / 3.0, 1e-12);       // variance (4+0+1+1)/4
}

TEST(Stats, GateMassSumsTheGateWeightsOfEachExpertsTokens) {
    Trace tr = hand_trace();
    for (int t = 0; t < 6; ++t) {   // layer 0: first choice 0.75, second 0.25
        testing::weight_at(tr, 0, t, 0) = 0.75f;
        testing::weight_at(tr, 0, t, 1) = 0.25f;
    }
    const StatsResult r = run(tr);
    // Expert 0 is first at t 0, 1, 3, 5 and second at t 4; expert 1 first at t 2, second at 0, 3.
    EXPECT_EQ(r.loads[0].gate_mass, (std::vector<double>{4 * 0.75 + 0.25, 0.75 + 2 * 0.25, 0.75 + 0.25, 2 * 0.25}));
    EXPECT_EQ(r.loads[1].gate_mass, (std::vector<double>{1.0, 1.0, 2.0, 2.0}));   // 0.5 each slot
    double total = 0;
    for (double g : r.loads[0].gate_mass) total += g;
    EXPECT_DOUBLE_EQ(total, 6.0);   // every token's weights sum to 1
}

TEST(Stats, ConsecutiveRepetitionWithinDocuments) {
    const StatsResult r = run(hand_trace());
    // Pairs (0,1), (1,2), (3,4), (4,5); (2,3) crosses documents.
    const LayerRepetition& l0 = r.repetition[0];
    EXPECT_EQ(l0.all.pairs, 4);
    EXPECT_EQ(l0.all.same_first, 1);
    EXPECT_EQ(l0.all.any_shared, 3);
    EXPECT_EQ(r.repetition[1].all.same_first, 3);
    EXPECT_EQ(r.repetition[1].all.any_shared, 4);
    EXPECT_DOUBLE_EQ(l0.baseline_same_first, 0.25);
    EXPECT_NEAR(l0.baseline_any_shared, 1.0 - (2.0 / 4.0) * (1.0 / 3.0), 1e-12);   // 1 - C(2,2)/C(4,2)
    ASSERT_EQ(l0.by_domain.size(), 2u);
    EXPECT_EQ(l0.by_domain[0].same_first, 1);
    EXPECT_EQ(l0.by_domain[1].any_shared, 2);
}

TEST(Stats, DomainFrequencyAndSpecialisation) {
    const StatsResult r = run(hand_trace());
    const DomainStats& d = r.domains;
    EXPECT_EQ(d.names, (std::vector<std::string>{"code", "math"}));
    EXPECT_EQ(d.tokens, (std::vector<int64_t>{3, 3}));
    const DomainLayerStats& l0 = d.layers[0];
    EXPECT_EQ(l0.counts[0], (std::vector<int64_t>{2, 2, 1, 1}));
    EXPECT_EQ(l0.counts[1], (std::vector<int64_t>{3, 1, 1, 1}));
    EXPECT_NEAR(l0.frequency[0][0], 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(l0.specialisation[0], 1.0 / 12.0, 1e-12);
    EXPECT_NEAR(l0.specialisation[1], 1.0 / 12.0, 1e-12);
    EXPECT_NEAR(l0.lift[1][0], 0.5 / (5.0 / 12.0), 1e-12);
}

TEST(Stats, TopTokensWithLift) {
    const StatsResult r = run(hand_trace());
    ASSERT_EQ(r.token_table.layers.size(), 2u);   // small: every layer tracked
    const auto& e0 = r.token_table.layers[0].top_tokens[0];
    ASSERT_EQ(e0.size(), 3u);
    EXPECT_EQ(e0[0].token_id, 10);
    EXPECT_EQ(e0[0].count, 2);
    EXPECT_NEAR(e0[0].lift, (2.0 / 3.0) / (5.0 / 6.0), 1e-12);
    EXPECT_EQ(e0[1].token_id, 11);
    EXPECT_NEAR(e0[1].lift, 1.0 / (5.0 / 6.0), 1e-12);
    EXPECT_EQ(e0[2].token_id, 12);
    EXPECT_NEAR(r.token_table.layers[0].vocabulary_specialisation, 5.0 / 6.0, 1e-12);
}

TEST(Stats, PositionBuckets) {
    const StatsResult r = run(hand_trace());
    EXPECT_EQ(r.positions.tokens, (std::vector<int64_t>{4, 2}));
    EXPECT_EQ(r.positions.layers[0].fractions[1], (std::vector<double>{0.25, 0.25, 0.0, 0.5}));
}

TEST(Stats, LoadBalancingLossPerWindowAndGlobal) {
    // One layer, 2 experts, top-1. Token 0 -> expert 0 with p = (0.75, 0.25); token 1 ->
    // expert 1 with p = (0.5, 0.5). Global: f = (.5, .5), P = (.625, .375): 2 * 0.5 = 1.0.
    // Windows of one token: 2 * 1 * 0.75 = 1.5 and 2 * 1 * 0.5 = 1.0, mean 1.25.
    Trace tr = testing::empty_trace({0}, {2}, 1, 2, true);
    testing::id_at(tr, 0, 1, 0) = 1;
    testing::logits_at(tr, 0, 0)[0] = std::log(0.75f);
    testing::logits_at(tr, 0, 0)[1] = std::log(0.25f);
    StatsOptions options;
    options.window_tokens = 1;
    const StatsResult r = run(tr, options);
    ASSERT_TRUE(r.has_router_scores);
    const LayerRouterScores& s = r.router[0];
    EXPECT_NEAR(s.lbl_global, 1.0, 1e-6);
    ASSERT_EQ(s.lbl_windows.size(), 2u);
    EXPECT_NEAR(s.lbl_windows[0], 1.5, 1e-6);
    EXPECT_NEAR(s.lbl_windows[1], 1.0, 1e-6);
    EXPECT_NEAR(s.lbl_micro_mean, 1.25, 1e-6);
    EXPECT_NEAR(s.mean_entropy_bits, (0.8112781244591328 + 1.0) / 2, 1e-6);
    EXPECT_NEAR(s.topk_score_mass, 0.625, 1e-6);
    EXPECT_DOUBLE_EQ(s.uniform_topk_mass, 0.5);
    EXPECT_NEAR(s.mean_probs[0], 0.625, 1e-6);
    options.window_tokens = 2;
    EXPECT_NEAR(run(tr, options).router[0].lbl_micro_mean, 1.0, 1e-6);
}

TEST(Stats, SigmoidScoresAreNormalised) {
    double p[2];
    const float logits[2] = {0.0f, 0.0f};
    router_probabilities(logits, 2, ScoreFunction::sigmoid, p);
    EXPECT_DOUBLE_EQ(p[0], 0.5);
    EXPECT_DOUBLE_EQ(p[1], 0.5);
}

TEST(Stats, JsonAndSummary) {
    const StatsResult r = run(hand_trace());
    const std::vector<std::string> vocab(13, "tok");
    const auto j = nlohmann::json::parse(stats_to_json(r, vocab));
    EXPECT_EQ(j["tokens"], 6);
    EXPECT_EQ(j["layers"][1]["layer"], 3);
    EXPECT_EQ(j["layers"][0]["counts"], nlohmann::json({5, 3, 2, 2}));
    EXPECT_EQ(j["top_tokens"]["layers"][0]["experts"][0][0]["token"], "tok");
    EXPECT_FALSE(j["layers"][0].contains("router"));
    const std::string text = stats_summary(r, vocab);
    EXPECT_NE(text.find("MaxVio"), std::string::npos);
    EXPECT_NE(text.find("math"), std::string::npos);
}

TEST(Stats, RejectsExpertIdsOutOfRange) {
    Trace tr = hand_trace();
    testing::id_at(tr, 1, 4, 1) = 4;
    StatsAccumulator acc(tr.shape, {});
    EXPECT_THROW(acc.add(tr.buffer.view()), ShapeMismatch);
}

}  // namespace
}  // namespace sy::analysis
