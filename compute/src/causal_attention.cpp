#include "causal_attention.h"

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
                     const torch::Tensor& mask) {
    torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale;   // [B, heads, T, T]
    scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());
    const torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
    return torch::matmul(probs, v);   // [B, heads, T, dv]
}

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const BatchLayout& batch) {
    const int64_t heads = q.size(1), dv = v.size(2);
    torch::Tensor out = torch::empty({batch.tokens, heads * dv}, q.options());
    for (const BatchLayout::LengthGroup& group : batch.groups) {
        const int64_t t = group.length, count = group.rows.size(0);
        const torch::Tensor mask =
            torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(1);
        const int64_t per_sequence = std::max<int64_t>(1, heads * t * t * 4);
        const int64_t chunk = std::max<int64_t>(1, kScoreBudgetBytes / per_sequence);
        for (int64_t first = 0; first < count; first += chunk) {
            const torch::Tensor rows = group.rows.narrow(0, first, std::min(chunk, count - first));
            const torch::Tensor o = attend(gather_heads(q, rows), gather_heads(k, rows), gather_heads(v, rows), scale, mask);
            out.index_copy_(0, rows.reshape({-1}), o.permute({0, 2, 1, 3}).reshape({-1, heads * dv}));
        }
    }
    return out;
}

}  // namespace sy
