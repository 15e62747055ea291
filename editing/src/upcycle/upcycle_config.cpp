// The upcycled model's config.json: the dense source's keys (rope_theta, norms, vocabulary,
// head_dim, ...) kept, model_type / architectures replaced, and the target family's MoE keys
// added from its row of the family table (key names: formats.md §1; which layers are MoE:
// §4.3 and §5.1). Every decoder layer becomes an MoE layer.
#include <fstream>

#include "output_files.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "upcycle_plan.h"

namespace sy {
namespace {

using json = nlohmann::ordered_json;

// Keys that make every layer sparse under the family's MoE-layer rule.
void set_all_layers_moe(const FamilySpec& f, json& config) {
    switch (f.moe_layers) {
        case MoeLayerRule::qwen_sparse_step:
            config["decoder_sparse_step"] = 1;
            config["mlp_only_layers"] = json::array();
            break;
        case MoeLayerRule::deepseek_dense_prefix:
            config["first_k_dense_replace"] = 0;
            config["moe_layer_freq"] = 1;
            break;
        case MoeLayerRule::all:
        case MoeLayerRule::none: break;
    }
}

// Group-limited routers with one group route like plain top-k; the scale is 1 so that the
// experts' sum is not multiplied (formats.md §5.4). HF's DeepSeek-V3 defaults (8 groups, x2.5)
// would apply otherwise.
void set_router_keys(const FamilySpec& f, const UpcycleOptions& o, json& config) {
    config[std::string(f.expert_count_key)] = o.experts;
    config["num_experts_per_tok"] = o.top_k;
    if (!f.norm_topk_key.empty()) config[std::string(f.norm_topk_key)] = o.renormalize;
    if (f.uses_expert_groups()) {
        config["n_group"] = 1;
        config["topk_group"] = 1;
        config["routed_scaling_factor"] = 1.0;
    }
}

// The shared expert is one copy of the dense FFN: width I. DeepSeek counts shared experts of
// the routed width (n_shared_experts x moe_intermediate_size), so I is G of them.
void set_shared_keys(const FamilySpec& f, const UpcycleOptions& o, int64_t dense_width, json& config) {
    if (f.shared_expert == SharedExpertKind::gated_sigmoid)
        config[std::string(f.shared_width_key)] = dense_width;
    else if (f.shared_expert == SharedExpertKind::ungated)
        config[std::string(f.shared_count_key)] = o.shared_expert ? o.granularity : 0;
}

}  // namespace

nlohmann::ordered_json upcycle_config(const Model& dense, const FamilySpec& target, const UpcycleOptions& o) {
    const auto path = dense.checkpoint.dir() / "config.json";
    std::ifstream in(path);
    json config;
    try {
        config = json::parse(in);
    } catch (const json::exception& e) {
        throw ConfigError(path.string() + ": " + e.what());
    }
    const int64_t width = dense_ffn_width(dense.description);
    config["model_type"] = target.model_type;
    config["architectures"] = json::array({target.architectures.front()});
    // Mixtral's expert width key is intermediate_size itself; Qwen/DeepSeek keep it as the dense width.
    if (!target.dense_width_key.empty()) config[std::string(target.dense_width_key)] = width;
    config[std::string(target.expert_width_key)] = width / o.granularity;
    set_router_keys(target, o, config);
    set_all_layers_moe(target, config);
    set_shared_keys(target, o, width, config);
    // A family whose attention always has q/k/v biases gets zero biases when the source has none
    // (upcycle_plan.cpp), so its bias key says true.
    if (!target.attention_bias_key.empty())
        config[std::string(target.attention_bias_key)] =
            dense.description.qkv_bias || target.attention == AttentionKind::gqa_qkv_bias;
    if (o.dtype != ExportDType::keep) {
        const std::string name = torch_dtype_name(converted_dtype(DType::f32, o.dtype));
        config["torch_dtype"] = name;
        if (config.contains("dtype")) config["dtype"] = name;   // transformers v5 spelling
    }
    return config;
}

}  // namespace sy
