#pragma once
// config.json -> ModelDescription: everything the rest of Switchyard needs to know about a model
// without touching its tensors. Keys per family come from the family table (family.h); RoPE is
// read from v5 `rope_parameters` first, then v4 `rope_theta` / `rope_scaling` (formats.md §0.3).
// A plain value type: copy freely, read from any thread.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/family.h"

namespace sy {

enum class ScoringFunc { softmax, sigmoid };

struct RopeConfig {
    double theta = 10000.0;
    std::string type = "default";    // rope_type (or v4 `type`): default, linear, dynamic, yarn, llama3, ...
    double factor = 1.0;             // scaling factor; 1 when unscaled
    RopePairing pairing = RopePairing::half_split;
    int64_t rotary_dim = 0;          // dims rotated per head (MLA: qk_rope_head_dim)
    // YaRN (formats.md §10); absent keys keep HF's defaults.
    std::optional<int64_t> original_max_position_embeddings;
    double beta_fast = 32.0;
    double beta_slow = 1.0;
    std::optional<double> mscale;
    std::optional<double> mscale_all_dim;
    std::optional<double> attention_factor;
    bool truncate = true;
    // Llama 3 scaling.
    std::optional<double> low_freq_factor;
    std::optional<double> high_freq_factor;
};

// DeepSeek multi-head latent attention dims (formats.md §5.3).
struct MlaDims {
    std::optional<int64_t> q_lora_rank;   // absent: plain q_proj
    int64_t kv_lora_rank = 0;
    int64_t qk_nope_head_dim = 0;
    int64_t qk_rope_head_dim = 0;
    int64_t v_head_dim = 0;
};

// Token mixer of one decoder layer.
enum class LayerAttention {
    full,      // causal attention over every earlier key
    sliding,   // causal attention over the last `sliding_window` keys: q - W < j <= q
    linear,    // Qwen3-Next Gated DeltaNet (recurrent, no attention mask)
};

// Qwen3-Next Gated DeltaNet dims (configuration_qwen3_next.py `linear_*`).
struct LinearAttentionDims {
    int64_t key_heads = 0;        // linear_num_key_heads (nk)
    int64_t value_heads = 0;      // linear_num_value_heads (nv, a multiple of nk)
    int64_t key_head_dim = 0;     // dk
    int64_t value_head_dim = 0;   // dv
    int64_t conv_kernel = 0;      // linear_conv_kernel_dim
    int64_t key_dim() const { return key_heads * key_head_dim; }
    int64_t value_dim() const { return value_heads * value_head_dim; }
    int64_t conv_dim() const { return 2 * key_dim() + value_dim(); }
};

struct ModelDescription {
    const FamilySpec* family = nullptr;   // points into family_table(), never null once read
    std::string model_type;
    std::vector<std::string> architectures;
    // Set when config.json's model_type is not in the family table and the family was chosen
    // through `architectures` (e.g. "kimi_k2" with DeepseekV3ForCausalLM): that architecture.
    std::string resolved_by_architecture;
    std::string torch_dtype;              // "bfloat16"; v5 writes `dtype`; empty when absent

    int num_layers = 0;                   // decoder layers used by the forward pass (no MTP)
    int64_t hidden_size = 0;              // H
    int64_t vocab_size = 0;               // embedding rows (often padded, formats.md §0.6)
    int64_t num_heads = 0;
    int64_t num_kv_heads = 0;
    int64_t head_dim = 0;                 // q/k head dim; MLA: qk_nope + qk_rope
    double rms_norm_eps = 1e-6;
    bool tie_word_embeddings = false;
    int64_t max_position_embeddings = 0;  // 0 when absent
    int num_mtp_layers = 0;               // DeepSeek-V3 num_nextn_predict_layers (skipped)

    // MoE. moe_layers are model-layer indices; num_experts has one entry per MoE layer.
    std::vector<int> moe_layers;
    std::vector<int64_t> num_experts;
    int64_t top_k = 0;
    bool norm_topk_prob = false;
    double routed_scaling_factor = 1.0;
    int64_t n_group = 1;                  // DeepSeek expert groups (1 = no group limit)
    int64_t topk_group = 1;
    std::string topk_method;              // DeepSeek only: greedy, group_limited_greedy, noaux_tc
    ScoringFunc scoring = ScoringFunc::softmax;
    int64_t expert_intermediate_size = 0;   // I of one routed expert
    int64_t dense_intermediate_size = 0;    // width of dense MLP layers (0: none)
    // Shared experts run as one MLP: Qwen2-MoE one expert of shared_expert_intermediate_size,
    // DeepSeek n_shared_experts x moe_intermediate_size fused into one MLP of the total width.
    int64_t shared_expert_count = 0;
    int64_t shared_expert_intermediate_size = 0;   // total width of that one shared MLP

    bool qkv_bias = false;                // q/k/v (MLA: q_a / kv_a) projections have biases
    bool o_bias = false;
    bool qk_norm = false;                 // q_norm / k_norm present (family kind and its config key)
    // One entry per decoder layer; sliding layers see keys q - sliding_window < j <= q.
    std::vector<LayerAttention> layer_attention;
    int64_t sliding_window = 0;           // 0 when no layer slides
    std::optional<LinearAttentionDims> linear_attention;   // Qwen3-Next
    // gpt-oss clamped SwiGLU (formats.md §6.3).
    double swiglu_limit = 7.0;
    double swiglu_alpha = 1.702;
    std::string quant_method;             // quantization_config.quant_method: "", "fp8", "mxfp4"
    std::optional<double> clip_qkv;       // OLMoE
    std::optional<MlaDims> mla;
    RopeConfig rope;
    // DeepSeek FP8 block [rows, cols] from quantization_config.weight_block_size.
    std::optional<std::array<int64_t, 2>> fp8_block_size;

    bool is_moe_layer(int layer) const;
    bool is_linear_attention_layer(int layer) const;
    int64_t sliding_window_of(int layer) const;   // W for sliding layers, 0 for the others
    int moe_layer_index(int layer) const;   // position in moe_layers, -1 for dense layers
    int64_t experts_in_layer(int layer) const;   // 0 for dense layers
};

// Reads `config_json` (a config.json path, or a model folder holding one). Throws ConfigError
// naming the file and the key for missing or ill-typed keys ("<dir>/config.json: not found"
// when absent) and UnknownArchitecture for a model_type not in the family table.
ModelDescription read_model_config(const std::filesystem::path& config_json);

// Same, from JSON text; `origin` names the file in messages.
ModelDescription parse_model_config(const std::string& json_text, const std::string& origin);

}  // namespace sy
