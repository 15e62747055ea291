// Inter-layer affinity on planted routing: token groups that always take fixed expert chains must
// come back as exact count and conditional matrices.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "planted_trace.h"
#include "switchyard/analysis/affinity.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {
namespace {

const std::vector<std::vector<int>> chains = {{0, 3, 5, 1}, {2, 2, 7, 3}, {4, 6, 1, 5}, {6, 0, 3, 7}};

AffinityResult run(const testing::Trace& tr, AffinityOptions options) {
    AffinityAccumulator acc(tr.shape, options);
    acc.add(tr.buffer.view());
    return acc.finish();
}

TEST(Affinity, PlantedChainsFirstChoiceExact) {
    const testing::Trace tr = testing::planted_chains(chains, 8, 2, 400);
    const AffinityResult r = run(tr, {AffinityConvention::first, 1, 2});
    ASSERT_EQ(r.pairs.size(), 3u);
    for (int l = 0; l < 3; ++l) {
        const AffinityPair& p = r.pairs[l];
        EXPECT_EQ(p.from_layer, 2 * l + 1);
        EXPECT_EQ(p.to_layer, 2 * l + 3);
        double total = 0;
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 8; ++j) total += p.count(i, j);
        EXPECT_EQ(total, 400);
        for (const auto& c : chains) {
            EXPECT_EQ(p.count(c[l], c[l + 1]), 100) << "layer " << l;
            EXPECT_EQ(p.prob(c[l], c[l + 1]), 1.0);
        }
        EXPECT_NEAR(p.mutual_information, 2.0, 1e-12);   // four equally likely, fully determined groups
        EXPECT_NEAR(p.entropy_to, 2.0, 1e-12);
        EXPECT_NEAR(p.row_max_mean, 1.0, 1e-12);
        EXPECT_NEAR(p.top_m_mass, 1.0, 1e-12);
    }
}

TEST(Affinity, PlantedChainsAllPairsAndWeighted) {
    const testing::Trace tr = testing::planted_chains(chains, 8, 2, 400);
    const AffinityResult all = run(tr, {AffinityConvention::all_pairs, 1, 1});
    const AffinityResult weighted = run(tr, {AffinityConvention::weighted, 1, 1});
    // Expected: every group adds 100 to (c_l + a, c_l+1 + b) for a, b in {0, 1}, weight
    // g_a * g_b with g = (0.7, 0.3).
    const double g[2] = {0.7f, 0.3f};
    for (int l = 0; l < 3; ++l) {
        std::vector<double> expect_all(64, 0.0), expect_w(64, 0.0);
        for (const auto& c : chains)
            for (int a = 0; a < 2; ++a)
                for (int b = 0; b < 2; ++b) {
                    const int at = ((c[l] + a) % 8) * 8 + (c[l + 1] + b) % 8;
                    expect_all[at] += 100;
                    for (int t = 0; t < 100; ++t) expect_w[at] += g[a] * g[b];
                }
        EXPECT_EQ(all.pairs[l].counts, expect_all);
        for (int i = 0; i < 64; ++i) EXPECT_NEAR(weighted.pairs[l].counts[i], expect_w[i], 1e-9);
    }
    // Expert 2 at MoE layer 1 is group 1's first choice only; group 1 goes on to 7 and 0 (= 7+1).
    EXPECT_DOUBLE_EQ(all.pairs[1].prob(2, 7), 0.5);
    EXPECT_DOUBLE_EQ(all.pairs[1].prob(2, 0), 0.5);
}

TEST(Affinity, MultiHopOfDeterministicChainsMatchesMarkov) {
    const testing::Trace tr = testing::planted_chains(chains, 8, 2, 400);
    const AffinityResult r = run(tr, {AffinityConvention::first, 2, 1});
    ASSERT_EQ(r.pairs.size(), 2u);
    EXPECT_EQ(r.pairs[0].from_layer, 1);
    EXPECT_EQ(r.pairs[0].to_layer, 5);
    for (const auto& c : chains) EXPECT_EQ(r.pairs[1].count(c[1], c[3]), 100);
    EXPECT_NEAR(r.pairs[0].markov_gap_tv, 0.0, 1e-12);
    for (const auto& c : chains)   // rows of experts nobody starts from differ (marginal fill-in)
        for (int j = 0; j < 8; ++j) EXPECT_EQ(r.pairs[0].markov[c[0] * 8 + j], r.pairs[0].prob(c[0], j));
}

TEST(Affinity, MarkovGapShowsMemoryBeyondOneHop) {
    // Groups 0 -> 0 -> 0 and 1 -> 0 -> 1: layer 2 depends on layer 0 through a shared expert.
    const testing::Trace tr = testing::planted_chains({{0, 0, 0}, {1, 0, 1}}, 2, 1, 10);
    const AffinityResult r = run(tr, {AffinityConvention::first, 2, 1});
    ASSERT_EQ(r.pairs.size(), 1u);
    const AffinityPair& p = r.pairs[0];
    EXPECT_EQ(p.conditional, (std::vector<double>{1, 0, 0, 1}));
    EXPECT_EQ(p.markov, (std::vector<double>{0.5, 0.5, 0.5, 0.5}));
    EXPECT_DOUBLE_EQ(p.markov_gap_tv, 0.5);
    EXPECT_DOUBLE_EQ(p.markov_gap_tv_max, 0.5);
    EXPECT_NEAR(p.mutual_information, 1.0, 1e-12);
    EXPECT_EQ(r.transition_counts(0), (std::vector<double>{5, 0, 5, 0}));
}

TEST(Affinity, JsonShapeUsesModelLayers) {
    const testing::Trace tr = testing::planted_chains(chains, 8, 2, 40);
    const auto j = nlohmann::json::parse(affinity_to_json(run(tr, {AffinityConvention::first, 1, 1})));
    EXPECT_EQ(j["convention"], "first");
    EXPECT_EQ(j["hops"], 1);
    ASSERT_EQ(j["pairs"].size(), 3u);
    EXPECT_EQ(j["pairs"][2]["from_layer"], 5);
    EXPECT_EQ(j["pairs"][2]["to_layer"], 7);
    EXPECT_EQ(j["pairs"][0]["counts"][0][3], 10);
    EXPECT_TRUE(j["pairs"][0]["counts"][0][3].is_number_integer());
    EXPECT_EQ(j["pairs"][0]["conditional"][0][3], 1.0);
    EXPECT_TRUE(j["pairs"][0].contains("mutual_information"));
    EXPECT_FALSE(j["pairs"][0].contains("markov_prediction"));
    EXPECT_NE(affinity_summary(run(tr, {AffinityConvention::first, 2, 1})).find("markov"), std::string::npos);
}

TEST(Affinity, RejectsBadOptions) {
    const testing::Trace tr = testing::planted_chains(chains, 8, 2, 4);
    EXPECT_THROW(AffinityAccumulator(tr.shape, {AffinityConvention::first, 4, 1}), UsageError);
    EXPECT_THROW(parse_convention("rank"), UsageError);
    EXPECT_EQ(parse_convention("all-pairs"), AffinityConvention::all_pairs);
}

}  // namespace
}  // namespace sy::analysis
