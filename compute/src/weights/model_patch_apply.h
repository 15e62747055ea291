#pragma once
// Applies a ModelPatch (model_patch.h) to weights as they are loaded: replaced router rows and
// correction-bias entries, replaced expert weights. Compute or prefetch thread.
#include <optional>

#include "weights/layer_weights.h"

namespace sy {

// Rewrites the patched parts of a freshly loaded layer in place (router and bias are cloned
// first, so no tensor shared with another layer or the checkpoint is written).
void apply_layer_patch(const WeightLoader& loader, LayerWeights& weights);

// The replacement weights of `expert` of `layer` in the loader's dtype and device, when the
// patch replaces it.
std::optional<ExpertWeights> patched_expert(const WeightLoader& loader, int layer, int expert);

}  // namespace sy
