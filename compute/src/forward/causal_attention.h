#pragma once
#include <torch/types.h>

#include "forward/batch_layout.h"

namespace sy {

// Causal softmax attention within each sequence (formats.md §2.4): scores = q.k^T * scale,
// softmax in f32, cast back, times v. q, k [N, heads, dq], v [N, heads, dv] (rows = batch
// tokens); returns [N, heads * dv]. Sequences of equal length run as one batched matmul, in
// pieces (sequences, then heads, then query rows) whose f32 scores stay under 4 MiB, so the
// element-wise passes over them run from cache; the result does not depend on the pieces.
// `window` > 0: query q sees only keys q - window < j <= q (transformers' sliding_window_overlay
// in masking_utils.py). `sinks` [heads] (gpt-oss): one extra logit per head joins each softmax
// and its probability is dropped (formats.md §6.4).
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const BatchLayout& batch, int64_t window = 0, const torch::Tensor& sinks = {});

}  // namespace sy
