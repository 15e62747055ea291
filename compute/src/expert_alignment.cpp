#include "expert_alignment.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/hungarian.h"
#include "torch_errors.h"

namespace sy {

torch::Tensor neuron_features(const ExpertWeights& expert) {
    return torch::cat({expert.gate, expert.up, expert.down.t()}, 1).to(torch::kFloat32).contiguous();
}

PairAlignment align_neurons(const torch::Tensor& a, const torch::Tensor& b) {
    SY_CHECK(a.sizes() == b.sizes(), ShapeMismatch,
             "cannot align experts of different shapes " + shape_to_string(a.sizes().vec()) + " and " +
                 shape_to_string(b.sizes().vec()));
    const int rows = static_cast<int>(a.size(0));
    // Scores in f64 on the host: the solver needs them there, and a permuted copy must come out
    // at cosine 1 to ~1e-12, not to f32's 1e-6.
    const torch::Tensor score = torch::matmul(a.to(torch::kFloat64), b.to(torch::kFloat64).t()).to(torch::kCPU).contiguous();
    const double* s = score.data_ptr<double>();
    std::vector<double> cost(static_cast<std::size_t>(rows) * rows);
    for (std::size_t i = 0; i < cost.size(); ++i) cost[i] = -s[i];   // the solver minimises
    PairAlignment out;
    const std::vector<int> match = hungarian(cost, rows, rows);
    out.permutation.assign(match.begin(), match.end());
    for (int n = 0; n < rows; ++n) {
        out.dot_unaligned += s[static_cast<std::size_t>(n) * rows + n];
        out.dot_aligned += s[static_cast<std::size_t>(n) * rows + match[static_cast<std::size_t>(n)]];
    }
    return out;
}

double cosine_from_dot(double dot, double norm_a, double norm_b) {
    if (norm_a <= 0 || norm_b <= 0) return std::numeric_limits<double>::quiet_NaN();
    return dot / (norm_a * norm_b);
}

namespace {

torch::Tensor features_of(const ExpertArrays& e) {
    auto wrap = [](const float* data, int64_t rows, int64_t cols) {
        return torch::from_blob(const_cast<float*>(data), {rows, cols}, torch::kFloat32);
    };
    const ExpertWeights weights{wrap(e.gate, e.intermediate, e.hidden), wrap(e.up, e.intermediate, e.hidden),
                                wrap(e.down, e.hidden, e.intermediate)};
    return neuron_features(weights);
}

double norm_of(const torch::Tensor& features) { return features.to(torch::kFloat64).norm().item<double>(); }

}  // namespace

ExpertAlignment align_experts(const ExpertArrays& a, const ExpertArrays& b) {
    SY_CHECK(a.intermediate == b.intermediate && a.hidden == b.hidden, ShapeMismatch,
             "cannot align an expert [I=" + std::to_string(a.intermediate) + ", H=" + std::to_string(a.hidden) +
                 "] with one [I=" + std::to_string(b.intermediate) + ", H=" + std::to_string(b.hidden) + "]");
    return guard_torch("aligning experts", [&] {
        torch::NoGradGuard no_grad;
        const torch::Tensor fa = features_of(a), fb = features_of(b);
        const PairAlignment pair = align_neurons(fa, fb);
        const double na = norm_of(fa), nb = norm_of(fb);
        return ExpertAlignment{pair.permutation, cosine_from_dot(pair.dot_unaligned, na, nb),
                               cosine_from_dot(pair.dot_aligned, na, nb)};
    });
}

}  // namespace sy
