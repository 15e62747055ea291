#pragma once
// Expert x expert similarity of one MoE layer, the groundwork expert merging
// builds on (analysis.md §7: HC-SMoE output features, MC-SMoE/REAP weight matching):
//   router             cosine of the two experts' router rows (gate.weight [E, H])
//   weights_unaligned  cosine of the experts' weights [gate; up; down^T] as stored
//   weights_aligned    the same after matching expert j's intermediate neurons to expert i's
//                      (Hungarian method): max over neuron permutations of the cosine, so a
//                      permuted copy of an expert scores 1
//   outputs            cosine of the two experts' outputs over the data's tokens, every expert
//                      run on every token's MoE-block input at that layer (not only the routed
//                      ones): sum_t <y_i(t), y_j(t)> / sqrt(sum_t |y_i(t)|^2 sum_t |y_j(t)|^2),
//                      i.e. the cosine of the [N*H] output vectors, the quantity that bounds the
//                      error of replacing one expert by the other
// Shared experts (Qwen2-MoE, DeepSeek) are never part of the matrices: they are always on, so
// merging never touches them; `shared_experts` reports how many there were.
//
// Sits in compute/ rather than analysis/ because it needs the forward pass (hidden states at
// layer L, observed through RoutingObserver) and converted expert weights (weight_loader),
// both torch; this header is torch-free so switchyard-torch and the GUI include it freely.
// Thread rules as for trace_job.h: run on one worker thread, `cancel` may be set from any.
#include <cstdint>
#include <vector>

#include "switchyard/compute/trace_job.h"
#include "switchyard/core/progress.h"

namespace sy {

struct Model;
struct ModelDescription;

struct SimilarityOptions {
    CorpusOptions corpus;   // tokens for the output similarity (same rules as trace)
    RunnerOptions runner;   // device of everything, dtype of the forward pass (the layer's
                            //   experts are compared in f32 whatever the dtype)
    int layer = -1;         // model-layer index (as in /meta/moe_layers of a trace)
    bool align = true;      // false: skip the Hungarian matching (O(I^3) per expert pair)
    bool outputs = true;    // false: skip the forward pass (weights only)
};

// Matrices are [E, E] row-major over the layer's routed experts, symmetric; NaN where an expert
// is all zeros (cosine undefined). Empty when that part was not computed.
struct ExpertSimilarity {
    int layer = 0;
    int moe_index = 0;                 // position in ModelDescription::moe_layers
    int64_t experts = 0;               // E
    int64_t intermediate_size = 0;     // I of one routed expert
    int64_t hidden_size = 0;           // H
    int64_t shared_experts = 0;        // excluded from the matrices
    int64_t tokens = 0;                // tokens behind `outputs`
    std::vector<double> router;
    std::vector<double> weights_unaligned;
    std::vector<double> weights_aligned;
    std::vector<double> outputs;
    // [E, E, I] for aligned pairs i < j: aligned_permutation[(i*E + j)*I + n] is the neuron of
    // expert j matched to neuron n of expert i (what a merge would average). Empty without align.
    std::vector<int32_t> aligned_permutation;
};

// Throws UsageError unless `layer` is a MoE layer of the model; the message names the MoE layers.
void check_similarity_layer(const ModelDescription& model, int layer);

// Throws UsageError (bad layer or options), Cancelled (between batches / expert pairs).
ExpertSimilarity run_expert_similarity(const Model& model, const SimilarityOptions& options, Progress& progress,
                                       const CancelToken& cancel);

// One SwiGLU expert as plain f32 arrays (row-major, as stored): gate/up [I, H], down [H, I].
struct ExpertArrays {
    const float* gate = nullptr;
    const float* up = nullptr;
    const float* down = nullptr;
    int64_t intermediate = 0;   // I
    int64_t hidden = 0;         // H
};

struct ExpertAlignment {
    std::vector<int32_t> permutation;   // [I] neuron of b matched to neuron n of a
    double unaligned = 0;               // cosine of the stored weights
    double aligned = 0;                 // cosine after permuting b's neurons
};

// Matches b's intermediate neurons to a's (neuron n = row n of gate and up, column n of down),
// maximising the summed inner products; throws ShapeMismatch when I or H differ. CPU, f64 sums.
ExpertAlignment align_experts(const ExpertArrays& a, const ExpertArrays& b);

}  // namespace sy
