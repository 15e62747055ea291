// Causal attention runs on the CPU in blocks of query rows, each over the keys up to its last row,
// and each block in pieces small enough for a core's cache (groups of heads, and query rows of a
// head whose scores alone are too big). The blocks must give the formula's values (up to the
// order of the sums with v); the pieces must give exactly what one call per block gives.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "forward/batch_layout.h"
#include "forward/causal_attention.h"

namespace sy {
namespace {

// The formula of formats.md §2.4 in one pass over one sequence: q, k [T, heads, d], v [T, heads,
// dv] -> [T, heads * dv]; scores = q.k^T * scale, keys after the query (or `window` or more
// before it) hidden, softmax in f32 (with one sink logit per head when given), cast back, times v.
torch::Tensor one_pass(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                       int64_t window, const torch::Tensor& sinks) {
    const int64_t t = q.size(0), heads = q.size(1);
    const torch::Tensor qh = q.permute({1, 0, 2}), kh = k.permute({1, 0, 2}), vh = v.permute({1, 0, 2});
    const torch::Tensor i = torch::arange(t).unsqueeze(1), j = torch::arange(t).unsqueeze(0);
    torch::Tensor hidden = j > i;
    if (window > 0) hidden = hidden.logical_or(j <= i - window);
    torch::Tensor scores = torch::matmul(qh, kh.transpose(-1, -2)) * scale;
    scores = scores.masked_fill(hidden, -std::numeric_limits<double>::infinity());
    torch::Tensor probs;
    if (sinks.defined()) {
        const torch::Tensor column = sinks.to(scores.scalar_type()).view({heads, 1, 1}).expand({heads, t, 1});
        probs = torch::softmax(torch::cat({scores, column}, -1), -1, torch::kFloat32).narrow(-1, 0, t);
    } else {
        probs = torch::softmax(scores, -1, torch::kFloat32);
    }
    return torch::matmul(probs.to(q.scalar_type()), vh).permute({1, 0, 2}).reshape({t, -1});
}

BatchLayout one_sequence(int64_t t) {
    Batch batch;
    batch.sequences.push_back(std::vector<int32_t>(static_cast<std::size_t>(t), 1));
    return make_batch_layout(batch, 2, torch::kCPU);
}

// Largest difference, in f32.
double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

constexpr int64_t kWholeBlocks = int64_t(1) << 40;   // a budget / block no sequence reaches

TEST(CausalAttention, BlocksGiveTheValuesOfOnePass) {
    // 32 heads x 512 BF16 queries: four 128-row blocks over 128, 256, 384, 512 keys.
    torch::manual_seed(3);
    const int64_t t = 512, heads = 32, d = 16;
    const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16);
    const torch::Tensor q = torch::randn({t, heads, d}, bf16), k = torch::randn({t, heads, d}, bf16),
                        v = torch::randn({t, heads, d}, bf16);
    const torch::Tensor blocks = causal_attention(q, k, v, 0.25, one_sequence(t));
    // outputs are averages of v (|v| < 5): two BF16 steps at most apart; a wrong mask is far off
    EXPECT_LE(max_difference(blocks, one_pass(q, k, v, 0.25, 0, {})), 2.0 / 64);
    EXPECT_GT(max_difference(blocks, one_pass(q, k, v, 0.25, 300, {})), 0.1);
}

TEST(CausalAttention, BlocksGiveTheValuesOfOnePassWithWindowAndSinks) {
    // 1,100 f32 queries (the last block 76 rows), a 300-key window and one sink logit per head.
    torch::manual_seed(4);
    const int64_t t = 1100, heads = 2, d = 8;
    const torch::Tensor q = torch::randn({t, heads, d}), k = torch::randn({t, heads, d}), v = torch::randn({t, heads, d});
    const torch::Tensor sinks = torch::tensor({0.5f, -1.0f});
    const torch::Tensor blocks = causal_attention(q, k, v, 0.3, one_sequence(t), 300, sinks);
    EXPECT_LE(max_difference(blocks, one_pass(q, k, v, 0.3, 300, sinks)), 1e-5);
    // and the window and sinks did something: without them the output differs
    EXPECT_GT(max_difference(blocks, one_pass(q, k, v, 0.3, 0, {})), 0.1);
}

TEST(CausalAttention, PiecesGiveTheBitsOfOneCallPerBlock) {
    torch::manual_seed(5);
    {   // BF16, 32 heads: the 4 MiB budget splits each block's heads into groups
        const int64_t t = 512, heads = 32, d = 16;
        const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16);
        const torch::Tensor q = torch::randn({t, heads, d}, bf16), k = torch::randn({t, heads, d}, bf16),
                            v = torch::randn({t, heads, d}, bf16);
        const BatchLayout batch = one_sequence(t);
        EXPECT_TRUE(torch::equal(causal_attention(q, k, v, 0.25, batch),
                                 causal_attention_in_pieces(q, k, v, 0.25, batch, 0, {}, kWholeBlocks, 128)));
    }
    {   // f32 with window and sinks: 1 MiB pieces split heads, and whole-sequence blocks each head's
        // query rows (pieces of 238 rows)
        const int64_t t = 1100, heads = 2, d = 8;
        const torch::Tensor q = torch::randn({t, heads, d}), k = torch::randn({t, heads, d}), v = torch::randn({t, heads, d});
        const torch::Tensor sinks = torch::tensor({0.5f, -1.0f});
        const BatchLayout batch = one_sequence(t);
        for (int64_t block : {int64_t(128), t}) {
            const torch::Tensor whole = causal_attention_in_pieces(q, k, v, 0.3, batch, 300, sinks, kWholeBlocks, block);
            EXPECT_TRUE(torch::equal(causal_attention_in_pieces(q, k, v, 0.3, batch, 300, sinks, 1 << 20, block), whole))
                << "block " << block;
        }
        // a single block is the one pass of the formula, to the bit
        EXPECT_TRUE(torch::equal(causal_attention_in_pieces(q, k, v, 0.3, batch, 300, sinks, kWholeBlocks, kWholeBlocks),
                                 one_pass(q, k, v, 0.3, 300, sinks)));
    }
}

}  // namespace
}  // namespace sy
