#pragma once
// The gated delta rule of Gated DeltaNet (Yang et al. 2024, arXiv:2412.06464) as Qwen3-Next uses
// it (transformers models/qwen3_next/modeling_qwen3_next.py). Like torch_bridge.h, include this
// only from compute/ sources and compute tests: it exposes LibTorch types.
//
// Per head, with the state S [dk, dv] starting at zero, for t = 0 .. T-1:
//   S <- exp(g_t) S;   S <- S + k_t (beta_t (v_t - S^T k_t))^T;   o_t = S^T q_t
// q and k are l2-normalised over dk (x / sqrt(sum x^2 + 1e-6)) and q is scaled by dk^-1/2 first.
#include <torch/types.h>

namespace sy {

// q, k [B, heads, T, dk], v [B, heads, T, dv], g (log decay, <= 0), beta [B, heads, T], any float
// dtype; computed in f32. Returns o [B, heads, T, dv] in f32.
// The chunked form transformers runs for prefill (`torch_chunk_gated_delta_rule`, chunks of 64):
// a few batched matmuls per chunk instead of T sequential steps.
torch::Tensor chunk_gated_delta_rule(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& g, const torch::Tensor& beta, int64_t chunk_size = 64);
// The recurrence itself (`torch_recurrent_gated_delta_rule`), one step per token: the reference
// the chunked form is tested against.
torch::Tensor recurrent_gated_delta_rule(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         const torch::Tensor& g, const torch::Tensor& beta);

}  // namespace sy
