#pragma once
// What an edit does before it is written (editing.md §8 item 4): the model and its edited form
// (a ModelPatch: masks, replaced router rows, biases and expert weights, exactly as the export
// will store them) run on the same tokens. Reports, per MoE layer, the relative error of the
// edited MoE block's output on the ORIGINAL model's block inputs (the layer-wise criterion of
// NAEE, editing.md §2.1: sqrt(sum |y' - y|^2 / sum |y|^2)), and the per-domain next-token loss
// of both models. No torch here; thread rules as trace_job.h.
#include <cstdint>
#include <memory>
#include <vector>

#include "switchyard/compute/model_patch.h"
#include "switchyard/compute/trace_job.h"

namespace sy {

struct PreviewResult {
    std::vector<int> layers;             // MoE layers (model-layer indices)
    std::vector<double> relative_error;  // one per layer
    EvalResult before, after;            // per-domain NLL of the original and the edited model
    int64_t tokens = 0;
};

// `edited` is options.runner plus the edit: its masks (added to the runner's own) and patch.
// Both models are held at once (each under options.runner.max_memory_bytes when set).
// Throws as run_eval; Cancelled between batches.
PreviewResult run_edit_preview(const Model& model, const ExpertMask& edited_masks, std::shared_ptr<const ModelPatch> patch,
                               const EvalOptions& options, Progress& progress, const CancelToken& cancel);

}  // namespace sy
