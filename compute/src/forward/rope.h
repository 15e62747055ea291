#pragma once
// Rotary position embeddings (formats.md §2.3, §10): inverse frequencies for the default,
// linear, dynamic, YaRN and Llama-3 rope types, per-token cos/sin tables, and the two pairings
// (half-split and DeepSeek's interleaved pairs).
#include <torch/types.h>

#include "switchyard/core/model_config.h"

namespace sy {

struct RopeFrequencies {
    torch::Tensor inv_freq;          // [rotary_dim / 2] f32 on the CPU
    double attention_factor = 1.0;   // multiplies cos and sin (YaRN amplitude)
};

// Throws ConfigError for rope types we do not implement. `longest_sequence` only matters for
// the dynamic type (HF recomputes the base when a sequence outgrows max_position_embeddings).
RopeFrequencies rope_frequencies(const ModelDescription& model, int64_t longest_sequence = 0);

// MLA softmax-scale factor mscale(factor, mscale_all_dim)^2 when YaRN sets mscale_all_dim,
// else 1 (formats.md §5.3 step 6).
double yarn_softmax_scale_factor(const RopeConfig& rope);

struct RopeTables {
    torch::Tensor cos;   // [N, 1, rotary_dim / 2] in the activation dtype (HF casts cos/sin)
    torch::Tensor sin;
};

// positions [N] int64 on the compute device.
RopeTables rope_tables(const RopeFrequencies& frequencies, const torch::Tensor& positions, torch::ScalarType dtype);

// Rotates x [N, heads, rotary_dim] (all of its last dim) with the given pairing.
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables, RopePairing pairing);

}  // namespace sy
