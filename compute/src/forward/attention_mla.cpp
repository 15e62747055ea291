// DeepSeek multi-head latent attention, unabsorbed form (formats.md §5.3, HF DeepseekV3Attention).
#include <torch/torch.h>

#include <cmath>

#include "forward/attention.h"
#include "forward/causal_attention.h"
#include "forward/rms_norm.h"

namespace sy {
namespace {

using Role = TensorRole;

torch::Tensor linear(const LayerWeights& w, Role weight, Role bias, const torch::Tensor& x) {
    const torch::Tensor b = w.find(bias);
    const torch::Tensor y = torch::matmul(x, w.at(weight).t());
    return b.defined() ? y + b : y;
}

// q [N, nh, nope + rope], from q LoRA (q_a -> norm -> q_b) or the plain q_proj.
torch::Tensor query(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x) {
    torch::Tensor q;
    if (m.mla->q_lora_rank) {
        const torch::Tensor latent = linear(w, Role::mla_q_a, Role::mla_q_a_bias, x);
        q = torch::matmul(rms_norm(latent, w.at(Role::mla_q_a_norm), m.rms_norm_eps), w.at(Role::mla_q_b).t());
    } else {
        q = torch::matmul(x, w.at(Role::attn_q).t());
    }
    return q.view({x.size(0), m.num_heads, m.mla->qk_nope_head_dim + m.mla->qk_rope_head_dim});
}

}  // namespace

torch::Tensor mla_attention(const ForwardContext& ctx, const LayerWeights& w, const torch::Tensor& x) {
    const ModelDescription& m = ctx.model;
    const MlaDims& d = *m.mla;
    const int64_t n = x.size(0), nh = m.num_heads;
    const torch::Tensor q = query(m, w, x);
    const torch::Tensor kv_a = linear(w, Role::mla_kv_a, Role::mla_kv_a_bias, x);   // [N, kv_lora + rope]
    const torch::Tensor latent = rms_norm(kv_a.narrow(1, 0, d.kv_lora_rank), w.at(Role::mla_kv_a_norm), m.rms_norm_eps);
    const torch::Tensor kv = torch::matmul(latent, w.at(Role::mla_kv_b).t()).view({n, nh, d.qk_nope_head_dim + d.v_head_dim});
    // One rope key per token, shared by all heads.
    const torch::Tensor k_rope = kv_a.narrow(1, d.kv_lora_rank, d.qk_rope_head_dim).reshape({n, 1, d.qk_rope_head_dim});
    const torch::Tensor q_rope = apply_rope(q.narrow(2, d.qk_nope_head_dim, d.qk_rope_head_dim), ctx.rope, m.rope.pairing);
    const torch::Tensor k_rot = apply_rope(k_rope, ctx.rope, m.rope.pairing).expand({n, nh, d.qk_rope_head_dim});
    const torch::Tensor q_full = torch::cat({q.narrow(2, 0, d.qk_nope_head_dim), q_rope}, -1);
    const torch::Tensor k_full = torch::cat({kv.narrow(2, 0, d.qk_nope_head_dim), k_rot}, -1);
    const torch::Tensor v = kv.narrow(2, d.qk_nope_head_dim, d.v_head_dim).contiguous();
    const double scale =
        yarn_softmax_scale_factor(m.rope) / std::sqrt(static_cast<double>(d.qk_nope_head_dim + d.qk_rope_head_dim));
    const torch::Tensor out = causal_attention(q_full, k_full, v, scale, ctx.batch);
    return linear(w, Role::attn_o, Role::attn_o_bias, out);
}

}  // namespace sy
