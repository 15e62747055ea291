// config.json -> ModelDescription. Which keys to read comes from the family row; the rules for
// MoE layers, routers and RoPE follow formats.md §1, §4.3, §5.1, §0.3 and §10.
#include "switchyard/core/model_config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

using nlohmann::json;

// Typed access to one JSON object; every failure names the file and the (dotted) key.
// A key holding null counts as absent, as HF's config classes treat it.
class Keys {
public:
    Keys(const json& object, std::string origin, std::string prefix = {})
        : m_object(&object), m_origin(std::move(origin)), m_prefix(std::move(prefix)) {}

    bool has(const std::string& key) const {
        auto it = m_object->find(key);
        return it != m_object->end() && !it->is_null();
    }
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw ConfigError(m_origin + ": key \"" + m_prefix + key + "\" " + what);
    }
    const json& get(const std::string& key) const {
        if (!has(key)) fail(key, "is missing");
        return m_object->at(key);
    }
    int64_t integer(const std::string& key) const {
        const json& value = get(key);
        if (value.is_number_integer()) return value.get<int64_t>();
        // 4096.0 is an integer too (some converters write floats).
        if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>())
            return static_cast<int64_t>(value.get<double>());
        fail(key, "must be an integer, found " + describe(value));
    }
    int64_t positive(const std::string& key) const {
        const int64_t value = integer(key);
        if (value <= 0) fail(key, "must be positive, found " + std::to_string(value));
        return value;
    }
    double number(const std::string& key) const {
        const json& value = get(key);
        if (!value.is_number()) fail(key, "must be a number, found " + describe(value));
        return value.get<double>();
    }
    std::string string(const std::string& key) const {
        const json& value = get(key);
        if (!value.is_string()) fail(key, "must be a string, found " + describe(value));
        return value.get<std::string>();
    }
    bool boolean(const std::string& key) const {
        const json& value = get(key);
        if (!value.is_boolean()) fail(key, "must be true or false, found " + describe(value));
        return value.get<bool>();
    }
    std::vector<int64_t> integers(const std::string& key) const {
        const json& value = get(key);
        if (!value.is_array()) fail(key, "must be a list of integers, found " + describe(value));
        std::vector<int64_t> out;
        for (const json& item : value) {
            if (!item.is_number_integer()) fail(key, "must be a list of integers, found " + describe(value));
            out.push_back(item.get<int64_t>());
        }
        return out;
    }
    std::optional<Keys> object(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        const json& value = get(key);
        if (!value.is_object()) fail(key, "must be an object, found " + describe(value));
        return Keys(value, m_origin, m_prefix + key + ".");
    }

    int64_t integer_or(const std::string& key, int64_t fallback) const { return has(key) ? integer(key) : fallback; }
    double number_or(const std::string& key, double fallback) const { return has(key) ? number(key) : fallback; }
    bool boolean_or(const std::string& key, bool fallback) const { return has(key) ? boolean(key) : fallback; }
    std::string string_or(const std::string& key, const std::string& fallback) const {
        return has(key) ? string(key) : fallback;
    }
    std::optional<double> optional_number(const std::string& key) const {
        return has(key) ? std::optional<double>(number(key)) : std::nullopt;
    }
    const std::string& origin() const { return m_origin; }

private:
    static std::string describe(const json& value) {
        std::string text = value.dump();
        if (text.size() > 40) text = text.substr(0, 37) + "...";
        return std::string(value.type_name()) + " " + text;
    }
    const json* m_object;   // pointer, not reference: Keys is reassigned (nested rope_parameters)
    std::string m_origin;
    std::string m_prefix;
};

void read_basics(const Keys& keys, ModelDescription& d) {
    d.num_layers = static_cast<int>(keys.positive("num_hidden_layers"));
    d.hidden_size = keys.positive("hidden_size");
    d.vocab_size = keys.positive("vocab_size");
    d.num_heads = keys.positive("num_attention_heads");
    d.num_kv_heads = keys.has("num_key_value_heads") ? keys.positive("num_key_value_heads") : d.num_heads;
    d.rms_norm_eps = keys.number("rms_norm_eps");
    d.tie_word_embeddings = keys.boolean_or("tie_word_embeddings", false);
    d.max_position_embeddings = keys.integer_or("max_position_embeddings", 0);
    d.num_mtp_layers = static_cast<int>(keys.integer_or("num_nextn_predict_layers", 0));
    // transformers v5 writes `dtype` where v4 wrote `torch_dtype`.
    d.torch_dtype = keys.string_or("torch_dtype", keys.string_or("dtype", ""));
    if (keys.boolean_or("mlp_bias", false)) keys.fail("mlp_bias", "= true is not supported");
}

int64_t rotary_dim(const Keys& keys, const ModelDescription& d);

void read_attention(const Keys& keys, ModelDescription& d) {
    const FamilySpec& family = *d.family;
    const bool bias = family.attention_bias_key.empty()
                          ? family.attention_bias_default
                          : keys.boolean_or(std::string(family.attention_bias_key), family.attention_bias_default);
    d.qkv_bias = bias;
    d.o_bias = bias && family.o_proj_bias;   // Qwen2, GLM: no o bias
    if (keys.has("clip_qkv")) d.clip_qkv = keys.number("clip_qkv");
    const bool norm_kind = family.attention == AttentionKind::gqa_head_qk_norm ||
                           family.attention == AttentionKind::gqa_full_qk_norm;
    d.qk_norm = norm_kind && (family.qk_norm_key.empty() || keys.boolean_or(std::string(family.qk_norm_key), false));
    if (family.is_mla()) {
        MlaDims mla;
        if (keys.has("q_lora_rank")) mla.q_lora_rank = keys.positive("q_lora_rank");
        mla.kv_lora_rank = keys.positive("kv_lora_rank");
        mla.qk_nope_head_dim = keys.positive("qk_nope_head_dim");
        mla.qk_rope_head_dim = keys.positive("qk_rope_head_dim");
        mla.v_head_dim = keys.positive("v_head_dim");
        d.head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
        d.rope.rotary_dim = mla.qk_rope_head_dim;
        d.mla = mla;
        return;
    }
    if (d.num_heads % d.num_kv_heads != 0)
        keys.fail("num_key_value_heads", "(" + std::to_string(d.num_kv_heads) +
                                             ") must divide num_attention_heads (" + std::to_string(d.num_heads) + ")");
    if (!keys.has("head_dim") && d.hidden_size % d.num_heads != 0)
        keys.fail("head_dim", "is missing and hidden_size is not a multiple of num_attention_heads");
    // Qwen3 writes head_dim explicitly and it is not H/nh (formats.md §4.2).
    d.head_dim = keys.has("head_dim") ? keys.positive("head_dim") : d.hidden_size / d.num_heads;
    d.rope.rotary_dim = rotary_dim(keys, d);
}

// MiniMax's `rotary_dim` when present, else partial_rotary_factor (top level, or in v5
// rope_parameters, where transformers v5 moves MiniMax's rotary_dim too).
int64_t rotary_dim(const Keys& keys, const ModelDescription& d) {
    const FamilySpec& family = *d.family;
    const std::string key(family.rotary_dim_key);
    int64_t dim = 0;
    if (!key.empty() && keys.has(key)) {
        dim = keys.positive(key);
    } else {
        double factor = keys.number_or("partial_rotary_factor", family.partial_rotary_default);
        if (std::optional<Keys> params = keys.object("rope_parameters"))
            factor = params->number_or("partial_rotary_factor", factor);
        if (factor <= 0.0 || factor > 1.0) keys.fail("partial_rotary_factor", "must be in (0, 1]");
        dim = static_cast<int64_t>(static_cast<double>(d.head_dim) * factor);
    }
    if (dim <= 0 || dim > d.head_dim || dim % 2 != 0)
        keys.fail(key.empty() || !keys.has(key) ? "partial_rotary_factor" : key,
                  "gives " + std::to_string(dim) + " rotary dims; expected an even number in [2, head_dim " +
                      std::to_string(d.head_dim) + "]");
    return dim;
}

std::vector<int> qwen_moe_layers(const Keys& keys, int num_layers) {
    const std::vector<int64_t> dense = keys.has("mlp_only_layers") ? keys.integers("mlp_only_layers")
                                                                  : std::vector<int64_t>{};
    const int64_t step = keys.has("decoder_sparse_step") ? keys.positive("decoder_sparse_step") : 1;
    std::vector<int> layers;
    for (int l = 0; l < num_layers; ++l)
        if (std::find(dense.begin(), dense.end(), l) == dense.end() && (l + 1) % step == 0)
            layers.push_back(l);
    return layers;
}

// DeepSeek remote code / vLLM rule; HF native ignores moe_layer_freq (always 1 on the Hub).
std::vector<int> deepseek_moe_layers(const Keys& keys, int num_layers) {
    const int64_t first_dense = keys.integer("first_k_dense_replace");
    const int64_t freq = keys.has("moe_layer_freq") ? keys.positive("moe_layer_freq") : 1;
    std::vector<int> layers;
    for (int l = 0; l < num_layers; ++l)
        if (l >= first_dense && l % freq == 0) layers.push_back(l);
    return layers;
}

std::vector<int> moe_layers_for(const Keys& keys, const ModelDescription& d) {
    switch (d.family->moe_layers) {
    case MoeLayerRule::none: return {};
    case MoeLayerRule::all: {
        std::vector<int> all(static_cast<std::size_t>(d.num_layers));
        for (int l = 0; l < d.num_layers; ++l) all[static_cast<std::size_t>(l)] = l;
        return all;
    }
    case MoeLayerRule::qwen_sparse_step: return qwen_moe_layers(keys, d.num_layers);
    case MoeLayerRule::deepseek_dense_prefix: return deepseek_moe_layers(keys, d.num_layers);
    }
    return {};
}

void expect_choice(const Keys& keys, const std::string& key, const std::string& value,
                   std::initializer_list<const char*> allowed, const ModelDescription& d) {
    for (const char* choice : allowed)
        if (value == choice) return;
    std::string list;
    for (const char* choice : allowed) list += (list.empty() ? "" : ", ") + std::string(choice);
    keys.fail(key, "= \"" + value + "\" is not supported for " + d.model_type + " (supported: " + list + ")");
}

// DeepSeek routers (formats.md §5.4). V2 "greedy" is the group rule with a single group.
void read_group_router(const Keys& keys, ModelDescription& d, int64_t experts) {
    const bool v3 = d.family->router == RouterRule::sigmoid_group_topk;
    const std::string scoring = keys.string_or("scoring_func", v3 ? "sigmoid" : "softmax");
    expect_choice(keys, "scoring_func", scoring, {v3 ? "sigmoid" : "softmax"}, d);
    d.scoring = v3 ? ScoringFunc::sigmoid : ScoringFunc::softmax;
    d.topk_method = keys.string_or("topk_method", v3 ? "noaux_tc" : "greedy");
    if (v3) expect_choice(keys, "topk_method", d.topk_method, {"noaux_tc"}, d);
    else expect_choice(keys, "topk_method", d.topk_method, {"greedy", "group_limited_greedy"}, d);
    // V3's HF defaults (8 groups, x2.5) would silently mis-route a smaller model: require them.
    // GLM's class defaults are harmless (one group, x1): there the keys may be absent.
    const bool optional = d.family->group_keys_optional;
    d.routed_scaling_factor = v3 && !optional ? keys.number("routed_scaling_factor")
                                              : keys.number_or("routed_scaling_factor", 1.0);
    if (d.topk_method != "greedy") {
        d.n_group = optional && !keys.has("n_group") ? 1 : keys.positive("n_group");
        d.topk_group = optional && !keys.has("topk_group") ? 1 : keys.positive("topk_group");
    }
    if (experts % d.n_group != 0) keys.fail("n_group", "must divide the expert count " + std::to_string(experts));
    if (d.topk_group > d.n_group) keys.fail("topk_group", "must not exceed n_group");
    if (d.top_k > d.topk_group * (experts / d.n_group))
        keys.fail("num_experts_per_tok", "exceeds the experts in topk_group groups");
}

// MiniMax-M2: what MiniMaxM2Config leaves to the original remote code must be the variant
// transformers implements (sigmoid scores with a routing bias, no shared expert, full attention
// with per-layer q/k norms), else refuse rather than compute another model.
void read_minimax_router(const Keys& keys, ModelDescription& d) {
    d.scoring = ScoringFunc::sigmoid;
    d.norm_topk_prob = true;
    expect_choice(keys, "scoring_func", keys.string_or("scoring_func", "sigmoid"), {"sigmoid"}, d);
    if (!keys.boolean_or("use_routing_bias", true)) keys.fail("use_routing_bias", "= false is not supported");
    if (keys.integer_or("shared_intermediate_size", 0) != 0)
        keys.fail("shared_intermediate_size", "> 0 (a shared expert) is not supported");
    if (!keys.boolean_or("use_qk_norm", true)) keys.fail("use_qk_norm", "= false is not supported");
    expect_choice(keys, "qk_norm_type", keys.string_or("qk_norm_type", "per_layer"), {"per_layer"}, d);
    if (keys.has("attn_type_list"))
        for (int64_t type : keys.integers("attn_type_list"))
            if (type != 1)
                keys.fail("attn_type_list", "holds " + std::to_string(type) + " (only 1, full attention, is supported)");
}

void read_shared_experts(const Keys& keys, ModelDescription& d) {
    const FamilySpec& family = *d.family;
    if (family.shared_expert == SharedExpertKind::gated_sigmoid) {
        d.shared_expert_count = 1;
        d.shared_expert_intermediate_size = keys.positive(std::string(family.shared_width_key));
    } else if (family.shared_expert == SharedExpertKind::ungated) {
        d.shared_expert_count = keys.integer_or(std::string(family.shared_count_key), 0);
        d.shared_expert_intermediate_size =
            d.shared_expert_count * keys.positive(std::string(family.shared_width_key));
    }
}

void read_moe(const Keys& keys, ModelDescription& d) {
    const FamilySpec& family = *d.family;
    d.moe_layers = moe_layers_for(keys, d);
    const bool has_dense_layers = static_cast<int>(d.moe_layers.size()) < d.num_layers;
    const std::string dense_key(family.dense_width_key);
    if (has_dense_layers) d.dense_intermediate_size = keys.positive(dense_key);
    else if (!dense_key.empty()) d.dense_intermediate_size = keys.integer_or(dense_key, 0);
    if (!family.is_moe()) return;

    const int64_t experts = keys.positive(std::string(family.expert_count_key));
    d.num_experts.assign(d.moe_layers.size(), experts);
    d.top_k = keys.positive("num_experts_per_tok");
    if (d.top_k > experts) keys.fail("num_experts_per_tok", "exceeds the expert count " + std::to_string(experts));
    d.expert_intermediate_size = keys.positive(std::string(family.expert_width_key));
    d.norm_topk_prob = family.norm_topk_key.empty()
                           ? family.norm_topk_default
                           : keys.boolean_or(std::string(family.norm_topk_key), family.norm_topk_default);
    if (family.uses_expert_groups()) read_group_router(keys, d, experts);
    if (family.router == RouterRule::sigmoid_topk_renorm) read_minimax_router(keys, d);
    if (family.has_expert_biases()) {   // gpt-oss; alpha is fixed in every implementation
        d.swiglu_limit = keys.number_or("swiglu_limit", 7.0);
        if (d.swiglu_limit <= 0) keys.fail("swiglu_limit", "must be positive");
    }
    read_shared_experts(keys, d);
}

std::vector<std::string> layer_types(const Keys& keys, int num_layers) {
    const json& value = keys.get("layer_types");
    if (!value.is_array() || static_cast<int>(value.size()) != num_layers)
        keys.fail("layer_types", "must be a list of " + std::to_string(num_layers) + " strings (one per layer)");
    std::vector<std::string> types;
    for (const json& item : value) {
        if (!item.is_string()) keys.fail("layer_types", "must be a list of strings");
        types.push_back(item.get<std::string>());
    }
    return types;
}

// The HF rule of each pattern: masking_utils.py and the families' configuration files.
std::vector<std::string> default_layer_types(const Keys& keys, const ModelDescription& d, bool window) {
    std::vector<std::string> types(static_cast<std::size_t>(d.num_layers), "full_attention");
    for (int l = 0; l < d.num_layers; ++l) {
        std::string& type = types[static_cast<std::size_t>(l)];
        switch (d.family->layer_pattern) {
        case LayerPattern::sliding_all: type = window ? "sliding_attention" : type; break;
        case LayerPattern::sliding_qwen:   // Qwen2Config: layers from max_window_layers on slide
            if (window && l >= keys.integer_or("max_window_layers", 28)) type = "sliding_attention";
            break;
        case LayerPattern::sliding_layer_types:   // GptOssConfig: even layers slide
            if ((l + 1) % 2 == 1) type = "sliding_attention";
            break;
        case LayerPattern::linear_layer_types: {   // Qwen3NextConfig
            const int64_t interval = keys.has("full_attention_interval") ? keys.positive("full_attention_interval") : 4;
            if ((l + 1) % interval != 0) type = "linear_attention";
            break;
        }
        case LayerPattern::full: break;
        }
    }
    return types;
}

LayerAttention layer_kind(const Keys& keys, const ModelDescription& d, const std::string& type) {
    const LayerPattern pattern = d.family->layer_pattern;
    if (type == "full_attention") return LayerAttention::full;
    if (type == "sliding_attention" && pattern != LayerPattern::linear_layer_types) return LayerAttention::sliding;
    if (type == "linear_attention" && pattern == LayerPattern::linear_layer_types) return LayerAttention::linear;
    keys.fail("layer_types", "holds \"" + type + "\", which " + d.model_type + " does not have");
}

void read_linear_attention(const Keys& keys, ModelDescription& d) {
    LinearAttentionDims dims;
    dims.key_heads = keys.positive("linear_num_key_heads");
    dims.value_heads = keys.positive("linear_num_value_heads");
    dims.key_head_dim = keys.positive("linear_key_head_dim");
    dims.value_head_dim = keys.positive("linear_value_head_dim");
    dims.conv_kernel = keys.positive("linear_conv_kernel_dim");
    if (dims.value_heads % dims.key_heads != 0)
        keys.fail("linear_num_value_heads", "must be a multiple of linear_num_key_heads");
    d.linear_attention = dims;
}

// Which layers slide (and by how much) or are linear: transformers' rules per family (masking_utils.py
// sliding_window_overlay; Qwen3-Next's hybrid layout).
void read_layers(const Keys& keys, ModelDescription& d) {
    const LayerPattern pattern = d.family->layer_pattern;
    int64_t window = 0;
    const bool sliding_pattern = pattern == LayerPattern::sliding_all || pattern == LayerPattern::sliding_qwen ||
                                 pattern == LayerPattern::sliding_layer_types;
    if (sliding_pattern && keys.has("sliding_window")) window = keys.positive("sliding_window");
    if (pattern == LayerPattern::sliding_qwen && !keys.boolean_or("use_sliding_window", false)) window = 0;
    const bool explicit_types = keys.has("layer_types") && pattern != LayerPattern::sliding_all &&
                                pattern != LayerPattern::full;
    const std::vector<std::string> types =
        explicit_types ? layer_types(keys, d.num_layers) : default_layer_types(keys, d, window > 0);
    for (const std::string& type : types) {
        d.layer_attention.push_back(layer_kind(keys, d, type));
        if (d.layer_attention.back() == LayerAttention::sliding && window == 0)
            keys.fail("sliding_window", "is needed by the sliding_attention layers of layer_types");
    }
    const bool any_sliding = std::count(d.layer_attention.begin(), d.layer_attention.end(), LayerAttention::sliding) > 0;
    d.sliding_window = any_sliding ? window : 0;
    if (std::count(d.layer_attention.begin(), d.layer_attention.end(), LayerAttention::linear) > 0)
        read_linear_attention(keys, d);
}

// Scaling keys live in v5 `rope_parameters` or v4 `rope_scaling` (kind in `rope_type` or `type`).
void read_rope_scaling(const Keys& scaling, RopeConfig& rope) {
    rope.type = scaling.string_or("rope_type", scaling.string_or("type", "default"));
    rope.factor = scaling.number_or("factor", 1.0);
    if (scaling.has("original_max_position_embeddings"))
        rope.original_max_position_embeddings = scaling.positive("original_max_position_embeddings");
    rope.beta_fast = scaling.number_or("beta_fast", rope.beta_fast);
    rope.beta_slow = scaling.number_or("beta_slow", rope.beta_slow);
    rope.mscale = scaling.optional_number("mscale");
    rope.mscale_all_dim = scaling.optional_number("mscale_all_dim");
    rope.attention_factor = scaling.optional_number("attention_factor");
    rope.truncate = scaling.boolean_or("truncate", rope.truncate);
    rope.low_freq_factor = scaling.optional_number("low_freq_factor");
    rope.high_freq_factor = scaling.optional_number("high_freq_factor");
}

void read_rope(const Keys& keys, ModelDescription& d) {
    d.rope.pairing = d.family->rope_pairing;
    const double theta_default = keys.number_or("rope_theta", d.family->rope_theta_default);
    std::optional<Keys> params = keys.object("rope_parameters");
    // Some v5 configs nest rope_parameters per layer type; our families use full attention.
    if (params && !params->has("rope_theta") && !params->has("rope_type") && params->has("full_attention"))
        params = params->object("full_attention");
    if (params) {
        d.rope.theta = params->number_or("rope_theta", theta_default);
        read_rope_scaling(*params, d.rope);
        return;
    }
    d.rope.theta = theta_default;
    if (std::optional<Keys> scaling = keys.object("rope_scaling")) read_rope_scaling(*scaling, d.rope);
}

void read_quantization(const Keys& keys, ModelDescription& d) {
    std::optional<Keys> quant = keys.object("quantization_config");
    if (!quant) return;
    const std::string method = quant->string_or("quant_method", "");
    d.quant_method = method;
    // gpt-oss MXFP4 experts: the blocks and scales are found and checked with the tensors.
    if (method == "mxfp4" && d.family->fused_only()) return;
    if (method != "fp8")
        quant->fail("quant_method", "= \"" + method + "\" is not supported (fp8 block scales; mxfp4 for gpt_oss)");
    const std::vector<int64_t> block = quant->integers("weight_block_size");
    if (block.size() != 2 || block[0] <= 0 || block[1] <= 0)
        quant->fail("weight_block_size", "must be two positive integers");
    d.fp8_block_size = std::array<int64_t, 2>{block[0], block[1]};
}

// model_type first; a re-badged model_type (Kimi-K2's "kimi_k2" with DeepseekV3ForCausalLM)
// resolves through `architectures`, as transformers' auto classes do with remote code.
void resolve_family(ModelDescription& d, const std::string& origin) {
    try {
        d.family = &find_family(d.model_type);
        return;
    } catch (const UnknownArchitecture& error) {
        d.family = find_family_by_architecture(d.architectures);
        if (!d.family) {
            std::string names;
            for (const std::string& name : d.architectures) names += (names.empty() ? "" : ", ") + name;
            throw UnknownArchitecture(origin + ": " + error.what() + "; nor is \"architectures\" [" + names +
                                      "] a supported class");
        }
    }
    for (const std::string& name : d.architectures)
        for (std::string_view architecture : d.family->architectures)
            if (architecture == name && d.resolved_by_architecture.empty()) d.resolved_by_architecture = name;
}

}  // namespace

bool ModelDescription::is_moe_layer(int layer) const { return moe_layer_index(layer) >= 0; }

bool ModelDescription::is_linear_attention_layer(int layer) const {
    return layer >= 0 && layer < static_cast<int>(layer_attention.size()) &&
           layer_attention[static_cast<std::size_t>(layer)] == LayerAttention::linear;
}

int64_t ModelDescription::sliding_window_of(int layer) const {
    const bool sliding = layer >= 0 && layer < static_cast<int>(layer_attention.size()) &&
                         layer_attention[static_cast<std::size_t>(layer)] == LayerAttention::sliding;
    return sliding ? sliding_window : 0;
}

int ModelDescription::moe_layer_index(int layer) const {
    auto it = std::find(moe_layers.begin(), moe_layers.end(), layer);
    return it == moe_layers.end() ? -1 : static_cast<int>(it - moe_layers.begin());
}

int64_t ModelDescription::experts_in_layer(int layer) const {
    const int index = moe_layer_index(layer);
    return index < 0 ? 0 : num_experts[static_cast<std::size_t>(index)];
}

ModelDescription parse_model_config(const std::string& json_text, const std::string& origin) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::parse_error& error) {
        throw ConfigError(origin + ": invalid JSON: " + error.what());
    }
    if (!root.is_object()) throw ConfigError(origin + ": expected a JSON object");
    const Keys keys(root, origin);
    ModelDescription d;
    d.model_type = keys.string("model_type");
    if (keys.has("architectures"))
        for (const json& name : root.at("architectures"))
            if (name.is_string()) d.architectures.push_back(name.get<std::string>());
    resolve_family(d, origin);
    read_basics(keys, d);
    read_attention(keys, d);
    read_moe(keys, d);
    read_layers(keys, d);
    read_rope(keys, d);
    read_quantization(keys, d);
    return d;
}

ModelDescription read_model_config(const std::filesystem::path& config_json) {
    std::filesystem::path path = config_json;
    if (std::filesystem::is_directory(path)) path /= "config.json";
    if (!std::filesystem::is_regular_file(path)) throw ConfigError(path.string() + ": not found");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path.string() + ": cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_model_config(text.str(), path.string());
}

}  // namespace sy
