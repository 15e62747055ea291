#pragma once
// The two halves of run_expert_similarity (expert_similarity_job.cpp): weight-based matrices
// (expert_similarity_weights.cpp) and output-based ones (expert_similarity_outputs.cpp). Torch
// inside compute/ only.
#include <torch/types.h>

#include <vector>

#include "switchyard/compute/expert_similarity.h"
#include "weights/weight_loader.h"

namespace sy {

// One layer's routed experts as the similarity code uses them, f32 on the compute device.
struct SimilarityExperts {
    torch::Tensor router;                 // [E, H]
    std::vector<torch::Tensor> features;  // E x [I, 3H], see neuron_features
};

SimilarityExperts load_similarity_experts(const WeightLoader& loader, int layer);

// gram [E, E] f64 CPU += rows rows^T for rows [E, D] f32 (any device).
void accumulate_gram(torch::Tensor& gram, const torch::Tensor& rows);
// [E, E] Gram matrix -> cosines, NaN where a diagonal entry is 0.
std::vector<double> gram_cosines(const torch::Tensor& gram);

// E tensors of equal size -> [E, E] cosines of their flattened values, f64, NaN for zero ones.
std::vector<double> row_cosines(const std::vector<torch::Tensor>& rows);

// Fills router, weights_unaligned and (options.align) weights_aligned + aligned_permutation.
void weight_similarity(const SimilarityExperts& experts, bool align, ExpertSimilarity& out, Progress& progress,
                       const CancelToken& cancel);

// Runs the data through the model, captures the MoE-block input at out.layer and fills
// out.outputs and out.tokens.
void output_similarity(const Model& model, const SimilarityOptions& options, const SimilarityExperts& experts,
                       ExpertSimilarity& out, Progress& progress, const CancelToken& cancel);

}  // namespace sy
