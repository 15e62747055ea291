#pragma once
// Final norm -> lm_head -> per-token NLL (and optionally the logits), in token chunks so the
// [N, V] logits never exist at once unless the caller asked for them.
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

}  // namespace sy
