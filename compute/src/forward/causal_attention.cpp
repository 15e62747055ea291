#include "forward/causal_attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace sy {
namespace {

constexpr int64_t kScoreBudgetBytes = int64_t(256) << 20;

// rows [B, T] -> [B, heads, T, d]
torch::Tensor gather_heads(const torch::Tensor& x, const torch::Tensor& rows) {
    const int64_t b = rows.size(0), t = rows.size(1);
    return x.index_select(0, rows.reshape({-1})).view({b, t, x.size(1), x.size(2)}).permute({0, 2, 1, 3});
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
    const torch::Tensor sink_column = sinks.to(scores.scalar_type()).view({1, -1, 1, 1}).expand({scores.size(0), -1, t, 1});
    const torch::Tensor probs = torch::softmax(torch::cat({scores, sink_column}, -1), -1, torch::kFloat32);
    return torch::matmul(probs.narrow(-1, 0, t).to(q.scalar_type()), v);
}

// [T, T] true where key j is hidden from query i: j > i, or j <= i - window.
torch::Tensor hidden_keys(int64_t t, int64_t window, const torch::Device& device) {
    const torch::Tensor ones = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(device));
    torch::Tensor mask = ones.triu(1);
    if (window > 0 && window < t) mask = mask.logical_or(ones.tril(-window));
    return mask;
}

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const BatchLayout& batch, int64_t window, const torch::Tensor& sinks) {
    const int64_t heads = q.size(1), dv = v.size(2);
    torch::Tensor out = torch::empty({batch.tokens, heads * dv}, q.options());
    for (const BatchLayout::LengthGroup& group : batch.groups) {
        const int64_t t = group.length, count = group.rows.size(0);
        const torch::Tensor mask = hidden_keys(t, window, q.device());
        const int64_t per_sequence = std::max<int64_t>(1, heads * t * t * 4);
        const int64_t chunk = std::max<int64_t>(1, kScoreBudgetBytes / per_sequence);
        for (int64_t first = 0; first < count; first += chunk) {
            const torch::Tensor rows = group.rows.narrow(0, first, std::min(chunk, count - first));
            const torch::Tensor o =
                attend(gather_heads(q, rows), gather_heads(k, rows), gather_heads(v, rows), scale, mask, sinks);
            out.index_copy_(0, rows.reshape({-1}), o.permute({0, 2, 1, 3}).reshape({-1, heads * dv}));
        }
    }
    return out;
}

}  // namespace sy
