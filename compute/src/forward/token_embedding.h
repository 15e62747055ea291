#pragma once
// The embedding lookup: rows of the token embedding, in the compute dtype.
#include <torch/types.h>

namespace sy {

// table [V, H] as loaded (loaded_dtype: an untied BF16 / F16 table stays in that dtype under f32
// compute), ids [N] int64 -> [N, H] in `dtype`. Widening the gathered rows gives the same values
// as gathering from a widened table (BF16 / F16 -> f32 is exact).
torch::Tensor embed_tokens(const torch::Tensor& table, const torch::Tensor& ids, torch::ScalarType dtype);

}  // namespace sy
