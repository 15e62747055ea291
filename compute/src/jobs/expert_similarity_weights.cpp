// Router-row and weight similarity of one layer's experts (definitions in
// expert_similarity.h).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "jobs/expert_alignment.h"
#include "jobs/expert_similarity_internal.h"
#include "weights/layer_weights.h"

namespace sy {
namespace {

// Fixed width, as wide as the output stage's line (expert_similarity_outputs.cpp): the progress
// line is redrawn in place and must never get shorter.
void report_pairs(Progress& progress, int64_t done, int64_t total) {
    char text[96];
    std::snprintf(text, sizeof text, "similarity: aligning experts %10lld / %-10lld pairs %13s",
                  static_cast<long long>(done), static_cast<long long>(total), "");
    progress.update({"similarity: aligning experts", total ? double(done) / double(total) : 1.0, done, total, "pairs",
                     text});
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

void accumulate_gram(torch::Tensor& gram, const torch::Tensor& rows) {
    // f32 products within a block of 2^16 columns (BLAS), f64 sums across blocks: sums over
    // millions of values keep ~1e-7 relative accuracy without an f64 copy of the operands (an
    // f32 -> f64 conversion costs more than the matmul with Debian's LibTorch).
    const int64_t block = int64_t(1) << 16, width = rows.size(1);
    for (int64_t begin = 0; begin < width; begin += block) {
        const torch::Tensor chunk = rows.narrow(1, begin, std::min(block, width - begin));
        gram += torch::matmul(chunk, chunk.t()).to(torch::kCPU).to(torch::kFloat64);
    }
}

std::vector<double> gram_cosines(const torch::Tensor& gram) {
    const int64_t n = gram.size(0);
    const torch::Tensor g = gram.contiguous();
    const double* v = g.data_ptr<double>();
    std::vector<double> out(static_cast<std::size_t>(n * n));
    // f32 block products are not bitwise symmetric (BLAS orders the sums differently for i, j
    // and j, i) and may exceed Cauchy-Schwarz by an ulp: average the halves and clamp.
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const double dot = 0.5 * (v[i * n + j] + v[j * n + i]);
            const double cos = cosine_from_dot(dot, std::sqrt(v[i * n + i]), std::sqrt(v[j * n + j]));
            out[static_cast<std::size_t>(i * n + j)] = std::isnan(cos) ? cos : std::clamp(cos, -1.0, 1.0);
        }
    return out;
}

std::vector<double> row_cosines(const std::vector<torch::Tensor>& rows) {
    const int64_t n = static_cast<int64_t>(rows.size());
    const int64_t width = n > 0 ? rows[0].numel() : 0;
    // A slab of columns at a time: stacking whole experts would copy the layer (5.6 GB for one
    // Mixtral-8x7B layer in f32).
    const int64_t slab = int64_t(1) << 22;
    torch::Tensor gram = torch::zeros({n, n}, torch::kFloat64);
    for (int64_t begin = 0; begin < width; begin += slab) {
        std::vector<torch::Tensor> parts;
        for (const torch::Tensor& row : rows) parts.push_back(row.reshape({-1}).narrow(0, begin, std::min(slab, width - begin)));
        accumulate_gram(gram, torch::stack(parts));
    }
    return gram_cosines(gram);
}

void weight_similarity(const SimilarityExperts& experts, bool align, ExpertSimilarity& out, Progress& progress,
                       const CancelToken& cancel) {
    const int64_t e_count = static_cast<int64_t>(experts.features.size());
    out.router = row_cosines(experts.router.unbind(0));
    out.weights_unaligned = row_cosines(experts.features);
    if (!align) return;
    std::vector<double> norms;   // f64 sums, like the aligned dot products
    for (const torch::Tensor& f : experts.features) norms.push_back(std::sqrt(dot_f64(f, f)));
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
            report_pairs(progress, done, pairs);
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
    report_pairs(progress, done, pairs);
}

}  // namespace sy
