// Mirrors core's expected_tensors (formats.md §2-§5, §9): attention per AttentionKind, dense MLP
// or MoE per layer, biases and q LoRA from the description.
#include "weights/layer_tensors.h"

namespace sy {
namespace {

using Role = TensorRole;

void add_gqa_roles(const ModelDescription& model, std::vector<Role>& out) {
    out.insert(out.end(), {Role::attn_q, Role::attn_k, Role::attn_v});
    if (model.qkv_bias) out.insert(out.end(), {Role::attn_q_bias, Role::attn_k_bias, Role::attn_v_bias});
    if (model.qk_norm) out.insert(out.end(), {Role::attn_q_norm, Role::attn_k_norm});
    if (model.family->attention_sinks) out.push_back(Role::attn_sinks);
}

// Qwen3-Next Gated DeltaNet layers replace the whole attention block, o_proj included.
void add_linear_attention_roles(std::vector<Role>& out) {
    out.insert(out.end(), {Role::lin_qkvz, Role::lin_ba, Role::lin_conv, Role::lin_dt_bias, Role::lin_a_log,
                           Role::lin_norm, Role::lin_out});
}

// HF DeepseekV3Attention: attention_bias adds biases to q_a_proj and kv_a_proj_with_mqa.
void add_mla_roles(const ModelDescription& model, std::vector<Role>& out) {
    if (model.mla->q_lora_rank) {
        out.push_back(Role::mla_q_a);
        if (model.qkv_bias) out.push_back(Role::mla_q_a_bias);
        out.insert(out.end(), {Role::mla_q_a_norm, Role::mla_q_b});
    } else {
        out.push_back(Role::attn_q);
    }
    out.push_back(Role::mla_kv_a);
    if (model.qkv_bias) out.push_back(Role::mla_kv_a_bias);
    out.insert(out.end(), {Role::mla_kv_a_norm, Role::mla_kv_b});
}

void add_moe_roles(const ModelDescription& model, ExpertLayout layout, int layer, LayerTensorRoles& out) {
    out.common.push_back(Role::router);
    if (model.family->topk_softmax_router_bias()) out.common.push_back(Role::router_bias);
    if (model.family->has_router_score_bias()) out.common.push_back(Role::router_score_bias);
    if (model.shared_expert_count > 0)
        out.common.insert(out.common.end(), {Role::shared_gate, Role::shared_up, Role::shared_down});
    if (model.family->shared_expert == SharedExpertKind::gated_sigmoid) out.common.push_back(Role::shared_expert_gate);
    out.expert_count = model.experts_in_layer(layer);
    if (layout == ExpertLayout::fused) out.experts = {Role::expert_gate_up, Role::expert_down};
    else out.experts = {Role::expert_gate, Role::expert_up, Role::expert_down};
    if (model.family->has_expert_biases())   // gpt-oss: fused [E, 2I] and [E, H]
        out.experts.insert(out.experts.end(), {Role::expert_gate_up_bias, Role::expert_down_bias});
}

}  // namespace

LayerTensorRoles layer_tensor_roles(const ModelDescription& model, ExpertLayout layout, int layer) {
    LayerTensorRoles roles;
    roles.common = {Role::attn_norm};
    if (model.is_linear_attention_layer(layer)) {
        add_linear_attention_roles(roles.common);
    } else {
        if (model.family->is_mla()) add_mla_roles(model, roles.common);
        else add_gqa_roles(model, roles.common);
        roles.common.push_back(Role::attn_o);
        if (model.o_bias) roles.common.push_back(Role::attn_o_bias);
    }
    roles.common.push_back(Role::ffn_norm);
    if (model.is_moe_layer(layer)) add_moe_roles(model, layout, layer, roles);
    else roles.common.insert(roles.common.end(), {Role::ffn_gate, Role::ffn_up, Role::ffn_down});
    return roles;
}

std::vector<TensorRole> resident_tensor_roles(const ModelDescription& model) {
    std::vector<Role> roles = {Role::token_embedding, Role::final_norm};
    if (!model.tie_word_embeddings) roles.push_back(Role::lm_head);
    return roles;
}

}  // namespace sy
