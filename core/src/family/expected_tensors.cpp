// The tensors (and shapes) a family row plus config.json imply. Shapes: formats.md §3.2, §4.4,
// §5.2, §9.1; linear weights are [out, in].
#include <cstdint>

#include "switchyard/core/model_validation.h"
#include "switchyard/core/tensor_names.h"

namespace sy {
namespace {

using Shape = std::vector<int64_t>;
using Role = TensorRole;

class ExpectedList {
public:
    ExpectedList(const ModelDescription& model, ExpertLayout layout)
        : m_model(model), m_hidden(model.hidden_size), m_layout(layout) {}

    void add(Role role, Shape shape, int layer = -1, int expert = -1) {
        m_out.push_back({tensor_name(*m_model.family, role, layer, expert, m_layout), std::move(shape)});
    }
    // A routed-expert tensor of MoE layer `l` (counted by count_params as such).
    void add_expert(Role role, Shape shape, int l, int expert = -1) {
        add(role, std::move(shape), l, expert);
        m_out.back().expert_layer = l;
    }
    void add_gqa_attention(int l);
    void add_linear_attention(int l);
    void add_mla_attention(int l);
    void add_mlp(Role gate, Role up, Role down, int64_t width, int l) {
        add(gate, {width, m_hidden}, l);
        add(up, {width, m_hidden}, l);
        add(down, {m_hidden, width}, l);
    }
    void add_routed_experts(int l);
    void add_moe(int l);
    std::vector<ExpectedTensor> take() { return std::move(m_out); }

private:
    const ModelDescription& m_model;
    const int64_t m_hidden;   // H
    ExpertLayout m_layout;
    std::vector<ExpectedTensor> m_out;
};

void ExpectedList::add_gqa_attention(int l) {
    const int64_t q_width = m_model.num_heads * m_model.head_dim, kv_width = m_model.num_kv_heads * m_model.head_dim;
    // Qwen3-Next: q_proj yields query and output gate, [query | gate] per head.
    const int64_t q_rows = m_model.family->attention_output_gate ? 2 * q_width : q_width;
    add(Role::attn_q, {q_rows, m_hidden}, l);
    add(Role::attn_k, {kv_width, m_hidden}, l);
    add(Role::attn_v, {kv_width, m_hidden}, l);
    add(Role::attn_o, {m_hidden, q_width}, l);
    if (m_model.qkv_bias) {
        add(Role::attn_q_bias, {q_rows}, l);
        add(Role::attn_k_bias, {kv_width}, l);
        add(Role::attn_v_bias, {kv_width}, l);
    }
    if (m_model.o_bias) add(Role::attn_o_bias, {m_hidden}, l);
    if (m_model.family->attention_sinks) add(Role::attn_sinks, {m_model.num_heads}, l);
    if (!m_model.qk_norm) return;
    if (m_model.family->attention == AttentionKind::gqa_head_qk_norm) {   // Qwen3: per head
        add(Role::attn_q_norm, {m_model.head_dim}, l);
        add(Role::attn_k_norm, {m_model.head_dim}, l);
    } else {   // OLMoE, MiniMax-M2: the whole projection
        add(Role::attn_q_norm, {q_width}, l);
        add(Role::attn_k_norm, {kv_width}, l);
    }
}

// Qwen3NextGatedDeltaNet: in_proj_qkvz [2 nk dk + 2 nv dv, H], in_proj_ba [2 nv, H], depthwise
// conv1d [conv_dim, 1, K], dt_bias / A_log [nv], gated norm [dv], out_proj [H, nv dv].
void ExpectedList::add_linear_attention(int l) {
    const LinearAttentionDims& d = *m_model.linear_attention;
    add(Role::lin_qkvz, {2 * d.key_dim() + 2 * d.value_dim(), m_hidden}, l);
    add(Role::lin_ba, {2 * d.value_heads, m_hidden}, l);
    add(Role::lin_conv, {d.conv_dim(), 1, d.conv_kernel}, l);
    add(Role::lin_dt_bias, {d.value_heads}, l);
    add(Role::lin_a_log, {d.value_heads}, l);
    add(Role::lin_norm, {d.value_head_dim}, l);
    add(Role::lin_out, {m_hidden, d.value_dim()}, l);
}

// HF DeepseekV3Attention: attention_bias adds biases to q_a_proj, kv_a_proj_with_mqa, o_proj.
void ExpectedList::add_mla_attention(int l) {
    const MlaDims& d = *m_model.mla;
    const int64_t q_width = m_model.num_heads * (d.qk_nope_head_dim + d.qk_rope_head_dim);
    if (d.q_lora_rank) {
        const int64_t rank = *d.q_lora_rank;
        add(Role::mla_q_a, {rank, m_hidden}, l);
        if (m_model.qkv_bias) add(Role::mla_q_a_bias, {rank}, l);
        add(Role::mla_q_a_norm, {rank}, l);
        add(Role::mla_q_b, {q_width, rank}, l);
    } else {
        add(Role::attn_q, {q_width, m_hidden}, l);
    }
    add(Role::mla_kv_a, {d.kv_lora_rank + d.qk_rope_head_dim, m_hidden}, l);
    if (m_model.qkv_bias) add(Role::mla_kv_a_bias, {d.kv_lora_rank + d.qk_rope_head_dim}, l);
    add(Role::mla_kv_a_norm, {d.kv_lora_rank}, l);
    add(Role::mla_kv_b, {m_model.num_heads * (d.qk_nope_head_dim + d.v_head_dim), d.kv_lora_rank}, l);
    add(Role::attn_o, {m_hidden, m_model.num_heads * d.v_head_dim}, l);
    if (m_model.o_bias) add(Role::attn_o_bias, {m_hidden}, l);
}

void ExpectedList::add_routed_experts(int l) {
    const int64_t E = m_model.experts_in_layer(l), I = m_model.expert_intermediate_size;
    if (m_model.family->fused_form == FusedExperts::interleaved_in_out) {   // gpt-oss: in x out (formats.md §6.2)
        add_expert(Role::expert_gate_up, {E, m_hidden, 2 * I}, l);
        add_expert(Role::expert_gate_up_bias, {E, 2 * I}, l);
        add_expert(Role::expert_down, {E, I, m_hidden}, l);
        add_expert(Role::expert_down_bias, {E, m_hidden}, l);
    } else if (m_layout == ExpertLayout::fused) {
        add_expert(Role::expert_gate_up, {E, 2 * I, m_hidden}, l);   // gate rows first, then up (formats.md §0.2)
        add_expert(Role::expert_down, {E, m_hidden, I}, l);
    } else {
        for (int e = 0; e < E; ++e) {
            add_expert(Role::expert_gate, {I, m_hidden}, l, e);
            add_expert(Role::expert_up, {I, m_hidden}, l, e);
            add_expert(Role::expert_down, {m_hidden, I}, l, e);
        }
    }
}

void ExpectedList::add_moe(int l) {
    const int64_t E = m_model.experts_in_layer(l);
    add(Role::router, {E, m_hidden}, l);
    if (m_model.family->topk_softmax_router_bias()) add(Role::router_bias, {E}, l);
    if (m_model.family->has_router_score_bias()) add(Role::router_score_bias, {E}, l);
    add_routed_experts(l);
    if (m_model.shared_expert_count > 0)
        add_mlp(Role::shared_gate, Role::shared_up, Role::shared_down, m_model.shared_expert_intermediate_size, l);
    if (m_model.family->shared_expert == SharedExpertKind::gated_sigmoid) add(Role::shared_expert_gate, {1, m_hidden}, l);
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelDescription& model, ExpertLayout layout) {
    ExpectedList list(model, layout);
    list.add(Role::token_embedding, {model.vocab_size, model.hidden_size});
    for (int l = 0; l < model.num_layers; ++l) {
        list.add(Role::attn_norm, {model.hidden_size}, l);
        if (model.family->is_mla()) list.add_mla_attention(l);
        else if (model.is_linear_attention_layer(l)) list.add_linear_attention(l);
        else list.add_gqa_attention(l);
        list.add(Role::ffn_norm, {model.hidden_size}, l);
        if (model.is_moe_layer(l)) list.add_moe(l);
        else list.add_mlp(Role::ffn_gate, Role::ffn_up, Role::ffn_down, model.dense_intermediate_size, l);
    }
    list.add(Role::final_norm, {model.hidden_size});
    if (!model.tie_word_embeddings) list.add(Role::lm_head, {model.vocab_size, model.hidden_size});
    return list.take();
}

std::vector<int64_t> fp8_scale_shape(const std::vector<int64_t>& shape, const std::array<int64_t, 2>& block) {
    std::vector<int64_t> scale = shape;
    if (scale.size() < 2) return scale;
    auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    scale[scale.size() - 2] = ceil_div(shape[shape.size() - 2], block[0]);
    scale[scale.size() - 1] = ceil_div(shape[shape.size() - 1], block[1]);
    return scale;
}

}  // namespace sy
