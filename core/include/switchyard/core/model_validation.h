#pragma once
// Up-front checkpoint validation (style.md rule 3, after llama.cpp `llama-model-loader.cpp`):
// before any compute, every tensor the family row implies must exist with the right shape and
// a supported dtype. Messages name file, tensor, expected and found, e.g.
//   model-00003-of-00004.safetensors: model.layers.7.mlp.gate.weight: expected shape [64, 2048], found [60, 2048]
// Tensors the forward pass does not use (rotary inv_freq buffers, DeepSeek's MTP layer
// `model.layers.<num_hidden_layers>.*`) are ignored. Pure functions; any thread.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/core/checkpoint.h"
#include "switchyard/core/family.h"   // ExpertLayout
#include "switchyard/core/model_config.h"

namespace sy {

// Fused when the first MoE layer holds `mlp.experts.down_proj` (v5, formats.md §0.1), else the
// Hub per-expert layout (also for dense models).
ExpertLayout detect_expert_layout(const ModelDescription& model, const Checkpoint& checkpoint);

struct ExpectedTensor {
    std::string name;
    std::vector<int64_t> shape;   // logical shape, [out, in] for linear weights
    int expert_layer = -1;        // MoE layer of a routed-expert tensor, else -1
};

// Every tensor the forward pass needs, in layer order: embeddings, per-layer norms, attention,
// dense MLP or router + experts (+ shared experts, + DeepSeek-V3 e_score_correction_bias),
// final norm, lm_head unless tie_word_embeddings. FP8 `_scale_inv` siblings are not listed:
// they exist only for tensors stored as F8_E4M3 (see fp8_scale_shape).
std::vector<ExpectedTensor> expected_tensors(const ModelDescription& model, ExpertLayout layout);

// Shape of the F32 `<name>_scale_inv` of an F8_E4M3 tensor of `shape` [..., R, C] with block
// [b0, b1]: [..., ceil(R/b0), ceil(C/b1)].
std::vector<int64_t> fp8_scale_shape(const std::vector<int64_t>& shape, const std::array<int64_t, 2>& block);

// MXFP4 storage of a gpt-oss fused expert weight of logical shape [E, in, out]: blocks
// [E, out, in / 32, 16] and scales [E, out, in / 32] (U8). Empty when `in` is not a multiple of 32.
struct Mxfp4Shapes {
    std::vector<int64_t> blocks, scales;
};
Mxfp4Shapes mxfp4_shapes(const std::vector<int64_t>& logical_in_out);

// True when `name` is absent and stored as MXFP4 `_blocks` + `_scales` instead.
bool stored_as_mxfp4(const Checkpoint& checkpoint, const std::string& name);

// Throws CheckpointError (missing tensor, expert count disagreeing with config.json, dtype) or
// ShapeMismatch (wrong shape); the first problem found is reported.
void validate_checkpoint(const ModelDescription& model, const Checkpoint& checkpoint);
void validate_checkpoint(const ModelDescription& model, const Checkpoint& checkpoint, ExpertLayout layout);

}  // namespace sy
