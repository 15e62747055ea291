// GQA attention for Mixtral, Llama, Qwen2/3(-MoE) and OLMoE (formats.md §2.4, §4.6, §9.3).
#include <torch/torch.h>

#include <cmath>

#include "attention.h"
#include "causal_attention.h"
#include "rms_norm.h"

namespace sy {
namespace {

using Role = TensorRole;

torch::Tensor project(const LayerWeights& w, Role weight, Role bias, const torch::Tensor& x) {
    const torch::Tensor b = w.find(bias);
    return b.defined() ? torch::matmul(x, w.at(weight).t()) + b : torch::matmul(x, w.at(weight).t());
}

// Rotates the first rotary_dim dims of each head, passes the rest (partial_rotary_factor).
torch::Tensor rotate(const ForwardContext& ctx, const torch::Tensor& x) {
    const int64_t rotary = ctx.model.rope.rotary_dim, head_dim = x.size(-1);
    if (rotary == head_dim) return apply_rope(x, ctx.rope, ctx.model.rope.pairing);
    const torch::Tensor rotated = apply_rope(x.narrow(-1, 0, rotary), ctx.rope, ctx.model.rope.pairing);
    return torch::cat({rotated, x.narrow(-1, rotary, head_dim - rotary)}, -1);
}

}  // namespace

torch::Tensor gqa_attention(const ForwardContext& ctx, const LayerWeights& w, const torch::Tensor& x) {
    const ModelDescription& m = ctx.model;
    const int64_t n = x.size(0), hd = m.head_dim;
    torch::Tensor q = project(w, Role::attn_q, Role::attn_q_bias, x);
    torch::Tensor k = project(w, Role::attn_k, Role::attn_k_bias, x);
    torch::Tensor v = project(w, Role::attn_v, Role::attn_v_bias, x);
    if (m.family->attention == AttentionKind::gqa_full_qk_norm) {   // OLMoE: over the whole projection
        q = rms_norm(q, w.at(Role::attn_q_norm), m.rms_norm_eps);
        k = rms_norm(k, w.at(Role::attn_k_norm), m.rms_norm_eps);
    }
    if (m.clip_qkv) {
        q = q.clamp(-*m.clip_qkv, *m.clip_qkv), k = k.clamp(-*m.clip_qkv, *m.clip_qkv);
        v = v.clamp(-*m.clip_qkv, *m.clip_qkv);
    }
    q = q.view({n, m.num_heads, hd}), k = k.view({n, m.num_kv_heads, hd}), v = v.view({n, m.num_kv_heads, hd});
    if (m.family->attention == AttentionKind::gqa_head_qk_norm) {   // Qwen3: per head, before RoPE
        q = rms_norm(q, w.at(Role::attn_q_norm), m.rms_norm_eps);
        k = rms_norm(k, w.at(Role::attn_k_norm), m.rms_norm_eps);
    }
    q = rotate(ctx, q), k = rotate(ctx, k);
    const int64_t groups = m.num_heads / m.num_kv_heads;   // query head h uses KV head h / groups
    if (groups > 1) k = k.repeat_interleave(groups, 1), v = v.repeat_interleave(groups, 1);
    const torch::Tensor out = causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(hd)), ctx.batch);
    return project(w, Role::attn_o, Role::attn_o_bias, out);
}

}  // namespace sy
