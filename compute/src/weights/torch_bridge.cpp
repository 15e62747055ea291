#include "switchyard/compute/torch_bridge.h"

#include <torch/torch.h>

#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_convert.h"

namespace sy {
torch::ScalarType torch_scalar_type(const TensorInfo& info) {
    switch (info.dtype) {
        case DType::f32: return torch::kFloat32;
        case DType::f16: return torch::kFloat16;
        case DType::bf16: return torch::kBFloat16;
        case DType::f64: return torch::kFloat64;
        case DType::i64: return torch::kInt64;
        case DType::i32: return torch::kInt32;
        case DType::i16: return torch::kInt16;
        case DType::i8: return torch::kInt8;
        case DType::u8: return torch::kUInt8;
        case DType::boolean: return torch::kBool;
        default:
            // LibTorch 1.13 has no float8 types: those go through load_as_torch's CPU path.
            throw ShapeMismatch("tensor " + info.name + ": dtype " + std::string(dtype_name(info.dtype)) +
                                " has no LibTorch equivalent; load it converted");
    }
}

torch::Tensor view_as_torch(const TensorView& view) {
    const TensorInfo& info = *view.info;
    auto options = torch::TensorOptions().dtype(torch_scalar_type(info));
    return torch::from_blob(const_cast<std::byte*>(view.data), info.shape, options);
}

torch::Tensor load_as_torch(const TensorView& view, torch::ScalarType dtype, const TensorView* scale_inv,
                            int64_t block_rows, int64_t block_cols) {
    const TensorInfo& info = *view.info;
    try {
        if (info.dtype == DType::f8_e4m3 || info.dtype == DType::f8_e5m2) {
            std::vector<float> values = scale_inv ? dequantize_fp8_blocks(view, *scale_inv, block_rows, block_cols)
                                                  : to_f32(view);
            return torch::from_blob(values.data(), info.shape, torch::kFloat32).to(dtype, /*non_blocking=*/false,
                                                                                   /*copy=*/true);
        }
        return view_as_torch(view).to(dtype, false, /*copy=*/true);
    } catch (const c10::Error& e) {
        throw ShapeMismatch("tensor " + info.name + ": " + e.what_without_backtrace());
    }
}

}  // namespace sy
