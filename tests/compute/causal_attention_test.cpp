// Causal attention runs on the CPU in pieces small enough for a core's cache (groups of heads,
// and query rows of a head whose scores alone are too big); the pieces must give exactly what one
// pass over the whole score tensor gives.
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

TEST(CausalAttention, HeadsInPiecesGiveTheBitsOfOnePass) {
    // 32 heads x 512 x 512 f32 scores are 32 MiB: several pieces of a few heads each.
    torch::manual_seed(3);
    const int64_t t = 512, heads = 32, d = 16;
    const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16);
    const torch::Tensor q = torch::randn({t, heads, d}, bf16), k = torch::randn({t, heads, d}, bf16),
                        v = torch::randn({t, heads, d}, bf16);
    const torch::Tensor pieces = causal_attention(q, k, v, 0.25, one_sequence(t));
    EXPECT_TRUE(torch::equal(pieces, one_pass(q, k, v, 0.25, 0, {})));
}

TEST(CausalAttention, QueryRowsInPiecesGiveTheBitsOfOnePassWithWindowAndSinks) {
    // One head's 1100 x 1100 f32 scores (4.6 MiB) exceed the budget alone: its query rows go in
    // pieces, each with its rows of the sliding-window mask and the head's sink.
    torch::manual_seed(4);
    const int64_t t = 1100, heads = 2, d = 8;
    const torch::Tensor q = torch::randn({t, heads, d}), k = torch::randn({t, heads, d}), v = torch::randn({t, heads, d});
    const torch::Tensor sinks = torch::tensor({0.5f, -1.0f});
    const torch::Tensor pieces = causal_attention(q, k, v, 0.3, one_sequence(t), 300, sinks);
    EXPECT_TRUE(torch::equal(pieces, one_pass(q, k, v, 0.3, 300, sinks)));
    // and the window and sinks did something: without them the output differs
    EXPECT_FALSE(torch::equal(pieces, one_pass(q, k, v, 0.3, 0, {})));
}

}  // namespace
}  // namespace sy
