#pragma once
// Routed experts as one grouped GEMM per projection on CUDA (issue 3 items 1 and 8): tokens
// sorted by expert, `at::_grouped_mm` over the expert-stacked weights with per-expert row
// offsets, instead of one GEMM launch per expert. `at::_grouped_mm` exists from PyTorch 2.8
// (CUTLASS bf16 kernel on SM90+); Debian's LibTorch 1.13 has none, so there this compiles to
// "unavailable" and moe_block keeps its per-expert loop over the grouped tokens.
// Compute thread only.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace sy {

// A layer's routed experts stacked along a leading expert axis, in the checkpoint's [out, in]
// orientation; undefined tensors when the layer keeps per-expert tensors instead.
struct StackedExperts {
    torch::Tensor gate_up;   // [E, 2I, H]: rows [0, I) gate_proj, [I, 2I) up_proj
    torch::Tensor down;      // [E, H, I]
    bool defined() const { return gate_up.defined() && down.defined(); }
};

// True when this build and LibTorch can run grouped GEMM for weights of `dtype` on `device`
// (CUDA, bf16, PyTorch >= 2.8, built with SWITCHYARD_CUDA), and no earlier call failed.
bool grouped_gemm_available(const torch::Device& device, torch::ScalarType dtype);

// x_sorted [M, H] (rows grouped by expert, counts[e] rows for expert e, M = sum of counts)
// -> [M, H] = down_e(silu(gate_e x) * up_e x) per row. Returns an undefined tensor when the
// grouped kernel refused the problem (e.g. PyTorch 2.8 on a pre-SM90 GPU); the caller then
// runs its per-expert loop, and later calls report unavailable.
torch::Tensor grouped_expert_mlp(const StackedExperts& experts, const torch::Tensor& x_sorted,
                                 const std::vector<int64_t>& counts);

}  // namespace sy
