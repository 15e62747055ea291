#pragma once
// Shapes and stored dtypes of trained tensors (training.h ParameterRef), from checkpoint headers.
#include <cstdint>
#include <vector>

#include "switchyard/compute/training.h"
#include "switchyard/core/dtype.h"

namespace sy {

// [I, H] gate/up, [H, I] down for expert parts (the slice of a fused tensor); the stored shape
// for whole tensors. UsageError for a ref without a tensor.
std::vector<int64_t> parameter_shape(const Model& model, const ParameterRef& ref);
// The dtype the checkpoint stores the tensor (or its fused tensor) in.
DType parameter_storage_dtype(const Model& model, const ParameterRef& ref);

}  // namespace sy
