// Neuron-permutation alignment of two experts: a permuted copy is found
// exactly and scores 1, the alignment is symmetric and never lowers the similarity.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "planted_experts.h"
#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/errors.h"

namespace sy::test {
namespace {

struct Expert {
    int64_t inter = 0, hidden = 0;
    std::vector<float> gate, up, down;   // [I, H], [I, H], [H, I]
    ExpertArrays arrays() const { return {gate.data(), up.data(), down.data(), inter, hidden}; }
};

Expert random_expert(int64_t inter, int64_t hidden, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Expert e{inter, hidden, {}, {}, {}};
    for (auto* v : {&e.gate, &e.up, &e.down})
        for (int64_t i = 0; i < inter * hidden; ++i) v->push_back(normal(rng));
    return e;
}

// Neuron n of the result is neuron perm[n] of `e`, every value times `scale`.
Expert permuted(const Expert& e, const std::vector<int>& perm, float scale = 1.0f) {
    Expert out = e;
    for (int64_t n = 0; n < e.inter; ++n)
        for (int64_t h = 0; h < e.hidden; ++h) {
            const int64_t from = perm[static_cast<std::size_t>(n)];
            out.gate[n * e.hidden + h] = scale * e.gate[from * e.hidden + h];
            out.up[n * e.hidden + h] = scale * e.up[from * e.hidden + h];
            out.down[h * e.inter + n] = scale * e.down[h * e.inter + from];
        }
    return out;
}

TEST(ExpertAlignment, PermutedCopyIsRecoveredExactly) {
    const Expert a = random_expert(48, 16, 1);
    const std::vector<int> perm = random_permutation(48, 2);
    const ExpertAlignment r = align_experts(a.arrays(), permuted(a, perm).arrays());
    EXPECT_NEAR(r.aligned, 1.0, 1e-9);
    EXPECT_LT(r.unaligned, 0.5);
    // Neuron n of a is neuron k of b where perm[k] == n.
    for (int n = 0; n < 48; ++n) EXPECT_EQ(perm[static_cast<std::size_t>(r.permutation[n])], n) << n;
}

TEST(ExpertAlignment, ScaledPermutedCopyScoresOne) {
    const Expert a = random_expert(32, 8, 3);
    const ExpertAlignment r = align_experts(a.arrays(), permuted(a, random_permutation(32, 4), 0.25f).arrays());
    EXPECT_NEAR(r.aligned, 1.0, 1e-9);
}

TEST(ExpertAlignment, SelfAlignmentIsTheIdentity) {
    const Expert a = random_expert(20, 8, 5);
    const ExpertAlignment r = align_experts(a.arrays(), a.arrays());
    EXPECT_NEAR(r.aligned, 1.0, 1e-12);
    EXPECT_NEAR(r.unaligned, 1.0, 1e-12);
    for (int n = 0; n < 20; ++n) EXPECT_EQ(r.permutation[static_cast<std::size_t>(n)], n);
}

TEST(ExpertAlignment, UnrelatedExpertsAlignSymmetricallyAndNeverWorse) {
    const Expert a = random_expert(24, 12, 6), b = random_expert(24, 12, 7);
    const ExpertAlignment ab = align_experts(a.arrays(), b.arrays()), ba = align_experts(b.arrays(), a.arrays());
    EXPECT_NEAR(ab.aligned, ba.aligned, 1e-12);
    EXPECT_NEAR(ab.unaligned, ba.unaligned, 1e-12);
    EXPECT_GE(ab.aligned, ab.unaligned);
    EXPECT_LT(ab.aligned, 0.9);
    // The two permutations are inverse to each other.
    for (int n = 0; n < 24; ++n) EXPECT_EQ(ba.permutation[static_cast<std::size_t>(ab.permutation[n])], n);
}

TEST(ExpertAlignment, NoisyPermutedCopyStillMatches) {
    const Expert a = random_expert(40, 16, 8);
    const std::vector<int> perm = random_permutation(40, 9);
    Expert b = permuted(a, perm);
    std::mt19937 rng(10);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (auto* v : {&b.gate, &b.up, &b.down})
        for (float& x : *v) x += noise(rng);
    const ExpertAlignment r = align_experts(a.arrays(), b.arrays());
    EXPECT_GT(r.aligned, 0.99);
    EXPECT_LT(r.aligned, 1.0);
    for (int n = 0; n < 40; ++n) EXPECT_EQ(perm[static_cast<std::size_t>(r.permutation[n])], n) << n;
}

TEST(ExpertAlignment, DifferentShapesAreRefused) {
    const Expert a = random_expert(16, 8, 11), b = random_expert(8, 16, 12);
    EXPECT_THROW(align_experts(a.arrays(), b.arrays()), ShapeMismatch);
}

TEST(ExpertAlignment, AllZeroExpertHasNoCosine) {
    const Expert a = random_expert(8, 4, 13);
    Expert zero = a;
    for (auto* v : {&zero.gate, &zero.up, &zero.down}) std::fill(v->begin(), v->end(), 0.0f);
    EXPECT_TRUE(std::isnan(align_experts(a.arrays(), zero.arrays()).aligned));
}

}  // namespace
}  // namespace sy::test
