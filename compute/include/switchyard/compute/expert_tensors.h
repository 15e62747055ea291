#pragma once
// Reading routed experts and routers as plain f32 arrays, whatever the stored dtype and layout
// (per-expert or fused, BF16/F16/F32 or DeepSeek FP8 with block scales), through the same
// weight loader the forward pass uses. For the editing code (merging, alignment); CPU only.
// No torch here. Any thread (each call reads the mapped checkpoint).
#include <cstdint>
#include <vector>

#include "switchyard/compute/model_patch.h"

namespace sy {

struct Model;

enum class ExpertPart { gate, up, down };   // gate/up [I, H], down [H, I]

// Throws ShapeMismatch / CheckpointError from the loader.
std::vector<float> load_expert_part_f32(const Model& model, int layer, int expert, ExpertPart part);
ExpertTensorsF32 load_expert_f32(const Model& model, int layer, int expert);
std::vector<float> load_router_f32(const Model& model, int layer);        // [E, H]
std::vector<float> load_score_bias_f32(const Model& model, int layer);    // [E]; empty when the family has none

}  // namespace sy
