// The family table (style.md rule 1). Config keys and defaults: formats.md §1; tensor names:
// formats.md §3.2, §4.4, §5.2, §9.1 and the fixtures in shared/data/models; fused v5 names:
// formats.md §0.2 (no `.weight` suffix on fused experts).
#include "switchyard/core/family.h"

#include <array>
#include <initializer_list>
#include <sstream>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

using Role = TensorRole;
using Templates = std::vector<TensorTemplate>;

// Same name in both layouts.
TensorTemplate both(Role role, std::string_view name) { return {role, name, name}; }

Templates join(std::initializer_list<const Templates*> parts) {
    Templates out;
    for (const Templates* part : parts) out.insert(out.end(), part->begin(), part->end());
    return out;
}

const Templates kCommon = {
    both(Role::token_embedding, "model.embed_tokens.weight"),
    both(Role::final_norm,      "model.norm.weight"),
    both(Role::lm_head,         "lm_head.weight"),
    both(Role::attn_norm,       "model.layers.{L}.input_layernorm.weight"),
    both(Role::ffn_norm,        "model.layers.{L}.post_attention_layernorm.weight"),
    both(Role::attn_o,          "model.layers.{L}.self_attn.o_proj.weight"),
    both(Role::attn_o_bias,     "model.layers.{L}.self_attn.o_proj.bias"),
};

const Templates kGqa = {
    both(Role::attn_q,      "model.layers.{L}.self_attn.q_proj.weight"),
    both(Role::attn_k,      "model.layers.{L}.self_attn.k_proj.weight"),
    both(Role::attn_v,      "model.layers.{L}.self_attn.v_proj.weight"),
    both(Role::attn_q_bias, "model.layers.{L}.self_attn.q_proj.bias"),
    both(Role::attn_k_bias, "model.layers.{L}.self_attn.k_proj.bias"),
    both(Role::attn_v_bias, "model.layers.{L}.self_attn.v_proj.bias"),
    both(Role::attn_q_norm, "model.layers.{L}.self_attn.q_norm.weight"),
    both(Role::attn_k_norm, "model.layers.{L}.self_attn.k_norm.weight"),
};

// attn_q is DeepSeek's plain q_proj, used when q_lora_rank is null (V2-Lite).
const Templates kMla = {
    both(Role::attn_q,        "model.layers.{L}.self_attn.q_proj.weight"),
    both(Role::mla_q_a,       "model.layers.{L}.self_attn.q_a_proj.weight"),
    both(Role::mla_q_a_bias,  "model.layers.{L}.self_attn.q_a_proj.bias"),
    both(Role::mla_q_a_norm,  "model.layers.{L}.self_attn.q_a_layernorm.weight"),
    both(Role::mla_q_b,       "model.layers.{L}.self_attn.q_b_proj.weight"),
    both(Role::mla_kv_a,      "model.layers.{L}.self_attn.kv_a_proj_with_mqa.weight"),
    both(Role::mla_kv_a_bias, "model.layers.{L}.self_attn.kv_a_proj_with_mqa.bias"),
    both(Role::mla_kv_a_norm, "model.layers.{L}.self_attn.kv_a_layernorm.weight"),
    both(Role::mla_kv_b,      "model.layers.{L}.self_attn.kv_b_proj.weight"),
};

const Templates kDenseMlp = {
    both(Role::ffn_gate, "model.layers.{L}.mlp.gate_proj.weight"),
    both(Role::ffn_up,   "model.layers.{L}.mlp.up_proj.weight"),
    both(Role::ffn_down, "model.layers.{L}.mlp.down_proj.weight"),
};

// Mixtral's Hub names use block_sparse_moe and w1/w3/w2; v5 renames the router to mlp.gate.
const Templates kMixtralMoe = {
    {Role::router,         "model.layers.{L}.block_sparse_moe.gate.weight",
                           "model.layers.{L}.mlp.gate.weight"},
    {Role::expert_gate,    "model.layers.{L}.block_sparse_moe.experts.{E}.w1.weight", ""},
    {Role::expert_up,      "model.layers.{L}.block_sparse_moe.experts.{E}.w3.weight", ""},
    {Role::expert_gate_up, "", "model.layers.{L}.mlp.experts.gate_up_proj"},
    {Role::expert_down,    "model.layers.{L}.block_sparse_moe.experts.{E}.w2.weight",
                           "model.layers.{L}.mlp.experts.down_proj"},
};

const Templates kQwenStyleMoe = {
    both(Role::router,     "model.layers.{L}.mlp.gate.weight"),
    {Role::expert_gate,    "model.layers.{L}.mlp.experts.{E}.gate_proj.weight", ""},
    {Role::expert_up,      "model.layers.{L}.mlp.experts.{E}.up_proj.weight", ""},
    {Role::expert_gate_up, "", "model.layers.{L}.mlp.experts.gate_up_proj"},
    {Role::expert_down,    "model.layers.{L}.mlp.experts.{E}.down_proj.weight",
                           "model.layers.{L}.mlp.experts.down_proj"},
};

// Qwen: singular `shared_expert` plus a [1, H] sigmoid gate (formats.md §4.4).
const Templates kQwenShared = {
    both(Role::shared_gate,        "model.layers.{L}.mlp.shared_expert.gate_proj.weight"),
    both(Role::shared_up,          "model.layers.{L}.mlp.shared_expert.up_proj.weight"),
    both(Role::shared_down,        "model.layers.{L}.mlp.shared_expert.down_proj.weight"),
    both(Role::shared_expert_gate, "model.layers.{L}.mlp.shared_expert_gate.weight"),
};

// DeepSeek: plural `shared_experts`, never fused by v5 (formats.md §5.2).
const Templates kDeepseekShared = {
    both(Role::shared_gate,       "model.layers.{L}.mlp.shared_experts.gate_proj.weight"),
    both(Role::shared_up,         "model.layers.{L}.mlp.shared_experts.up_proj.weight"),
    both(Role::shared_down,       "model.layers.{L}.mlp.shared_experts.down_proj.weight"),
    both(Role::router_score_bias, "model.layers.{L}.mlp.gate.e_score_correction_bias"),
};

// GLM-4.5: DeepSeek-V3 names (router, score bias, plural shared_experts), GQA with per-head
// q/k norms (modeling_glm4_moe.py).
// MiniMax-M2: Mixtral names; the score bias sits on the block, not on the gate (formats.md §3.2;
// transformers' conversion_mapping.py renames block_sparse_moe to mlp).
const Templates kMinimaxScoreBias = {
    {Role::router_score_bias, "model.layers.{L}.block_sparse_moe.e_score_correction_bias",
                              "model.layers.{L}.mlp.e_score_correction_bias"},
};

// gpt-oss: fused on disk in both of its layouts (formats.md §6.2); MXFP4 stores each fused
// weight as `<name>_blocks` + `<name>_scales` (tensor_names.h).
const Templates kGptOss = {
    both(Role::attn_sinks,          "model.layers.{L}.self_attn.sinks"),
    both(Role::router,              "model.layers.{L}.mlp.router.weight"),
    both(Role::router_bias,         "model.layers.{L}.mlp.router.bias"),
    {Role::expert_gate_up,          "", "model.layers.{L}.mlp.experts.gate_up_proj"},
    {Role::expert_gate_up_bias,     "", "model.layers.{L}.mlp.experts.gate_up_proj_bias"},
    {Role::expert_down,             "", "model.layers.{L}.mlp.experts.down_proj"},
    {Role::expert_down_bias,        "", "model.layers.{L}.mlp.experts.down_proj_bias"},
};

// Qwen3-Next Gated DeltaNet layers (modeling_qwen3_next.py `Qwen3NextGatedDeltaNet`).
const Templates kGatedDeltaNet = {
    both(Role::lin_qkvz,    "model.layers.{L}.linear_attn.in_proj_qkvz.weight"),
    both(Role::lin_ba,      "model.layers.{L}.linear_attn.in_proj_ba.weight"),
    both(Role::lin_conv,    "model.layers.{L}.linear_attn.conv1d.weight"),
    both(Role::lin_dt_bias, "model.layers.{L}.linear_attn.dt_bias"),
    both(Role::lin_a_log,   "model.layers.{L}.linear_attn.A_log"),
    both(Role::lin_norm,    "model.layers.{L}.linear_attn.norm.weight"),
    both(Role::lin_out,     "model.layers.{L}.linear_attn.out_proj.weight"),
};

using R = RouterRule;
using S = SharedExpertKind;
using A = AttentionKind;
using P = RopePairing;
using M = MoeLayerRule;
using X = ExpertMlp;
using F = FusedExperts;
using L = LayerPattern;
using G = GroupMaskFill;

std::vector<FamilySpec> build_table() {
    // Columns: model_type, architectures, router, shared expert, attention, rope pairing,
    //   MoE-layer rule,
    //   expert count key, expert width key, dense width key, shared width key, shared count key,
    //   norm_topk key, norm_topk default, attention bias key, bias default, rope theta default,
    //   tensor templates,
    // then the trailing columns (defaults when absent): expert MLP, fused form, layer pattern,
    //   q/k norm key, o_proj bias, attention sinks, output gate, partial rotary default, rotary
    //   dim key, zero-centred norms, f32 norm weights, optional group keys, group mask fill.
    return {
        {"mixtral", {"MixtralForCausalLM"}, R::softmax_topk_renorm, S::none, A::gqa, P::half_split,
         M::all,
         "num_local_experts", "intermediate_size", "", "", "",
         "", true, "", false, 1e6,
         join({&kCommon, &kGqa, &kMixtralMoe}),
         X::silu, F::gate_up_rows, L::sliding_all},
        {"qwen2_moe", {"Qwen2MoeForCausalLM"}, R::softmax_topk, S::gated_sigmoid, A::gqa_qkv_bias,
         P::half_split, M::qwen_sparse_step,
         "num_experts", "moe_intermediate_size", "intermediate_size",
         "shared_expert_intermediate_size", "",
         "norm_topk_prob", false, "qkv_bias", true, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp, &kQwenStyleMoe, &kQwenShared}),
         X::silu, F::gate_up_rows, L::sliding_qwen, "", false},
        {"qwen3_moe", {"Qwen3MoeForCausalLM"}, R::softmax_topk, S::none, A::gqa_head_qk_norm,
         P::half_split, M::qwen_sparse_step,
         "num_experts", "moe_intermediate_size", "intermediate_size", "", "",
         "norm_topk_prob", false, "attention_bias", false, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp, &kQwenStyleMoe}),
         X::silu, F::gate_up_rows, L::sliding_qwen},
        {"olmoe", {"OlmoeForCausalLM"}, R::softmax_topk, S::none, A::gqa_full_qk_norm,
         P::half_split, M::all,
         "num_experts", "intermediate_size", "", "", "",
         "norm_topk_prob", false, "attention_bias", false, 10000.0,
         join({&kCommon, &kGqa, &kQwenStyleMoe})},
        // transformers' deepseek_v2 (DeepseekV2Moe.route_tokens_to_experts) never renormalises:
        // top-k softmax weights x routed_scaling_factor, whatever `norm_topk_prob` says (the key
        // stays in its config "for backward compatibility" only), so no key is read here.
        {"deepseek_v2", {"DeepseekV2ForCausalLM"}, R::softmax_group_topk, S::ungated, A::mla,
         P::interleaved, M::deepseek_dense_prefix,
         "n_routed_experts", "moe_intermediate_size", "intermediate_size",
         "moe_intermediate_size", "n_shared_experts",
         "", false, "attention_bias", false, 10000.0,
         join({&kCommon, &kMla, &kDenseMlp, &kQwenStyleMoe, &kDeepseekShared})},
        {"deepseek_v3", {"DeepseekV3ForCausalLM"}, R::sigmoid_group_topk, S::ungated, A::mla,
         P::interleaved, M::deepseek_dense_prefix,
         "n_routed_experts", "moe_intermediate_size", "intermediate_size",
         "moe_intermediate_size", "n_shared_experts",
         "norm_topk_prob", true, "attention_bias", false, 10000.0,
         join({&kCommon, &kMla, &kDenseMlp, &kQwenStyleMoe, &kDeepseekShared})},
        {"llama", {"LlamaForCausalLM"}, R::none, S::none, A::gqa, P::half_split, M::none,
         "", "", "intermediate_size", "", "",
         "", false, "attention_bias", false, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp})},
        {"mistral", {"MistralForCausalLM"}, R::none, S::none, A::gqa, P::half_split, M::none,
         "", "", "intermediate_size", "", "",
         "", false, "", false, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp}),
         X::silu, F::gate_up_rows, L::sliding_all},
        // Qwen2 hard-codes q/k/v biases (no config key).
        {"qwen2", {"Qwen2ForCausalLM"}, R::none, S::none, A::gqa_qkv_bias, P::half_split, M::none,
         "", "", "intermediate_size", "", "",
         "", false, "", true, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp}),
         X::silu, F::gate_up_rows, L::sliding_qwen, "", false},
        // GLM-4.5/4.6/Air (modeling_glm4_moe.py): the DeepSeek-V3 router with HF's 0.0 group
        // mask, GQA with q/k/v biases only, per-head q/k norms when use_qk_norm, half-split
        // partial RoPE (0.5 by default); MTP layers past num_hidden_layers are not loaded.
        {"glm4_moe", {"Glm4MoeForCausalLM"}, R::sigmoid_group_topk, S::ungated, A::gqa_head_qk_norm,
         P::half_split, M::deepseek_dense_prefix,
         "n_routed_experts", "moe_intermediate_size", "intermediate_size",
         "moe_intermediate_size", "n_shared_experts",
         "norm_topk_prob", true, "attention_bias", false, 10000.0,
         join({&kCommon, &kGqa, &kDenseMlp, &kQwenStyleMoe, &kDeepseekShared}),
         X::silu, F::gate_up_rows, L::full, "use_qk_norm", false, false, false, 0.5, "", false, false,
         true, G::zero},
        // MiniMax-M2 (modeling_minimax_m2.py): Mixtral names, sigmoid router with a score bias
        // and no groups, q/k RMSNorm over the whole projection, partial RoPE of `rotary_dim`.
        {"minimax_m2", {"MiniMaxM2ForCausalLM"}, R::sigmoid_topk_renorm, S::none, A::gqa_full_qk_norm,
         P::half_split, M::all,
         "num_local_experts", "intermediate_size", "", "", "",
         "", true, "", false, 5e6,
         join({&kCommon, &kGqa, &kMixtralMoe, &kMinimaxScoreBias}),
         X::silu, F::gate_up_rows, L::full, "", true, false, false, 0.5, "rotary_dim"},
        // gpt-oss-20b/120b (modeling_gpt_oss.py, formats.md §6): router with bias, clamped
        // SwiGLU experts with biases fused on disk, attention biases and sinks, alternating
        // sliding/full layers, norms multiplied in f32.
        {"gpt_oss", {"GptOssForCausalLM"}, R::topk_softmax, S::none, A::gqa, P::half_split, M::all,
         "num_local_experts", "intermediate_size", "", "", "",
         "", true, "attention_bias", true, 150000.0,
         join({&kCommon, &kGqa, &kGptOss}),
         X::clamped_swiglu, F::interleaved_in_out, L::sliding_layer_types, "", true, true, false, 1.0, "",
         false, true},
        // Qwen3-Next (modeling_qwen3_next.py): Gated DeltaNet layers between gated full-attention
        // layers, zero-centred norms, Qwen2-MoE-style experts with a gated shared expert;
        // `mtp.*` tensors are not loaded.
        {"qwen3_next", {"Qwen3NextForCausalLM"}, R::softmax_topk, S::gated_sigmoid, A::gqa_head_qk_norm,
         P::half_split, M::qwen_sparse_step,
         "num_experts", "moe_intermediate_size", "intermediate_size",
         "shared_expert_intermediate_size", "",
         "norm_topk_prob", true, "attention_bias", false, 10000.0,
         join({&kCommon, &kGqa, &kGatedDeltaNet, &kDenseMlp, &kQwenStyleMoe, &kQwenShared}),
         X::silu, F::gate_up_rows, L::linear_layer_types, "", true, false, true, 0.25, "", true, true},
    };
}

constexpr std::array<std::string_view, static_cast<std::size_t>(TensorRole::count_)> kRoleNames = {
    "token_embedding", "final_norm", "lm_head", "attn_norm", "ffn_norm",
    "attn_q", "attn_k", "attn_v", "attn_o",
    "attn_q_bias", "attn_k_bias", "attn_v_bias", "attn_o_bias", "attn_q_norm", "attn_k_norm",
    "mla_q_a", "mla_q_a_bias", "mla_q_a_norm", "mla_q_b", "mla_kv_a", "mla_kv_a_bias",
    "mla_kv_a_norm", "mla_kv_b",
    "ffn_gate", "ffn_up", "ffn_down", "router", "router_score_bias",
    "expert_gate", "expert_up", "expert_gate_up", "expert_down",
    "shared_gate", "shared_up", "shared_down", "shared_expert_gate",
    "router_bias", "attn_sinks", "expert_gate_up_bias", "expert_down_bias",
    "lin_qkvz", "lin_ba", "lin_conv", "lin_dt_bias", "lin_a_log", "lin_norm", "lin_out",
};

}  // namespace

std::string_view tensor_role_name(TensorRole role) {
    return kRoleNames.at(static_cast<std::size_t>(role));
}

std::string_view expert_layout_name(ExpertLayout layout) {
    return layout == ExpertLayout::fused ? "fused" : "per_expert";
}

std::string_view router_rule_name(RouterRule rule) {
    static constexpr std::array<std::string_view, 7> names = {
        "none", "softmax_topk_renorm", "softmax_topk", "softmax_group_topk", "sigmoid_group_topk",
        "sigmoid_topk_renorm", "topk_softmax"};
    return names.at(static_cast<std::size_t>(rule));
}

std::string_view shared_expert_kind_name(SharedExpertKind kind) {
    static constexpr std::array<std::string_view, 3> names = {"none", "gated_sigmoid", "ungated"};
    return names.at(static_cast<std::size_t>(kind));
}

std::string_view attention_kind_name(AttentionKind kind) {
    static constexpr std::array<std::string_view, 5> names = {
        "gqa", "gqa_qkv_bias", "gqa_head_qk_norm", "gqa_full_qk_norm", "mla"};
    return names.at(static_cast<std::size_t>(kind));
}

const TensorTemplate* FamilySpec::find_template(TensorRole role) const {
    for (const TensorTemplate& entry : tensors)
        if (entry.role == role) return &entry;
    return nullptr;
}

const std::vector<FamilySpec>& family_table() {
    static const std::vector<FamilySpec> table = build_table();   // thread-safe init (C++11)
    return table;
}

std::vector<std::string_view> supported_model_types() {
    std::vector<std::string_view> types;
    for (const FamilySpec& spec : family_table()) types.push_back(spec.model_type);
    return types;
}

const FamilySpec* find_family_by_architecture(const std::vector<std::string>& architectures) {
    for (const std::string& name : architectures)
        for (const FamilySpec& spec : family_table())
            for (std::string_view architecture : spec.architectures)
                if (architecture == name) return &spec;
    return nullptr;
}

const FamilySpec& find_family(std::string_view model_type) {
    for (const FamilySpec& spec : family_table())
        if (spec.model_type == model_type) return spec;
    std::ostringstream message;
    message << "unsupported model_type \"" << model_type << "\"; supported model types: ";
    const auto types = supported_model_types();
    for (std::size_t i = 0; i < types.size(); ++i) message << (i ? ", " : "") << types[i];
    throw UnknownArchitecture(message.str());
}

}  // namespace sy
