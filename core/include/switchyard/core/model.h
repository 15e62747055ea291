#pragma once
// A model folder opened and validated in one call: config.json read, checkpoint headers read,
// every tensor the family implies checked up front (style.md rule 3). No tensor data is read.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "switchyard/core/checkpoint.h"
#include "switchyard/core/model_config.h"
#include "switchyard/core/model_validation.h"

namespace sy {

struct Model {
    ModelDescription description;
    Checkpoint checkpoint;
    ExpertLayout layout = ExpertLayout::per_expert;
};

// Throws ConfigError / UnknownArchitecture / CheckpointError / ShapeMismatch / IoError.
Model open_model(const std::filesystem::path& dir);

// Parameter counts (elements, not bytes) over the tensors the forward pass uses
// (expected_tensors): FP8 `_scale_inv` grids, rotary buffers and DeepSeek's MTP layer are not
// parameters of the model, so DeepSeek-V3 counts 671B, not the 685B of its files.
// Active parameters per token, in the two conventions model cards use:
// - params_active (Mixtral's "12.9B active of 46.7B"): every non-routed-expert parameter
//   (embeddings, lm_head, attention, norms, routers, dense MLPs, shared experts) plus top_k
//   routed experts in each MoE layer. Tied embeddings count once.
// - params_active_without_embedding (DeepSeek's "2.4B active" for V2-Lite, "37B" for V3): the
//   same less the input embedding, which is a table lookup, not compute. With tied embeddings the
//   matrix still does the lm_head's work, so nothing is subtracted.
struct ModelSummary {
    int64_t params_total = 0;
    int64_t params_active = 0;
    int64_t params_active_without_embedding = 0;
    int64_t params_routed_experts = 0;       // all routed experts, all layers
    std::map<std::string, int64_t> dtypes;   // "BF16" -> tensor count, over every tensor in the files
    std::vector<std::string> files;          // shard names relative to the model folder
    int64_t tensor_count = 0;                // every tensor in the files, extras included
    uint64_t tensor_bytes = 0;
};

// Parameter counts from the description alone (same numbers for either expert layout).
struct ParamCounts {
    int64_t total = 0;
    int64_t active = 0;
    int64_t active_without_embedding = 0;
    int64_t routed_experts = 0;
};
ParamCounts count_params(const ModelDescription& model);

ModelSummary summarize(const Model& model);

}  // namespace sy
