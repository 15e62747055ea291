// run_expert_similarity: weights first (seconds, or minutes of Hungarian
// solves for wide experts), then the forward pass over the data for the output similarity.
#include <torch/torch.h>

#include <string>

#include "device.h"
#include "jobs/expert_similarity_internal.h"
#include "switchyard/compute/rank_group.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"

namespace sy {
namespace {

std::string moe_layer_list(const ModelDescription& model) {
    std::string list;
    for (int layer : model.moe_layers) list += (list.empty() ? "" : ", ") + std::to_string(layer);
    return list.empty() ? "none" : list;
}

}  // namespace

void check_similarity_layer(const ModelDescription& model, int layer) {
    const std::string valid = "; the MoE layers are " + moe_layer_list(model);
    SY_CHECK(!model.moe_layers.empty(), UsageError, "the model has no MoE layers: similarity compares routed experts");
    SY_CHECK(layer >= 0 && layer < model.num_layers, UsageError,
             "--layer " + std::to_string(layer) + " is out of range: the model has " +
                 std::to_string(model.num_layers) + " layers (0-" + std::to_string(model.num_layers - 1) + ")" + valid);
    SY_CHECK(model.is_moe_layer(layer), UsageError,
             "--layer " + std::to_string(layer) + " is a dense layer (no experts)" + valid);
}

ExpertSimilarity run_expert_similarity(const Model& model, const SimilarityOptions& options, Progress& progress,
                                       const CancelToken& cancel) {
    const ModelDescription& d = model.description;
    check_similarity_layer(d, options.layer);
    ExpertSimilarity out;
    out.layer = options.layer;
    out.moe_index = d.moe_layer_index(options.layer);
    out.experts = d.experts_in_layer(options.layer);
    out.intermediate_size = d.expert_intermediate_size;
    out.hidden_size = d.hidden_size;
    out.shared_experts = d.shared_expert_count;
    const std::string context = "layer " + std::to_string(options.layer);
    // Weights in f32 whatever --dtype says: the similarity sums run in f32/f64, and a bf16 copy
    // would only be converted again. --dtype still sets the forward pass's dtype.
    const WeightLoader loader(model, ComputeDType::f32, parse_device(options.runner.device));
    const SimilarityExperts experts =
        guard_torch(context + ": loading experts", [&] { return load_similarity_experts(loader, options.layer); });
    const auto weights = [&] {
        guard_torch(context + ": weight similarity", [&] {
            torch::NoGradGuard no_grad;
            weight_similarity(experts, options.align, out, progress, cancel);
        });
    };
    // Over several ranks the data goes first, while all ranks are busy with it; then rank 0
    // alone compares the weights (and prints), the others are done.
    const RankGroup* ranks = options.runner.ranks.get();
    if (!ranks) weights();
    if (options.outputs) output_similarity(model, options, experts, out, progress, cancel);
    if (ranks && ranks->rank() == 0) weights();
    return out;
}

}  // namespace sy
