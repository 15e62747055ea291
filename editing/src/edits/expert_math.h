#pragma once
// The arithmetic of planned experts (edit_plan.h): an expert made of weighted, neuron-permuted
// original experts, computed part by part in f32 so that peak memory is one part of each
// member, not the model. Used by the export, the preview and alignment alike.
#include <vector>

#include "switchyard/compute/expert_tensors.h"
#include "switchyard/editing/edit_plan.h"

namespace sy {

// part of `expert` (gate/up [I, H] or down [H, I], row-major) = sum_t w_t P_t(part of source t).
std::vector<float> materialize_part(const Model& model, int layer, const PlannedExpert& expert, ExpertPart part);
ExpertTensorsF32 materialize_expert(const Model& model, int layer, const PlannedExpert& expert);

}  // namespace sy
