// `switchyard inspect MODEL_DIR [--json]`: open + validate a model folder and print what it is.
// Options and formatting only; reading and validation live in core (model.h). Needs no
// tokenizer.json and reads no tensor data.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "switchyard/core/model.h"
#include "verbs.h"

namespace sy::cli {
namespace {

struct InspectOptions {
    std::string model_dir;
    bool json = false;
};

// Powers of 1000, as model cards write parameter counts and disks write sizes.
std::string scaled(int64_t count, const char* const (&units)[5]) {
    double value = static_cast<double>(count);
    int unit = 0;
    while (value >= 1000.0 && unit < 4) value /= 1000.0, ++unit;
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.3g%s", value, units[unit]);
    return text;
}
// 46700000000 -> "46.7B"
std::string human_count(int64_t count) { return scaled(count, {"", "K", "M", "B", "T"}); }
// 3430000000 -> "3.43 GB"
std::string human_bytes(int64_t bytes) { return scaled(bytes, {" B", " kB", " MB", " GB", " TB"}); }

template <typename T>
std::string join(const std::vector<T>& items) {
    std::ostringstream out;
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ", " : "") << items[i];
    return out.str();
}

std::string experts_text(const ModelDescription& d) {
    if (d.moe_layers.empty()) return "none (dense model)";
    std::ostringstream out;
    const bool uniform = std::equal(d.num_experts.begin() + 1, d.num_experts.end(), d.num_experts.begin());
    out << (uniform ? std::to_string(d.num_experts.front()) + " per MoE layer" : join(d.num_experts)) << " (width " << d.expert_intermediate_size << "), top-" << d.top_k
        << ", router " << router_rule_name(d.family->router) << (d.norm_topk_prob ? ", renormalised" : "");
    if (d.routed_scaling_factor != 1.0) out << ", x" << d.routed_scaling_factor;
    if (d.n_group > 1) out << ", " << d.topk_group << " of " << d.n_group << " groups";
    return out.str();
}

std::string shared_text(const ModelDescription& d) {
    if (d.shared_expert_count == 0) return "none";
    return std::to_string(d.shared_expert_count) + " (" + std::string(shared_expert_kind_name(d.family->shared_expert)) +
           ", width " + std::to_string(d.shared_expert_intermediate_size) + ")";
}

// "gqa_head_qk_norm, output gate; 9 linear (Gated DeltaNet) + 3 full layers" and the like.
std::string attention_text(const Model& model) {
    const ModelDescription& d = model.description;
    std::ostringstream out;
    const AttentionKind kind = d.family->attention;
    const bool norm_kind = kind == AttentionKind::gqa_head_qk_norm || kind == AttentionKind::gqa_full_qk_norm;
    out << (norm_kind && !d.qk_norm ? std::string_view("gqa (use_qk_norm false)") : attention_kind_name(kind));
    if (d.family->attention_sinks) out << ", sinks";
    if (d.family->attention_output_gate) out << ", output gate";
    if (d.rope.rotary_dim != d.head_dim) out << ", RoPE on " << d.rope.rotary_dim << " of " << d.head_dim << " dims";
    const auto count = [&](LayerAttention kind) { return std::count(d.layer_attention.begin(), d.layer_attention.end(), kind); };
    if (count(LayerAttention::sliding) > 0)
        out << "; sliding window " << d.sliding_window << " on " << count(LayerAttention::sliding) << " of " << d.num_layers
            << " layers";
    if (count(LayerAttention::linear) > 0)
        out << "; " << count(LayerAttention::linear) << " linear (Gated DeltaNet) + " << count(LayerAttention::full)
            << " full layers";
    return out.str();
}

std::string model_type_text(const ModelDescription& d) {
    std::string text = d.model_type + (d.architectures.empty() ? "" : " (" + join(d.architectures) + ")");
    if (!d.resolved_by_architecture.empty())
        text += "; model_type not in the family table, resolved by architectures " + d.resolved_by_architecture +
                " as " + std::string(d.family->model_type);
    return text;
}

std::string expert_layout_text(const Model& model) {
    if (model.layout != ExpertLayout::fused) return "per-expert (Hub)";
    if (!model.description.family->fused_only()) return "fused (transformers v5)";
    return model.description.quant_method == "mxfp4" ? "fused (gpt-oss Hub layout, MXFP4 blocks + scales)"
                                                      : "fused (gpt-oss Hub layout)";
}

void print_text(const Model& model, const ModelSummary& s, std::ostream& out) {
    const ModelDescription& d = model.description;
    std::string dtypes;
    for (const auto& [dtype, count] : s.dtypes) dtypes += (dtypes.empty() ? "" : ", ") + dtype + " x" + std::to_string(count);
    const auto row = [&out](const char* key, const std::string& value) {
        out << key << std::string(16 - std::string(key).size(), ' ') << value << '\n';
    };
    row("model_type", model_type_text(d));
    row("family", std::string(d.family->model_type) + ", attention " + attention_text(model));
    row("layers", std::to_string(d.num_layers));
    row("MoE layers", d.moe_layers.empty() ? "none" : join(d.moe_layers));
    row("experts", experts_text(d));
    row("shared experts", shared_text(d));
    row("hidden size", std::to_string(d.hidden_size) + " (" + std::to_string(d.num_heads) + " heads, " +
                           std::to_string(d.num_kv_heads) + " KV heads, head_dim " + std::to_string(d.head_dim) + ")");
    row("vocab size", std::to_string(d.vocab_size) + (d.tie_word_embeddings ? " (tied embeddings)" : ""));
    row("parameters", human_count(s.params_total) + " total");
    row("active", human_count(s.params_active) + " per token with the input embedding (Mixtral's convention), " +
                      human_count(s.params_active_without_embedding) + " without (DeepSeek's)");
    row("dtypes", dtypes);
    row("files", join(s.files));
    row("tensors", std::to_string(s.tensor_count) + " (" + human_bytes(static_cast<int64_t>(s.tensor_bytes)) + ")");
    row("expert layout", expert_layout_text(model));
}

nlohmann::json to_json(const Model& model, const ModelSummary& s) {
    const ModelDescription& d = model.description;
    nlohmann::json out = {
        {"model_type", d.model_type}, {"family", std::string(d.family->model_type)}, {"architectures", d.architectures},
        {"num_layers", d.num_layers}, {"moe_layers", d.moe_layers}, {"num_experts", d.num_experts},
        {"top_k", d.top_k}, {"norm_topk_prob", d.norm_topk_prob}, {"router", std::string(router_rule_name(d.family->router))},
        {"routed_scaling_factor", d.routed_scaling_factor}, {"n_group", d.n_group}, {"topk_group", d.topk_group},
        {"expert_intermediate_size", d.expert_intermediate_size},
        {"shared_experts", d.shared_expert_count},
        {"shared_expert_intermediate_size", d.shared_expert_intermediate_size},
        {"attention", std::string(attention_kind_name(d.family->attention))},
        {"hidden_size", d.hidden_size}, {"num_heads", d.num_heads}, {"num_kv_heads", d.num_kv_heads},
        {"head_dim", d.head_dim}, {"vocab_size", d.vocab_size}, {"tie_word_embeddings", d.tie_word_embeddings},
        {"rope", {{"theta", d.rope.theta}, {"type", d.rope.type}, {"factor", d.rope.factor}}},
        {"torch_dtype", d.torch_dtype},
        {"params_total", s.params_total}, {"params_active", s.params_active},
        {"params_active_without_embedding", s.params_active_without_embedding},
        {"dtypes", s.dtypes}, {"files", s.files}, {"tensor_count", s.tensor_count},
        {"tensor_bytes", s.tensor_bytes}, {"expert_layout", std::string(expert_layout_name(model.layout))},
    };
    out["fp8_block_size"] = d.fp8_block_size ? nlohmann::json(*d.fp8_block_size) : nlohmann::json(nullptr);
    out["resolved_by_architecture"] =
        d.resolved_by_architecture.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.resolved_by_architecture);
    out["quant_method"] = d.quant_method.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.quant_method);
    out["sliding_window"] = d.sliding_window;
    out["qk_norm"] = d.qk_norm;
    nlohmann::json layers = nlohmann::json::array();
    for (LayerAttention kind : d.layer_attention)
        layers.push_back(kind == LayerAttention::full ? "full" : kind == LayerAttention::sliding ? "sliding" : "linear");
    out["layer_attention"] = layers;
    return out;
}

}  // namespace

Verb add_inspect(CLI::App& root) {
    auto options = std::make_shared<InspectOptions>();
    CLI::App* command = root.add_subcommand(
        "inspect", "Validate a model folder and show its family, layers, experts and parameter counts");
    command->add_option("MODEL_DIR", options->model_dir, "Model folder (config.json + *.safetensors)")->required();
    command->add_flag("--json", options->json, "Print one JSON object instead of text");
    return {command, [options]() {
                const Model model = open_model(options->model_dir);
                const ModelSummary summary = summarize(model);
                if (options->json) std::cout << to_json(model, summary).dump(2) << '\n';
                else print_text(model, summary, std::cout);
                return 0;
            }};
}

}  // namespace sy::cli
