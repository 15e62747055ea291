#pragma once
// Reading routed experts and routers as plain f32 arrays, whatever the stored dtype and layout
// (per-expert or fused, BF16/F16/F32 or DeepSeek FP8 with block scales), through the same
// weight loader the forward pass uses. For the editing code (merging, alignment); CPU only.
// No torch here. Any thread (each call reads the mapped checkpoint).
#include <cstdint>
#include <optional>
#include <vector>

#include "switchyard/compute/model_patch.h"
#include "switchyard/core/family.h"

namespace sy {

struct Model;

// gate/up [I, H], down [H, I]; biases (gpt-oss only) gate/up [I], down [H].
enum class ExpertPart { gate, up, down, gate_bias, up_bias, down_bias };

// The parts a routed expert of this model has: gate, up, down, and the three biases when the
// family's experts have biases.
std::vector<ExpertPart> expert_parts(const Model& model);

// Throws ShapeMismatch / CheckpointError from the loader.
std::vector<float> load_expert_part_f32(const Model& model, int layer, int expert, ExpertPart part);
ExpertTensorsF32 load_expert_f32(const Model& model, int layer, int expert);   // biases when the family has them
std::vector<float> load_router_f32(const Model& model, int layer);        // [E, H]
// The per-expert router bias a family has: e_score_correction_bias (selection only: DeepSeek-V3,
// GLM, MiniMax) or gpt-oss's router.bias (added to the logits); nullopt for none.
std::optional<TensorRole> router_bias_role(const FamilySpec& family);
std::vector<float> load_score_bias_f32(const Model& model, int layer);    // [E] of that bias; empty when none

}  // namespace sy
