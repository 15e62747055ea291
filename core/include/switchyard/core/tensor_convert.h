#pragma once
// Per-tensor dtype conversion on demand (no LibTorch). Float formats only.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "switchyard/core/checkpoint.h"

namespace sy {

// Any float dtype -> f32 (F8_E4M3 values without their block scale).
std::vector<float> to_f32(const TensorView& view);

// DeepSeek FP8: weight [R, C] in F8_E4M3 times its F32 `<name>_scale_inv` [ceil(R/br), ceil(C/bc)],
// block [br, bc] (quantization_config.weight_block_size); edge blocks may be partial.
// Throws ShapeMismatch naming both tensors when the scale grid does not fit.
std::vector<float> dequantize_fp8_blocks(const TensorView& weight, const TensorView& scale_inv,
                                         int64_t block_rows, int64_t block_cols);

// gpt-oss MXFP4 (formats.md §6.2, transformers integrations/mxfp4.py `convert_moe_packed_tensors`):
// `groups` blocks of 32 values, each 16 bytes of `blocks` (byte j: value 2j in the low nibble,
// 2j+1 in the high one, E2M1 with bit 3 the sign) and one E8M0 byte of `scales` (2^(s - 127)),
// written to out[32 * groups] in order. Blocks [..., rows, cols/32, 16] with scales
// [..., rows, cols/32] therefore give the row-major [..., rows, cols] values.
void dequantize_mxfp4(const uint8_t* blocks, const uint8_t* scales, int64_t groups, float* out);

// f32 -> bf16 (round to nearest even, NaN kept quiet) and f32 -> f16, as raw little-endian bits.
uint16_t f32_to_bf16_bits(float value);
uint16_t f32_to_f16_bits(float value);
float bf16_bits_to_f32(uint16_t bits);
float f16_bits_to_f32(uint16_t bits);
// n bf16 values (raw bits) -> f32, exactly (a bf16 is the top half of an f32), vectorised.
// In place is allowed in one arrangement: `in` == reinterpret_cast<uint16_t*>(out) + n, i.e.
// the bf16 bytes were read into the upper half of the f32 destination; values are widened front
// to back and each store ends at or before the next unread input, so nothing is overwritten
// before it is read. This is how the weight loader converts with no staging buffer.
void bf16_to_f32(const uint16_t* in, float* out, std::size_t n);
float f8_e4m3_bits_to_f32(uint8_t bits);
float f8_e5m2_bits_to_f32(uint8_t bits);
// f32 -> float8_e4m3fn, round to nearest even, saturating to +-448 (the format has no
// infinities); NaN -> 0x7F.
uint8_t f32_to_f8_e4m3_bits(float value);

// DeepSeek FP8 block quantisation (the inverse of dequantize_fp8_blocks): per block,
// scale_inv = amax / 448 (1 for an all-zero block), stored value = e4m3(v / scale_inv).
// values [rows, cols] row-major -> (bytes [rows, cols], scale_inv [ceil(rows/br), ceil(cols/bc)]).
struct Fp8Blocks {
    std::vector<uint8_t> bytes;
    std::vector<float> scale_inv;
};
Fp8Blocks quantize_fp8_blocks(const std::vector<float>& values, int64_t rows, int64_t cols, int64_t block_rows,
                              int64_t block_cols);

}  // namespace sy
