#pragma once
// Neuron-permutation alignment of two SwiGLU experts (issue 4 item 4; analysis.md §7, the
// MC-SMoE / REAP weight-matching primitive). An expert's intermediate neuron n is row n of gate
// and up and column n of down; permuting neurons consistently leaves the expert's function
// unchanged, so similarity "after alignment" is the largest cosine over such permutations.
// Torch inside compute/ only; the torch-free entry point is align_experts (expert_similarity.h).
#include <torch/types.h>

#include <vector>

#include "weights/layer_weights.h"

namespace sy {

// [I, 3H] f32 on the weights' device: row n = [gate[n, :], up[n, :], down[:, n]].
torch::Tensor neuron_features(const ExpertWeights& expert);

struct PairAlignment {
    std::vector<int32_t> permutation;   // [I] row of b matched to row n of a
    double dot_unaligned = 0;           // <A, B> as stored
    double dot_aligned = 0;             // <A, P B> with the optimal permutation P
};

// a, b: neuron features [I, 3H] of two experts. Solves the I x I assignment maximising the
// summed row inner products: an f32 score matmul on the features' device, then the Hungarian
// method on the host (O(I^3); I = 1408, H = 2048: ~0.4 s matmul + 0.15 s solve on one core).
PairAlignment align_neurons(const torch::Tensor& a, const torch::Tensor& b);

// sum_n <a[n], b[rows_of_b[n]]> (rows_of_b null: b[n]) with f64 sums; a, b [rows, ...] f32.
double dot_f64(const torch::Tensor& a, const torch::Tensor& b, const std::vector<int32_t>* rows_of_b = nullptr);

// <a, b> / (|a| |b|) in f64; NaN when either norm is 0.
double cosine_from_dot(double dot, double norm_a, double norm_b);

}  // namespace sy
