#include "tensor_bytes.h"

#include <cstring>

#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_convert.h"

namespace sy {

std::vector<unsigned char> encode_f32(const std::vector<float>& values, DType dtype, const std::string& what) {
    std::vector<unsigned char> out;
    if (dtype == DType::f32) {
        out.resize(values.size() * 4);
        std::memcpy(out.data(), values.data(), out.size());
        return out;
    }
    SY_CHECK(dtype == DType::bf16 || dtype == DType::f16, ShapeMismatch,
             what + ": cannot store computed values as " + std::string(dtype_name(dtype)));
    out.resize(values.size() * 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const uint16_t bits = dtype == DType::bf16 ? f32_to_bf16_bits(values[i]) : f32_to_f16_bits(values[i]);
        out[2 * i] = static_cast<unsigned char>(bits & 0xFF);
        out[2 * i + 1] = static_cast<unsigned char>(bits >> 8);
    }
    return out;
}

std::vector<float> decode_to_f32(const unsigned char* bytes, std::size_t count, DType dtype, const std::string& what) {
    std::vector<float> out(count);
    switch (dtype) {
        case DType::f32: std::memcpy(out.data(), bytes, count * 4); break;
        case DType::bf16:
        case DType::f16:
            for (std::size_t i = 0; i < count; ++i) {
                const auto bits = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
                out[i] = dtype == DType::bf16 ? bf16_bits_to_f32(bits) : f16_bits_to_f32(bits);
            }
            break;
        default: throw ShapeMismatch(what + ": cannot read " + std::string(dtype_name(dtype)) + " as f32 here");
    }
    return out;
}

void round_to_storage(std::vector<float>& values, DType dtype, int64_t rows, int64_t cols, int64_t block_rows,
                      int64_t block_cols, const std::string& what) {
    if (dtype == DType::f32) return;
    if (dtype == DType::f8_e4m3) {
        const Fp8Blocks q = quantize_fp8_blocks(values, rows, cols, block_rows, block_cols);
        const int64_t grid_cols = (cols + block_cols - 1) / block_cols;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
                const auto i = static_cast<std::size_t>(r * cols + c);
                values[i] = f8_e4m3_bits_to_f32(q.bytes[i]) * q.scale_inv[static_cast<std::size_t>((r / block_rows) * grid_cols + c / block_cols)];
            }
        return;
    }
    const std::vector<unsigned char> bytes = encode_f32(values, dtype, what);
    values = decode_to_f32(bytes.data(), values.size(), dtype, what);
}

}  // namespace sy
