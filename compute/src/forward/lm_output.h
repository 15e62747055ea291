#pragma once
// Final norm -> lm_head -> per-token NLL (and optionally the logits), in token chunks so the
// [N, V] logits never exist at once unless the caller asked for them; on the CPU the f32 copy
// and log-softmax of each chunk run in pieces of a few rows that stay in cache.
#include <torch/types.h>

#include "forward/batch_layout.h"
#include "switchyard/compute/model_runner.h"

namespace sy {

struct LmHeadWeights {
    torch::Tensor final_norm;   // [H]
    torch::Tensor lm_head;      // [V, H] (the embedding when tied)
    double eps = 1e-6;
};

// h [N, H] after the last layer. Fills out.nll [N] (NaN at sequence ends) and, when
// `want_logits`, out.logits [N, V] f32.
void lm_output(const LmHeadWeights& weights, const torch::Tensor& h, const BatchLayout& batch, bool want_logits,
               BatchOutput& out);

// The pieces lm_output runs per chunk, shared with training (which backpropagates through them):
// rows of the [chunk, V] f32 logits kept under 256 MiB,
int64_t logits_chunk_rows(int64_t vocab);
// logits [n, V] f32 of normed rows [n, H] (the final norm already applied),
torch::Tensor lm_logits(const LmHeadWeights& weights, const torch::Tensor& normed);
// and the next-token NLL [n] f32 of `targets` [n] int64 (no masking): logsumexp(z) - z[target].
torch::Tensor token_nll(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace sy
