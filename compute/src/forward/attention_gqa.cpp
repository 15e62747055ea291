// GQA attention for Mixtral, Llama, Qwen2/3(-MoE), OLMoE, GLM-4.5, MiniMax-M2, gpt-oss and
// Qwen3-Next's full-attention layers (formats.md §2.4, §4.6, §6.4, §9.3).
#include <torch/torch.h>

#include <cmath>

#include "forward/attention.h"
#include "forward/causal_attention.h"
#include "forward/rms_norm.h"

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
    torch::Tensor gate;
    if (m.family->attention_output_gate) {   // Qwen3-Next: [query | gate] per head
        const torch::Tensor halves = q.view({n, m.num_heads, 2, hd});
        gate = halves.select(2, 1).reshape({n, m.num_heads * hd});
        q = halves.select(2, 0).reshape({n, m.num_heads * hd});
    }
    torch::Tensor k = project(w, Role::attn_k, Role::attn_k_bias, x);
    torch::Tensor v = project(w, Role::attn_v, Role::attn_v_bias, x);
    const bool qk_norm = m.qk_norm;
    if (qk_norm && m.family->attention == AttentionKind::gqa_full_qk_norm) {   // OLMoE, MiniMax: whole projection
        q = rms_norm(q, w.at(Role::attn_q_norm), m.rms_norm_eps);
        k = rms_norm(k, w.at(Role::attn_k_norm), m.rms_norm_eps);
    }
    if (m.clip_qkv) {
        q = q.clamp(-*m.clip_qkv, *m.clip_qkv), k = k.clamp(-*m.clip_qkv, *m.clip_qkv);
        v = v.clamp(-*m.clip_qkv, *m.clip_qkv);
    }
    q = q.view({n, m.num_heads, hd}), k = k.view({n, m.num_kv_heads, hd}), v = v.view({n, m.num_kv_heads, hd});
    if (qk_norm && m.family->attention == AttentionKind::gqa_head_qk_norm) {   // Qwen3, GLM: per head, before RoPE
        q = rms_norm(q, w.at(Role::attn_q_norm), m.rms_norm_eps);
        k = rms_norm(k, w.at(Role::attn_k_norm), m.rms_norm_eps);
    }
    q = rotate(ctx, q), k = rotate(ctx, k);
    const int64_t groups = m.num_heads / m.num_kv_heads;   // query head h uses KV head h / groups
    if (groups > 1) k = k.repeat_interleave(groups, 1), v = v.repeat_interleave(groups, 1);
    torch::Tensor out = causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(hd)), ctx.batch,
                                         m.sliding_window_of(w.layer), w.find(Role::attn_sinks));
    if (gate.defined()) out = out * torch::sigmoid(gate);
    return project(w, Role::attn_o, Role::attn_o_bias, out);
}

}  // namespace sy
