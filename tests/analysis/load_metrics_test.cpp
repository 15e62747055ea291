// Load-imbalance metrics against hand-computed values (analysis.md 2.7).
#include <gtest/gtest.h>

#include <cmath>

#include "switchyard/analysis/load_metrics.h"
#include "switchyard/analysis/stats_repetition.h"

namespace sy::analysis {

TEST(LoadMetrics, UniformCountsArePerfectlyBalanced) {
    const LoadMetrics m = load_metrics(std::vector<int64_t>{5, 5, 5, 5});
    EXPECT_DOUBLE_EQ(m.entropy_bits, 2.0);
    EXPECT_DOUBLE_EQ(m.entropy_normalized, 1.0);
    EXPECT_DOUBLE_EQ(m.cv, 0.0);
    EXPECT_DOUBLE_EQ(m.gini, 0.0);
    EXPECT_DOUBLE_EQ(m.max_over_mean, 1.0);
    EXPECT_DOUBLE_EQ(m.max_vio, 0.0);
}

TEST(LoadMetrics, OneExpertTakesEverything) {
    const LoadMetrics m = load_metrics(std::vector<int64_t>{0, 0, 0, 4});
    EXPECT_DOUBLE_EQ(m.entropy_bits, 0.0);
    EXPECT_NEAR(m.cv, std::sqrt(3.0), 1e-12);   // mean 1, variance (1+1+1+9)/4 = 3
    EXPECT_DOUBLE_EQ(m.gini, 0.75);             // (2*4-4-1)*4 / (4*4)
    EXPECT_DOUBLE_EQ(m.max_over_mean, 4.0);
    EXPECT_DOUBLE_EQ(m.max_vio, 3.0);
}

TEST(LoadMetrics, KnownDistribution) {
    // p = 0.1, 0.2, 0.3, 0.4
    const LoadMetrics m = load_metrics(std::vector<int64_t>{1, 2, 3, 4});
    const double h = -(0.1 * std::log2(0.1) + 0.2 * std::log2(0.2) + 0.3 * std::log2(0.3) + 0.4 * std::log2(0.4));
    EXPECT_NEAR(m.entropy_bits, h, 1e-12);
    EXPECT_NEAR(m.entropy_bits, 1.8464393446710154, 1e-12);
    EXPECT_NEAR(m.entropy_normalized, h / 2.0, 1e-12);
    EXPECT_NEAR(m.cv, std::sqrt(1.25) / 2.5, 1e-12);   // 0.4472...
    EXPECT_DOUBLE_EQ(m.gini, 0.25);                     // (-3*1 - 1*2 + 1*3 + 3*4) / (4*10)
    EXPECT_DOUBLE_EQ(m.max_over_mean, 1.6);
    EXPECT_NEAR(m.max_vio, 0.6, 1e-12);
    EXPECT_EQ(m.total, 10);
}

TEST(LoadMetrics, EmptyCountsAreAllZero) {
    const LoadMetrics m = load_metrics(std::vector<int64_t>{0, 0});
    EXPECT_EQ(m.entropy_bits, 0);
    EXPECT_EQ(m.max_vio, 0);
}

TEST(LoadMetrics, TotalVariation) {
    EXPECT_DOUBLE_EQ(total_variation({1, 0}, {0, 1}), 1.0);
    EXPECT_DOUBLE_EQ(total_variation({1, 1}, {2, 2}), 0.0);
    EXPECT_DOUBLE_EQ(total_variation({3, 1}, {1, 1}), 0.25);
}

TEST(RandomBaselines, MixtralValues) {
    // Mixtral Table 5: 1 - (6/8)(5/7) = 0.4643 for top-2 of 8 (analysis.md 2.5).
    EXPECT_NEAR(random_overlap_probability(8, 2), 1.0 - 30.0 / 56.0, 1e-12);
    EXPECT_DOUBLE_EQ(random_overlap_probability(8, 1), 1.0 / 8.0);
    EXPECT_DOUBLE_EQ(random_overlap_probability(3, 2), 1.0);
}

}  // namespace sy::analysis
