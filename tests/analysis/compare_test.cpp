// compare: identical traces agree 100%; a changed token is found; dataset deltas.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "planted_trace.h"
#include "switchyard/analysis/compare.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {
namespace {

CompareResult compare(const testing::Trace& a, const testing::Trace& b) {
    CompareAccumulator acc(a.shape, b.shape, 5);
    acc.add(a.buffer.view(), b.buffer.view());
    return acc.finish();
}

TEST(Compare, IdenticalTracesAgreeCompletely) {
    const testing::Trace tr = testing::random_trace(3, 8, 2, 500, 50, 2, 1);
    const CompareResult r = compare(tr, tr);
    EXPECT_EQ(r.tokens, 500);
    EXPECT_DOUBLE_EQ(r.topk_overlap, 1.0);
    EXPECT_DOUBLE_EQ(r.first_choice, 1.0);
    for (const LayerAgreement& g : r.layers) {
        EXPECT_DOUBLE_EQ(g.topk_set_equal, 1.0);
        EXPECT_DOUBLE_EQ(g.load_tv, 0.0);
        EXPECT_EQ(g.counts_a, g.counts_b);
    }
    EXPECT_TRUE(r.most_changed.empty());
    const auto j = nlohmann::json::parse(compare_to_json(r, {}));
    EXPECT_EQ(j["first_choice_agreement"], 1.0);
}

TEST(Compare, FindsTheChangedTokenAndLoadDrift) {
    testing::Trace a = testing::planted_chains({{0, 1}, {2, 3}}, 4, 2, 10);
    testing::Trace b = a;
    // Token 7, MoE layer 1: [3, 0] -> [0, 3] (same set, new first choice);
    // token 4, MoE layer 0: [0, 1] -> [2, 3] (nothing shared).
    std::swap(testing::id_at(b, 1, 7, 0), testing::id_at(b, 1, 7, 1));
    testing::id_at(b, 0, 4, 0) = 2;
    testing::id_at(b, 0, 4, 1) = 3;
    const CompareResult r = compare(a, b);
    EXPECT_DOUBLE_EQ(r.layers[0].topk_overlap, 0.9);
    EXPECT_DOUBLE_EQ(r.layers[0].first_choice, 0.9);
    EXPECT_DOUBLE_EQ(r.layers[1].topk_overlap, 1.0);
    EXPECT_DOUBLE_EQ(r.layers[1].topk_set_equal, 1.0);
    EXPECT_DOUBLE_EQ(r.layers[1].first_choice, 0.9);
    EXPECT_DOUBLE_EQ(r.layers[0].drift[0], -1.0 / 20);
    EXPECT_DOUBLE_EQ(r.layers[0].drift[2], 1.0 / 20);
    EXPECT_DOUBLE_EQ(r.layers[0].load_tv, 2.0 / 20);
    ASSERT_EQ(r.most_changed.size(), 2u);
    EXPECT_EQ(r.most_changed[0].token, 4);
    EXPECT_DOUBLE_EQ(r.most_changed[0].changed, 0.5);
    EXPECT_EQ(r.most_changed[0].first_choice_changes, 1);
    EXPECT_EQ(r.most_changed[1].token, 7);   // same set, new first choice
    EXPECT_DOUBLE_EQ(r.most_changed[1].changed, 0.0);
}

TEST(Compare, NextTokenLossPerDomainOverTokensWithALossInBoth) {
    testing::Trace a = testing::planted_chains({{0, 1}, {2, 3}}, 4, 2, 6);
    testing::Trace b = a;
    const float nan = std::nanf("");
    a.buffer.domain = {0, 0, 1, 1, -1, -1};
    a.buffer.nll = {1.0f, 2.0f, 3.0f, nan, 5.0f, 6.0f};   // token 3: a window's last token
    b.buffer.nll = {2.0f, 2.0f, 1.0f, nan, 7.0f, 6.0f};
    CompareAccumulator acc(a.shape, b.shape, 5);
    acc.add(a.buffer.view(), b.buffer.view());
    acc.set_domain_names({"code", "prose"});
    const CompareResult r = acc.finish();
    ASSERT_EQ(r.domains.size(), 3u);   // in order of appearance, records without a domain last
    EXPECT_EQ(r.domains[0].domain, "code");
    EXPECT_EQ(r.domains[0].tokens, 2);
    EXPECT_DOUBLE_EQ(r.domains[0].mean_nll_a, 1.5);
    EXPECT_DOUBLE_EQ(r.domains[0].mean_nll_b, 2.0);
    EXPECT_EQ(r.domains[1].domain, "prose");
    EXPECT_EQ(r.domains[1].tokens, 1);
    EXPECT_DOUBLE_EQ(r.domains[1].mean_nll_b, 1.0);
    EXPECT_EQ(r.domains[2].domain, "(none)");
    EXPECT_DOUBLE_EQ(r.domains[2].mean_nll_a, 5.5);
    EXPECT_EQ(r.all.tokens, 5);
    EXPECT_DOUBLE_EQ(r.all.mean_nll_a, 17.0 / 5);
    EXPECT_DOUBLE_EQ(r.all.mean_nll_b, 18.0 / 5);
    EXPECT_EQ(loss_rows(r).size(), 4u);
    const auto j = nlohmann::json::parse(compare_to_json(r, {}));
    EXPECT_EQ(j["nll"]["all"]["tokens"], 5);
    EXPECT_EQ(j["nll"]["domains"][1]["domain"], "prose");
    EXPECT_NE(compare_summary(r, {}).find("prose"), std::string::npos);
}

TEST(Compare, NoLossWithoutNll) {
    const testing::Trace tr = testing::random_trace(2, 4, 2, 50, 10, 2, 1);
    const CompareResult r = compare(tr, tr);
    EXPECT_TRUE(r.domains.empty());
    EXPECT_EQ(r.all.tokens, 0);
    EXPECT_TRUE(loss_rows(r).empty());
}

TEST(Compare, RefusesDifferentTokens) {
    const testing::Trace a = testing::planted_chains({{0, 1}, {2, 3}}, 4, 2, 10);
    testing::Trace b = a;
    b.buffer.token_ids[3] = 999;
    CompareAccumulator acc(a.shape, b.shape, 5);
    EXPECT_THROW(acc.add(a.buffer.view(), b.buffer.view()), UsageError);
}

TEST(Compare, DatasetLoadAndAffinityDeltas) {
    const testing::Trace a = testing::planted_chains({{0, 1}, {2, 3}}, 4, 1, 100);
    const testing::Trace b = testing::planted_chains({{0, 1}, {2, 1}}, 4, 1, 100);
    auto stats = [](const testing::Trace& tr) {
        StatsAccumulator acc(tr.shape, {});
        acc.add(tr.buffer.view());
        return acc.finish();
    };
    auto affinity = [](const testing::Trace& tr) {
        AffinityAccumulator acc(tr.shape, {});
        acc.add(tr.buffer.view());
        return acc.finish();
    };
    DatasetComparison d = compare_loads(stats(a).loads, stats(b).loads);
    compare_affinity(affinity(a), affinity(b), d);
    EXPECT_DOUBLE_EQ(d.loads[0].tv, 0.0);
    EXPECT_DOUBLE_EQ(d.loads[1].tv, 0.5);   // layer 1: half the tokens move from expert 3 to 1
    EXPECT_DOUBLE_EQ(d.loads[1].delta[1], 0.5);
    ASSERT_EQ(d.affinity.size(), 1u);
    EXPECT_DOUBLE_EQ(d.affinity[0].conditional_tv, 0.5);   // row 2 changes completely, row 0 not
    EXPECT_DOUBLE_EQ(d.affinity[0].max_abs_delta, 1.0);
    EXPECT_NEAR(d.affinity[0].mutual_information_a, 1.0, 1e-12);
    EXPECT_NEAR(d.affinity[0].mutual_information_b, 0.0, 1e-12);
    const auto j = nlohmann::json::parse(dataset_comparison_to_json(d));
    EXPECT_EQ(j["mode"], "datasets");
    EXPECT_FALSE(dataset_comparison_summary(d).empty());
}

}  // namespace
}  // namespace sy::analysis
