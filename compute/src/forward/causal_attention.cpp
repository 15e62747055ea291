#include "forward/causal_attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace sy {
namespace {

// f32 scores one attend() call holds. On the CPU the scale, the mask, the f32 softmax and the cast
// back each pass over the scores; in pieces that stay in a core's cache those passes run from cache
// instead of memory. Qwen3-30B-A3B shapes (32 heads, 512-token sequences, BF16, two threads):
// causal_attention over 8,192 tokens took 650 ms in 4 MiB pieces (4 heads), 660-680 in 8 MiB,
// 720-760 in 16 MiB, 1,140-1,180 in whole sequences (the former 256 MiB bound), the same bits.
// On a GPU, pieces would only add kernel launches: there the budget just bounds memory.
int64_t score_budget_bytes(const torch::Device& device) {
    return device.is_cpu() ? int64_t(4) << 20 : int64_t(256) << 20;
}

// Query rows per block on the CPU. A block's queries see no key past its own last row, so its
// scores stop there: blocks of 128 rows compute 5/8 of a 512-token sequence's T x T scores and
// pass over 5/8 of them in the scale, the mask, the softmax and the product with v (the 8-expert
// benchmark model's layers, BF16, two threads: a 32,768-token eval 2.0-2.9% less wall and CPU). On a
// GPU, blocks would only add kernel launches: one block as long as the longest sequence.
int64_t query_block_rows(int64_t longest, const torch::Device& device) {
    return device.is_cpu() ? 128 : std::max<int64_t>(1, longest);
}

// rows [B, T] -> [B, heads, T, d], contiguous: a block's rows of it (narrow on T) are then
// matrices the batched GEMMs take as they are, not copies made per block.
torch::Tensor gather_heads(const torch::Tensor& x, const torch::Tensor& rows) {
    const int64_t b = rows.size(0), t = rows.size(1);
    return x.index_select(0, rows.reshape({-1})).view({b, t, x.size(1), x.size(2)}).permute({0, 2, 1, 3}).contiguous();
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                     const torch::Tensor& mask, const torch::Tensor& sinks) {
    torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale;   // [B, heads, T, T]
    scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());
    if (!sinks.defined()) {
        const torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
        return torch::matmul(probs, v);   // [B, heads, T, dv]
    }
    const int64_t t = scores.size(-1);
    const torch::Tensor sink_column =
        sinks.to(scores.scalar_type()).view({1, -1, 1, 1}).expand({scores.size(0), -1, scores.size(2), 1});
    const torch::Tensor probs = torch::softmax(torch::cat({scores, sink_column}, -1), -1, torch::kFloat32);
    return torch::matmul(probs.narrow(-1, 0, t).to(q.scalar_type()), v);
}

// attend() over pieces whose scores fit `budget` bytes: groups of heads, and for a head whose
// scores alone exceed it, groups of query rows (each row's softmax is its own; `mask` rows follow
// the queries). Every piece computes the same values as one call would; they are joined in order.
torch::Tensor attend_in_pieces(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const torch::Tensor& mask, const torch::Tensor& sinks, int64_t budget) {
    const int64_t sequences = q.size(0), heads = q.size(1), queries = q.size(2), keys = k.size(2);
    const int64_t head_bytes = sequences * queries * keys * 4;
    if (heads * head_bytes <= budget || (heads == 1 && queries == 1)) return attend(q, k, v, scale, mask, sinks);
    std::vector<torch::Tensor> pieces;
    if (heads > 1) {
        const int64_t step = std::max<int64_t>(1, budget / head_bytes);
        for (int64_t first = 0; first < heads; first += step) {
            const int64_t n = std::min(step, heads - first);
            pieces.push_back(attend_in_pieces(q.narrow(1, first, n), k.narrow(1, first, n), v.narrow(1, first, n), scale,
                                              mask, sinks.defined() ? sinks.narrow(0, first, n) : sinks, budget));
        }
        return torch::cat(pieces, 1);
    }
    const int64_t step = std::max<int64_t>(1, budget / (sequences * keys * 4));
    for (int64_t first = 0; first < queries; first += step) {
        const int64_t n = std::min(step, queries - first);
        pieces.push_back(attend(q.narrow(2, first, n), k, v, scale, mask.narrow(0, first, n), sinks));
    }
    return torch::cat(pieces, 2);
}

// [T, T] true where key j is hidden from query i: j > i, or j <= i - window.
torch::Tensor hidden_keys(int64_t t, int64_t window, const torch::Device& device) {
    const torch::Tensor ones = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(device));
    torch::Tensor mask = ones.triu(1);
    if (window > 0 && window < t) mask = mask.logical_or(ones.tril(-window));
    return mask;
}

}  // namespace

torch::Tensor causal_attention_in_pieces(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         double scale, const BatchLayout& batch, int64_t window,
                                         const torch::Tensor& sinks, int64_t budget_bytes, int64_t block_rows) {
    const int64_t heads = q.size(1), dv = v.size(2);
    torch::Tensor out = torch::empty({batch.tokens, heads * dv}, q.options());
    for (const BatchLayout::LengthGroup& group : batch.groups) {
        const int64_t t = group.length, count = group.rows.size(0), block = std::min(block_rows, t);
        const torch::Tensor mask = hidden_keys(t, window, q.device());
        const int64_t per_sequence = std::max<int64_t>(1, heads * block * t * 4);   // the last block's scores
        const int64_t chunk = std::max<int64_t>(1, budget_bytes / per_sequence);
        for (int64_t first = 0; first < count; first += chunk) {
            const torch::Tensor rows = group.rows.narrow(0, first, std::min(chunk, count - first));
            const torch::Tensor qh = gather_heads(q, rows), kh = gather_heads(k, rows), vh = gather_heads(v, rows);
            for (int64_t row = 0; row < t; row += block) {
                // Keys after the block's last query are hidden from all of its queries: the block's
                // scores stop there (their softmax would give them probability 0).
                const int64_t n = std::min(block, t - row), keys = row + n;
                const torch::Tensor o =
                    attend_in_pieces(qh.narrow(2, row, n), kh.narrow(2, 0, keys), vh.narrow(2, 0, keys), scale,
                                     mask.narrow(0, row, n).narrow(1, 0, keys), sinks, budget_bytes);
                out.index_copy_(0, rows.narrow(1, row, n).reshape({-1}), o.permute({0, 2, 1, 3}).reshape({-1, heads * dv}));
            }
        }
    }
    return out;
}

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const BatchLayout& batch, int64_t window, const torch::Tensor& sinks) {
    return causal_attention_in_pieces(q, k, v, scale, batch, window, sinks, score_budget_bytes(q.device()),
                                      query_block_rows(batch.longest, q.device()));
}

}  // namespace sy
