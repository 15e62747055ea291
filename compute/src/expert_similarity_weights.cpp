// Router-row and weight similarity of one layer's experts (issue 4 item 4; definitions in
// expert_similarity.h).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "expert_alignment.h"
#include "expert_similarity_internal.h"
#include "layer_weights.h"

namespace sy {
namespace {

// Fixed width, as wide as the output stage's line (expert_similarity_outputs.cpp): the progress
// line is redrawn in place and must never get shorter.
std::string pair_stage(int64_t done, int64_t total) {
    char text[96];
    std::snprintf(text, sizeof text, "similarity: aligning experts %10lld / %-10lld pairs %13s",
                  static_cast<long long>(done), static_cast<long long>(total), "");
    return text;
}

}  // namespace

SimilarityExperts load_similarity_experts(const WeightLoader& loader, int layer) {
    // Through the forward pass's own loader, so both expert layouts (per-expert, fused v5) and
    // FP8 dequantisation behave exactly as in trace. Shared experts are in `common`, not here.
    const std::shared_ptr<LayerWeights> weights = load_layer_weights(loader, layer, /*with_experts=*/true);
    SimilarityExperts out;
    out.router = weights->at(TensorRole::router).to(torch::kFloat32);
    out.features.reserve(weights->experts.size());
    for (const ExpertWeights& expert : weights->experts) out.features.push_back(neuron_features(expert));
    return out;
}

std::vector<double> row_cosines(const std::vector<torch::Tensor>& rows) {
    const int64_t n = static_cast<int64_t>(rows.size());
    const int64_t width = n > 0 ? rows[0].numel() : 0;
    // Gram matrix in f64, a column block at a time: sums over millions of weights need f64, and
    // one f64 copy of a whole Mixtral layer would be 11 GB.
    const int64_t block = std::max<int64_t>(1, (int64_t(1) << 24) / std::max<int64_t>(n, 1));
    torch::Tensor gram = torch::zeros({n, n}, torch::kFloat64);
    for (int64_t begin = 0; begin < width; begin += block) {
        const int64_t len = std::min(block, width - begin);
        std::vector<torch::Tensor> parts;
        for (const torch::Tensor& row : rows) parts.push_back(row.reshape({-1}).narrow(0, begin, len));
        const torch::Tensor chunk = torch::stack(parts).to(torch::kFloat64);
        gram += torch::matmul(chunk, chunk.t()).to(torch::kCPU);
    }
    const double* g = gram.data_ptr<double>();
    std::vector<double> out(static_cast<std::size_t>(n * n));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
            out[static_cast<std::size_t>(i * n + j)] =
                cosine_from_dot(g[i * n + j], std::sqrt(g[i * n + i]), std::sqrt(g[j * n + j]));
    return out;
}

void weight_similarity(const SimilarityExperts& experts, bool align, ExpertSimilarity& out, Progress& progress,
                       const CancelToken& cancel) {
    const int64_t e_count = static_cast<int64_t>(experts.features.size());
    out.router = row_cosines(experts.router.unbind(0));
    out.weights_unaligned = row_cosines(experts.features);
    if (!align) return;
    std::vector<double> norms;   // f64, like the solver's scores: a permuted copy must give 1 to ~1e-12
    for (const torch::Tensor& f : experts.features) norms.push_back(f.to(torch::kFloat64).norm().item<double>());
    const int64_t inter = out.intermediate_size, pairs = e_count * (e_count - 1) / 2;
    out.weights_aligned.assign(static_cast<std::size_t>(e_count * e_count), 0.0);
    out.aligned_permutation.assign(static_cast<std::size_t>(e_count * e_count * inter), -1);
    int64_t done = 0;
    for (int64_t i = 0; i < e_count; ++i) {
        // The identity is optimal against itself; keep the diagonal the plain self-cosine.
        out.weights_aligned[static_cast<std::size_t>(i * e_count + i)] =
            out.weights_unaligned[static_cast<std::size_t>(i * e_count + i)];
        for (int64_t j = i + 1; j < e_count; ++j) {
            cancel.throw_if_cancelled();   // per pair: one solve is the unit of work
            progress.report(double(done) / double(pairs), pair_stage(done, pairs));
            const PairAlignment pair = align_neurons(experts.features[static_cast<std::size_t>(i)],
                                                     experts.features[static_cast<std::size_t>(j)]);
            const double cos = cosine_from_dot(pair.dot_aligned, norms[static_cast<std::size_t>(i)],
                                               norms[static_cast<std::size_t>(j)]);
            // max over permutations of <A, P B> is symmetric (P^-1 for the swapped pair).
            out.weights_aligned[static_cast<std::size_t>(i * e_count + j)] = cos;
            out.weights_aligned[static_cast<std::size_t>(j * e_count + i)] = cos;
            std::copy(pair.permutation.begin(), pair.permutation.end(),
                      out.aligned_permutation.begin() + (i * e_count + j) * inter);
            ++done;
        }
    }
    progress.report(1.0, pair_stage(done, pairs));
}

}  // namespace sy
