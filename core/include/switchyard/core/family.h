#pragma once
// Model families as rows of one table (style.md rule 1, after llama.cpp `llama-arch.cpp`).
// A row says which config.json keys to read, how the router and attention work and which
// tensor names the family uses on disk. Code asks the row (or the predicates below), never
// `if (model_type == "...")`. Adding a family = one row in core/src/family/family_table.cpp.
// The table is immutable after first use and may be read from any thread.
#include <string>
#include <string_view>
#include <vector>

namespace sy {

// How routed experts are stored on disk (formats.md §0.1-§0.2).
enum class ExpertLayout {
    per_expert,   // Hub layout: `...experts.{E}.gate_proj.weight` [I, H] etc.
    fused,        // one tensor per projection holding all E (see FusedExperts for its form)
};

// The form of a family's fused expert tensors.
enum class FusedExperts {
    gate_up_rows,          // transformers v5: gate_up_proj [E, 2I, H] (gate rows, then up rows), down_proj [E, H, I]
    interleaved_in_out,    // gpt-oss: gate_up_proj [E, H, 2I] (in x out; even columns gate, odd up),
                           //   down_proj [E, I, H]; on the Hub MXFP4 `_blocks` + `_scales` (formats.md §6.2)
};

// What one routed expert computes.
enum class ExpertMlp {
    silu,             // down(silu(gate x) * up x), no biases (formats.md §2.2)
    clamped_swiglu,   // gpt-oss: biases, gate <= limit, |up| <= limit, (up + 1) * gate * sigmoid(1.702 gate) (§6.3)
};

// Which decoder layers use which token mixer (config keys, see model_config.cpp).
enum class LayerPattern {
    full,                    // every layer full causal attention
    sliding_all,             // Mistral / Mixtral: `sliding_window` (null = off) on every layer
    sliding_qwen,            // Qwen2 family: `use_sliding_window`, `sliding_window`, `max_window_layers`, `layer_types`
    sliding_layer_types,     // gpt-oss: `layer_types` (default: even layers slide), `sliding_window`
    linear_layer_types,      // Qwen3-Next: `layer_types` or `full_attention_interval`; others Gated DeltaNet
};

enum class RouterRule {
    none,                  // dense model
    softmax_topk_renorm,   // Mixtral: softmax over E, top-k, always renormalise
    softmax_topk,          // Qwen/OLMoE: softmax, top-k, renormalise iff norm_topk_prob
    softmax_group_topk,    // DeepSeek-V2: softmax, optional group limit (max per group), x scale
    sigmoid_group_topk,    // DeepSeek-V3 noaux_tc / GLM-4.5: sigmoid + e_score_correction_bias for choice
    sigmoid_topk_renorm,   // MiniMax-M2: sigmoid + e_score_correction_bias for choice, no groups, renormalise
    topk_softmax,          // gpt-oss: logits + router bias, top-k on the logits, softmax over the k
};

// What experts of groups outside the kept `topk_group` score before the final top-k.
enum class GroupMaskFill {
    neg_inf,   // DeepSeek's own inference code (formats.md §5.4)
    zero,      // transformers' Glm4MoeTopkRouter (the reference for GLM-4.5)
};

enum class SharedExpertKind {
    none,
    gated_sigmoid,   // Qwen2-MoE: one shared MLP times sigmoid(x . shared_expert_gate)
    ungated,         // DeepSeek: n_shared_experts fused into one always-on MLP
};

enum class AttentionKind {
    gqa,                // plain GQA; biases only if the family's bias key says so
    gqa_qkv_bias,       // Qwen2 / Qwen2-MoE: q, k, v biases, no o bias
    gqa_head_qk_norm,   // Qwen3: RMSNorm over head_dim of each q / k head, weights [hd]
    gqa_full_qk_norm,   // OLMoE: RMSNorm over the whole q [nh*hd] / k [nkv*hd] projection
    mla,                // DeepSeek multi-head latent attention (formats.md §5.3)
};

enum class RopePairing { half_split, interleaved };   // formats.md §2.3

enum class MoeLayerRule {
    none,                    // dense family
    all,                     // every decoder layer is MoE
    qwen_sparse_step,        // mlp_only_layers + decoder_sparse_step (formats.md §4.3)
    deepseek_dense_prefix,   // first_k_dense_replace + moe_layer_freq (formats.md §5.1)
};

// Every tensor the forward pass may need. {L} = layer, {E} = expert in the name templates.
enum class TensorRole {
    token_embedding, final_norm, lm_head,
    attn_norm, ffn_norm,
    attn_q, attn_k, attn_v, attn_o,
    attn_q_bias, attn_k_bias, attn_v_bias, attn_o_bias,
    attn_q_norm, attn_k_norm,
    mla_q_a, mla_q_a_bias, mla_q_a_norm, mla_q_b, mla_kv_a, mla_kv_a_bias, mla_kv_a_norm, mla_kv_b,
    ffn_gate, ffn_up, ffn_down,                      // dense MLP layers
    router, router_score_bias,                       // gate.weight, e_score_correction_bias
    expert_gate, expert_up,                          // per_expert layout only
    expert_gate_up,                                  // fused layout only
    expert_down,                                     // both layouts ({E} only in per_expert)
    shared_gate, shared_up, shared_down, shared_expert_gate,
    router_bias, attn_sinks,                         // gpt-oss
    expert_gate_up_bias, expert_down_bias,           // gpt-oss fused experts [E, 2I], [E, H]
    lin_qkvz, lin_ba, lin_conv, lin_dt_bias, lin_a_log, lin_norm, lin_out,   // Qwen3-Next Gated DeltaNet
    count_,                                          // sentinel, not a role
};

// snake_case names of the enums, for messages, `inspect --json` and tests.
std::string_view tensor_role_name(TensorRole role);   // "expert_gate"
std::string_view expert_layout_name(ExpertLayout layout);   // "per_expert", "fused"
std::string_view router_rule_name(RouterRule rule);
std::string_view shared_expert_kind_name(SharedExpertKind kind);
std::string_view attention_kind_name(AttentionKind kind);

// One name template per role; an empty string means the layout has no such tensor.
struct TensorTemplate {
    TensorRole role;
    std::string_view per_expert;   // Hub layout
    std::string_view fused;        // v5 fused layout
};

struct FamilySpec {
    std::string_view model_type;                    // config.json "model_type"
    std::vector<std::string_view> architectures;    // config.json "architectures"
    RouterRule router = RouterRule::none;
    SharedExpertKind shared_expert = SharedExpertKind::none;
    AttentionKind attention = AttentionKind::gqa;
    RopePairing rope_pairing = RopePairing::half_split;
    MoeLayerRule moe_layers = MoeLayerRule::none;

    // config.json key names; empty = the family has no such key.
    std::string_view expert_count_key;      // routed experts per MoE layer
    std::string_view expert_width_key;      // I of one routed expert
    std::string_view dense_width_key;       // width of dense MLP layers
    std::string_view shared_width_key;      // Qwen: whole shared MLP; DeepSeek: one shared expert
    std::string_view shared_count_key;      // DeepSeek n_shared_experts (Qwen: always one)
    std::string_view norm_topk_key;         // empty: fixed by `norm_topk_default`
    bool norm_topk_default = false;         // HF class default when the key is absent
    std::string_view attention_bias_key;    // empty: fixed by `attention_bias_default`
    bool attention_bias_default = false;
    double rope_theta_default = 10000.0;    // HF class default when no theta is given

    std::vector<TensorTemplate> tensors;

    // Trailing columns, defaulted for the rows that leave them out (the families before GLM).
    ExpertMlp expert_mlp = ExpertMlp::silu;
    FusedExperts fused_form = FusedExperts::gate_up_rows;
    LayerPattern layer_pattern = LayerPattern::full;
    std::string_view qk_norm_key = {};      // non-empty: q/k norms only when this key is true (GLM)
    bool o_proj_bias = true;                // the attention bias flag covers o_proj too
    bool attention_sinks = false;           // gpt-oss: one sink logit per query head
    bool attention_output_gate = false;     // Qwen3-Next: q_proj yields [query | gate] per head
    double partial_rotary_default = 1.0;    // HF class default of partial_rotary_factor
    std::string_view rotary_dim_key = {};   // MiniMax-M2 `rotary_dim` (default head_dim / 2)
    bool zero_centred_norms = false;        // Qwen3-Next RMSNorm: x * (1 + w)
    bool norm_weights_f32 = false;          // norms multiply their weight in f32 (gpt-oss, Qwen3-Next)
    bool group_keys_optional = false;       // n_group / topk_group / routed_scaling_factor default to 1
    GroupMaskFill group_mask_fill = GroupMaskFill::neg_inf;

    bool is_moe() const { return moe_layers != MoeLayerRule::none; }
    bool has_shared_experts() const { return shared_expert != SharedExpertKind::none; }
    bool is_mla() const { return attention == AttentionKind::mla; }
    bool has_router_score_bias() const {
        return router == RouterRule::sigmoid_group_topk || router == RouterRule::sigmoid_topk_renorm;
    }
    bool sigmoid_router() const { return has_router_score_bias(); }
    bool topk_softmax_router_bias() const { return router == RouterRule::topk_softmax; }   // gpt-oss router.bias
    bool has_expert_biases() const { return expert_mlp == ExpertMlp::clamped_swiglu; }
    // The family has no per-expert Hub layout: its experts are fused on disk (gpt-oss).
    bool fused_only() const { return fused_form == FusedExperts::interleaved_in_out; }
    bool uses_expert_groups() const {
        return router == RouterRule::softmax_group_topk || router == RouterRule::sigmoid_group_topk;
    }
    const TensorTemplate* find_template(TensorRole role) const;   // nullptr when not in the row
};

const std::vector<FamilySpec>& family_table();
// Throws UnknownArchitecture naming `model_type` and listing the supported ones.
const FamilySpec& find_family(std::string_view model_type);
// The family whose row lists one of `architectures` (config.json "architectures"), or nullptr.
const FamilySpec* find_family_by_architecture(const std::vector<std::string>& architectures);
std::vector<std::string_view> supported_model_types();

}  // namespace sy
