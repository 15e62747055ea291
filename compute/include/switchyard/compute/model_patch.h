#pragma once
// Changes applied to a model's weights and routing as the forward pass loads them, without
// touching the checkpoint: inference-time expert masks (MoTE / SteerMoE-style switching,
// editing.md §4.2) and the in-memory form of an expert edit that the edit preview runs
// (editing.md §8 item 4: see what an edit does before writing it). No torch here.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "switchyard/core/expert_selection.h"

namespace sy {

struct ModelDescription;

// Model-layer index -> experts that are never selected (no weights change). A masked expert's
// router logit is treated as -inf, exactly what slicing its router row does (editing.md §2.7).
using ExpertMask = ExpertsByLayer;

// Throws UsageError unless every layer is a MoE layer of `model`, every expert exists and each
// masked layer keeps at least top_k experts; `flag` names the option in messages.
void check_expert_mask(const ModelDescription& model, const ExpertMask& mask, const std::string& flag);

// One routed expert's weights in f32, row-major: gate/up [I, H], down [H, I]; biases [I], [I],
// [H] only for families whose experts have them (gpt-oss), else empty.
struct ExpertTensorsF32 {
    std::vector<float> gate, up, down;
    std::vector<float> gate_bias, up_bias, down_bias;
};

struct LayerPatch {
    std::map<int, std::vector<float>> router_rows;   // expert -> replaced router row [H]
    std::map<int, float> score_bias;                 // expert -> replaced per-expert router bias entry
                                                     //   (e_score_correction_bias, or gpt-oss router.bias)
    std::vector<int> replaced_experts;               // weights from ModelPatch::expert_weights
};

struct ModelPatch {
    std::map<int, LayerPatch> layers;   // model-layer index -> changes (MoE layers only)
    // Weights of a replaced expert. Called when the layer (or, streamed, the expert) is loaded,
    // on the compute thread or the runner's prefetch thread: must be safe to call from any
    // thread and return the same values for the same arguments.
    std::function<ExpertTensorsF32(int layer, int expert)> expert_weights;
};

}  // namespace sy
