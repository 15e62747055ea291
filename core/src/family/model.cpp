// open_model and the parameter summary behind `switchyard inspect`.
#include "switchyard/core/model.h"

namespace sy {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
    int64_t count = 1;
    for (int64_t dim : shape) count *= dim;
    return count;
}

// Elements of one routed expert (gate + up + down), whatever the layout: 3 * I * H.
int64_t params_per_expert(const ModelDescription& d) { return 3 * d.expert_intermediate_size * d.hidden_size; }

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
    for (const ExpectedTensor& tensor : expected_tensors(d, ExpertLayout::per_expert)) counts.total += numel(tensor.shape);
    for (int layer : d.moe_layers) counts.routed_experts += d.experts_in_layer(layer) * params_per_expert(d);
    const int64_t active_experts = static_cast<int64_t>(d.moe_layers.size()) * d.top_k * params_per_expert(d);
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
