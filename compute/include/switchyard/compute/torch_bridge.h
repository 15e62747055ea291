#pragma once
// TensorView <-> torch::Tensor (style.md 4.1 boundary: only compute/ includes torch).
// Include this only from compute/ sources and compute tests.
#include <torch/types.h>

#include "switchyard/core/checkpoint.h"

namespace sy {

// The LibTorch type of a tensor's stored dtype; throws ShapeMismatch for FP8 (LibTorch 1.13
// has no float8 types: load those with load_as_torch).
torch::ScalarType torch_scalar_type(const TensorInfo& info);

// A torch view over the mapped bytes (no copy). Valid while the Checkpoint lives; read-only
// in spirit: the mapping is PROT_READ, so writing to it faults.
torch::Tensor view_as_torch(const TensorView& view);

// Converted copy in `dtype` (kFloat32 or kBFloat16), F8_E4M3 dequantised with its block scales
// when `scale_inv` is given.
torch::Tensor load_as_torch(const TensorView& view, torch::ScalarType dtype, const TensorView* scale_inv = nullptr,
                            int64_t block_rows = 0, int64_t block_cols = 0);

}  // namespace sy
