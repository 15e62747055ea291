// Qwen3-Next Gated DeltaNet token mixer (transformers models/qwen3_next/modeling_qwen3_next.py
// `Qwen3NextGatedDeltaNet.forward` without a cache). A layer runs over all tokens of the batch
// at once like every other layer, so layer streaming needs nothing special: each sequence's
// recurrent state lives only inside this call.
#include <torch/torch.h>

#include "forward/attention.h"
#include "switchyard/compute/gated_delta_rule.h"

namespace sy {
namespace {

using Role = TensorRole;

struct Projected {
    torch::Tensor mixed;   // [N, conv_dim]: q (nk dk) | k (nk dk) | v (nv dv), the conv's input
    torch::Tensor z;       // [N, nv, dv] output gate
    torch::Tensor b, a;    // [N, nv]
};

// in_proj_qkvz rows are grouped per key head: [q dk | k dk | v r*dv | z r*dv] x nk, with r =
// nv / nk; in_proj_ba as [b r | a r] x nk (`fix_query_key_value_ordering`).
Projected project(const LinearAttentionDims& d, const LayerWeights& w, const torch::Tensor& x) {
    const int64_t n = x.size(0), r = d.value_heads / d.key_heads, rv = r * d.value_head_dim;
    const torch::Tensor qkvz = torch::matmul(x, w.at(Role::lin_qkvz).t()).view({n, d.key_heads, -1});
    const torch::Tensor ba = torch::matmul(x, w.at(Role::lin_ba).t()).view({n, d.key_heads, 2 * r});
    const std::vector<torch::Tensor> parts = qkvz.split_with_sizes({d.key_head_dim, d.key_head_dim, rv, rv}, -1);
    Projected p;
    p.mixed = torch::cat({parts[0].reshape({n, -1}), parts[1].reshape({n, -1}), parts[2].reshape({n, -1})}, -1);
    p.z = parts[3].reshape({n, d.value_heads, d.value_head_dim});
    p.b = ba.narrow(-1, 0, r).reshape({n, d.value_heads});
    p.a = ba.narrow(-1, r, r).reshape({n, d.value_heads});
    return p;
}

// Depthwise causal conv1d (left padding K-1) then SiLU, within each sequence. mixed [N, C],
// weight [C, 1, K].
torch::Tensor causal_conv(const torch::Tensor& mixed, const torch::Tensor& weight, const BatchLayout& batch) {
    const int64_t channels = mixed.size(1), kernel = weight.size(2);
    torch::Tensor out = torch::empty_like(mixed);
    for (const BatchLayout::LengthGroup& group : batch.groups) {
        const torch::Tensor rows = group.rows.reshape({-1});
        const torch::Tensor in = mixed.index_select(0, rows).view({group.rows.size(0), group.length, channels});
        const torch::Tensor conv = torch::conv1d(in.transpose(1, 2), weight, {}, 1, kernel - 1, 1, channels);
        const torch::Tensor y = torch::silu(conv.narrow(2, 0, group.length)).transpose(1, 2);
        out.index_copy_(0, rows, y.reshape({-1, channels}));
    }
    return out;
}

// q, k [N, nv, dk], v [N, nv, dv], g, beta [N, nv] -> [N, nv, dv] f32, each sequence from a zero
// state; sequences of equal length run together.
torch::Tensor delta_rule(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& g,
                         const torch::Tensor& beta, const BatchLayout& batch) {
    torch::Tensor out = torch::empty({v.size(0), v.size(1), v.size(2)}, v.options().dtype(torch::kFloat32));
    for (const BatchLayout::LengthGroup& group : batch.groups) {
        const torch::Tensor rows = group.rows.reshape({-1});
        const int64_t count = group.rows.size(0), t = group.length;
        auto heads_first = [&](const torch::Tensor& x) {   // [count*T, H, ...] -> [count, H, T, ...]
            std::vector<int64_t> shape = {count, t};
            for (int64_t d = 1; d < x.dim(); ++d) shape.push_back(x.size(d));
            return x.index_select(0, rows).view(shape).transpose(1, 2);
        };
        const torch::Tensor o = chunk_gated_delta_rule(heads_first(q), heads_first(k), heads_first(v), heads_first(g),
                                                       heads_first(beta));
        out.index_copy_(0, rows, o.transpose(1, 2).reshape({count * t, v.size(1), v.size(2)}));
    }
    return out;
}

// Qwen3NextRMSNormGated: RMSNorm with a plain weight in the activation dtype, then times
// silu(z) in f32.
torch::Tensor gated_norm(const torch::Tensor& o, const torch::Tensor& z, const torch::Tensor& weight, double eps) {
    const torch::Tensor of = o.to(torch::kFloat32);
    const torch::Tensor normed = (of * torch::rsqrt(of.pow(2).mean(-1, true) + eps)).to(z.scalar_type());
    return ((weight * normed).to(torch::kFloat32) * torch::silu(z.to(torch::kFloat32))).to(z.scalar_type());
}

}  // namespace

torch::Tensor gated_delta_net(const ForwardContext& ctx, const LayerWeights& w, const torch::Tensor& x) {
    const LinearAttentionDims& d = *ctx.model.linear_attention;
    const int64_t n = x.size(0), r = d.value_heads / d.key_heads;
    const Projected p = project(d, w, x);
    const torch::Tensor mixed = causal_conv(p.mixed, w.at(Role::lin_conv), ctx.batch);
    const std::vector<torch::Tensor> qkv = mixed.split_with_sizes({d.key_dim(), d.key_dim(), d.value_dim()}, -1);
    torch::Tensor q = qkv[0].reshape({n, d.key_heads, d.key_head_dim});
    torch::Tensor k = qkv[1].reshape({n, d.key_heads, d.key_head_dim});
    const torch::Tensor v = qkv[2].reshape({n, d.value_heads, d.value_head_dim});
    const torch::Tensor beta = torch::sigmoid(p.b.to(torch::kFloat32));
    const torch::Tensor g =
        -w.at(Role::lin_a_log).exp() * torch::softplus(p.a.to(torch::kFloat32) + w.at(Role::lin_dt_bias));
    if (r > 1) q = q.repeat_interleave(r, 1), k = k.repeat_interleave(r, 1);
    const torch::Tensor o = delta_rule(q, k, v, g, beta, ctx.batch).to(x.scalar_type());
    const torch::Tensor normed = gated_norm(o, p.z, w.at(Role::lin_norm), ctx.model.rms_norm_eps);
    return torch::matmul(normed.reshape({n, d.value_dim()}), w.at(Role::lin_out).t());
}

}  // namespace sy
