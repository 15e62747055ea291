#pragma once
#include <torch/types.h>

#include "forward/batch_layout.h"

namespace sy {

// Causal softmax attention within each sequence (formats.md §2.4): scores = q.k^T * scale,
// softmax in f32, cast back, times v. q, k [N, heads, dq], v [N, heads, dv] (rows = batch
// tokens); returns [N, heads * dv]. Sequences of equal length run as one batched matmul. On the
// CPU their queries go in blocks of 128 rows, each over the keys up to its last row only (the
// later ones are masked for all of its queries), and each block in pieces (sequences, then heads,
// then query rows) whose f32 scores stay under 4 MiB, so the element-wise passes over them run
// from cache. The result does not depend on the pieces; the blocks leave the masked keys' zero
// terms out of the product with v, which can move an f32 result by a rounding step.
// `window` > 0: query q sees only keys q - window < j <= q (transformers' sliding_window_overlay
// in masking_utils.py). `sinks` [heads] (gpt-oss): one extra logit per head joins each softmax
// and its probability is dropped (formats.md §6.4).
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               const BatchLayout& batch, int64_t window = 0, const torch::Tensor& sinks = {});

// causal_attention with the f32 score budget of a piece (bytes) and the query rows of a block
// given instead of the device's (tests exercise the pieces with them).
torch::Tensor causal_attention_in_pieces(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         double scale, const BatchLayout& batch, int64_t window,
                                         const torch::Tensor& sinks, int64_t budget_bytes, int64_t block_rows);

}  // namespace sy
