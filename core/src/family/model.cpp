// open_model and the parameter summary behind `switchyard inspect`.
#include "switchyard/core/model.h"

#include <map>

namespace sy {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
    int64_t count = 1;
    for (int64_t dim : shape) count *= dim;
    return count;
}

// The layout the family's Hub checkpoints use (gpt-oss has only the fused one).
ExpertLayout native_layout(const ModelDescription& d) {
    return d.family->fused_only() ? ExpertLayout::fused : ExpertLayout::per_expert;
}

}  // namespace

Model open_model(const std::filesystem::path& dir) {
    ModelDescription description = read_model_config(dir / "config.json");
    Checkpoint checkpoint = Checkpoint::open(dir);
    const ExpertLayout layout = detect_expert_layout(description, checkpoint);
    validate_checkpoint(description, checkpoint, layout);
    return Model{std::move(description), std::move(checkpoint), layout};
}

ParamCounts count_params(const ModelDescription& d) {
    ParamCounts counts;
    std::map<int, int64_t> routed_per_layer;   // elements of all routed experts (with their biases)
    for (const ExpectedTensor& tensor : expected_tensors(d, native_layout(d))) {
        counts.total += numel(tensor.shape);
        if (tensor.expert_layer >= 0) routed_per_layer[tensor.expert_layer] += numel(tensor.shape);
    }
    int64_t active_experts = 0;
    for (const auto& [layer, routed] : routed_per_layer) {
        counts.routed_experts += routed;
        active_experts += routed / d.experts_in_layer(layer) * d.top_k;
    }
    counts.active = counts.total - counts.routed_experts + active_experts;
    const int64_t input_embedding = d.tie_word_embeddings ? 0 : d.vocab_size * d.hidden_size;
    counts.active_without_embedding = counts.active - input_embedding;
    return counts;
}

ModelSummary summarize(const Model& model) {
    ModelSummary summary;
    const ParamCounts counts = count_params(model.description);
    summary.params_total = counts.total;
    summary.params_active = counts.active;
    summary.params_active_without_embedding = counts.active_without_embedding;
    summary.params_routed_experts = counts.routed_experts;
    std::map<DType, int64_t> by_dtype;   // counted by enum: 140k string keys cost 20 ms on Kimi-K2
    for (const TensorInfo& tensor : model.checkpoint.tensors()) ++by_dtype[tensor.dtype];
    for (const auto& [dtype, count] : by_dtype) summary.dtypes[std::string(dtype_name(dtype))] = count;
    summary.files = model.checkpoint.files();
    summary.tensor_count = static_cast<int64_t>(model.checkpoint.tensors().size());
    summary.tensor_bytes = model.checkpoint.total_tensor_bytes();
    return summary;
}

}  // namespace sy
