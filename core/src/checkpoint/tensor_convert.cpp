#include "switchyard/core/tensor_convert.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "switchyard/core/errors.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sy {

float bf16_bits_to_f32(uint16_t bits) {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

void bf16_to_f32(const uint16_t* in, float* out, std::size_t n) {
    std::size_t i = 0;
#if defined(__SSE2__)
    // Interleaving zeros below each 16-bit value gives value << 16 in every 32-bit lane. Each
    // step loads 16 bytes of input before storing 32 bytes of output, which keeps the in-place
    // arrangement of the header safe: the store [4i, 4i + 32) ends at or before the next load,
    // 2n + 2(i + 8), as long as i + 8 <= n.
    const __m128i zero = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_unpacklo_epi16(zero, v));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 4), _mm_unpackhi_epi16(zero, v));
    }
#endif
    for (; i < n; ++i) {   // one value at a time: read before written, also in place
        const uint32_t u = static_cast<uint32_t>(in[i]) << 16;
        std::memcpy(out + i, &u, 4);
    }
}

uint16_t f32_to_bf16_bits(float value) {
    uint32_t u;
    std::memcpy(&u, &value, 4);
    if (std::isnan(value)) return static_cast<uint16_t>((u >> 16) | 0x40);  // keep NaN quiet
    const uint32_t rounding = 0x7FFF + ((u >> 16) & 1);                        // round to nearest even
    return static_cast<uint16_t>((u + rounding) >> 16);
}

float f16_bits_to_f32(uint16_t bits) {
    const uint32_t sign = (bits & 0x8000u) << 16;
    const uint32_t exp = (bits >> 10) & 0x1F;
    const uint32_t mant = bits & 0x3FF;
    float magnitude;
    if (exp == 0)
        magnitude = std::ldexp(static_cast<float>(mant), -24);
    else if (exp == 31)
        magnitude = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else
        magnitude = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
    uint32_t u;
    std::memcpy(&u, &magnitude, 4);
    u |= sign;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

uint16_t f32_to_f16_bits(float value) {
    uint32_t u;
    std::memcpy(&u, &value, 4);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
    const float a = std::fabs(value);
    if (std::isnan(value)) return sign | 0x7E00;
    if (a >= 65520.0f) return sign | 0x7C00;  // rounds to infinity
    if (a < 6.103515625e-05f) {               // subnormal: multiples of 2^-24, ties to even
        return sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f));
    }
    uint32_t ua;
    std::memcpy(&ua, &a, 4);
    const uint32_t exp = ((ua >> 23) & 0xFF) - 127 + 15;
    uint32_t mant = ua & 0x7FFFFF;
    uint32_t half = (exp << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;  // carries into the exponent correctly
    return sign | static_cast<uint16_t>(half);
}

float f8_e4m3_bits_to_f32(uint8_t bits) {
    // float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN (formats.md §11.2).
    const float sign = (bits & 0x80) ? -1.0f : 1.0f;
    const int exp = (bits >> 3) & 0xF;
    const int mant = bits & 0x7;
    if (exp == 0xF && mant == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -9);
    return sign * std::ldexp(static_cast<float>(8 + mant), exp - 10);
}

float f8_e5m2_bits_to_f32(uint8_t bits) { return f16_bits_to_f32(static_cast<uint16_t>(bits) << 8); }

uint8_t f32_to_f8_e4m3_bits(float value) {
    if (std::isnan(value)) return 0x7F;
    // The 127 finite non-negative codes in increasing order (0x00..0x7E): nearest by binary
    // search, ties to the even code (its lowest mantissa bit clear).
    static const std::array<float, 127> codes = [] {
        std::array<float, 127> table{};
        for (int c = 0; c < 127; ++c) table[static_cast<std::size_t>(c)] = f8_e4m3_bits_to_f32(static_cast<uint8_t>(c));
        return table;
    }();
    const uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
    const float magnitude = std::fabs(value);
    if (magnitude >= codes.back()) return static_cast<uint8_t>(sign | 0x7E);
    const auto above = std::upper_bound(codes.begin(), codes.end(), magnitude);
    const int hi = static_cast<int>(above - codes.begin()), lo = hi - 1;
    const float d_lo = magnitude - codes[static_cast<std::size_t>(lo)], d_hi = codes[static_cast<std::size_t>(hi)] - magnitude;
    const int code = d_lo < d_hi ? lo : d_hi < d_lo ? hi : (lo % 2 == 0 ? lo : hi);
    return static_cast<uint8_t>(sign | code);
}

Fp8Blocks quantize_fp8_blocks(const std::vector<float>& values, int64_t rows, int64_t cols, int64_t block_rows,
                              int64_t block_cols) {
    const int64_t grid_rows = (rows + block_rows - 1) / block_rows, grid_cols = (cols + block_cols - 1) / block_cols;
    Fp8Blocks out;
    out.bytes.resize(static_cast<std::size_t>(rows * cols));
    out.scale_inv.assign(static_cast<std::size_t>(grid_rows * grid_cols), 1.0f);
    for (int64_t br = 0; br < grid_rows; ++br)
        for (int64_t bc = 0; bc < grid_cols; ++bc) {
            const int64_t r_end = std::min(rows, (br + 1) * block_rows), c_end = std::min(cols, (bc + 1) * block_cols);
            float amax = 0;
            for (int64_t r = br * block_rows; r < r_end; ++r)
                for (int64_t c = bc * block_cols; c < c_end; ++c)
                    amax = std::max(amax, std::fabs(values[static_cast<std::size_t>(r * cols + c)]));
            const float scale = amax > 0 ? amax / 448.0f : 1.0f;
            out.scale_inv[static_cast<std::size_t>(br * grid_cols + bc)] = scale;
            for (int64_t r = br * block_rows; r < r_end; ++r)
                for (int64_t c = bc * block_cols; c < c_end; ++c)
                    out.bytes[static_cast<std::size_t>(r * cols + c)] =
                        f32_to_f8_e4m3_bits(values[static_cast<std::size_t>(r * cols + c)] / scale);
        }
    return out;
}

std::vector<float> to_f32(const TensorView& view) {
    const TensorInfo& info = *view.info;
    const auto n = static_cast<std::size_t>(info.numel());
    std::vector<float> out(n);
    const auto* bytes = reinterpret_cast<const unsigned char*>(view.data);
    auto u16 = [&](std::size_t i) { return static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)); };
    switch (info.dtype) {
        case DType::f32: std::memcpy(out.data(), bytes, n * 4); break;
        case DType::f64:
            for (std::size_t i = 0; i < n; ++i) {
                double d;
                std::memcpy(&d, bytes + 8 * i, 8);
                out[i] = static_cast<float>(d);
            }
            break;
        case DType::bf16: for (std::size_t i = 0; i < n; ++i) out[i] = bf16_bits_to_f32(u16(i)); break;
        case DType::f16: for (std::size_t i = 0; i < n; ++i) out[i] = f16_bits_to_f32(u16(i)); break;
        case DType::f8_e4m3: for (std::size_t i = 0; i < n; ++i) out[i] = f8_e4m3_bits_to_f32(bytes[i]); break;
        case DType::f8_e5m2: for (std::size_t i = 0; i < n; ++i) out[i] = f8_e5m2_bits_to_f32(bytes[i]); break;
        default:
            throw ShapeMismatch("tensor " + info.name + ": expected a float dtype, found " +
                                std::string(dtype_name(info.dtype)));
    }
    return out;
}

std::vector<float> dequantize_fp8_blocks(const TensorView& weight, const TensorView& scale_inv, int64_t block_rows,
                                         int64_t block_cols) {
    const TensorInfo& w = *weight.info;
    const TensorInfo& s = *scale_inv.info;
    if (w.dtype != DType::f8_e4m3 || w.shape.size() != 2)
        throw ShapeMismatch("tensor " + w.name + ": expected a 2-D F8_E4M3 weight, found " +
                            std::string(dtype_name(w.dtype)) + " " + shape_to_string(w.shape));
    if (block_rows <= 0 || block_cols <= 0)
        throw ShapeMismatch("tensor " + w.name + ": weight_block_size must be positive");
    const int64_t rows = w.shape[0], cols = w.shape[1];
    const std::vector<int64_t> grid{(rows + block_rows - 1) / block_rows, (cols + block_cols - 1) / block_cols};
    if (s.shape != grid || (s.dtype != DType::f32 && s.dtype != DType::bf16 && s.dtype != DType::f16))
        throw ShapeMismatch("tensor " + s.name + ": expected float scale " + shape_to_string(grid) + " for " + w.name +
                            " " + shape_to_string(w.shape) + " with blocks [" + std::to_string(block_rows) + ", " +
                            std::to_string(block_cols) + "], found " + std::string(dtype_name(s.dtype)) + " " +
                            shape_to_string(s.shape));
    std::vector<float> values = to_f32(weight);
    const std::vector<float> scales = to_f32(scale_inv);
    for (int64_t r = 0; r < rows; ++r) {
        const float* scale_row = scales.data() + (r / block_rows) * grid[1];
        float* row = values.data() + r * cols;
        for (int64_t c = 0; c < cols; ++c) row[c] *= scale_row[c / block_cols];
    }
    return values;
}

void dequantize_mxfp4(const uint8_t* blocks, const uint8_t* scales, int64_t groups, float* out) {
    static constexpr float kE2M1[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    for (int64_t g = 0; g < groups; ++g) {
        const int exponent = static_cast<int>(scales[g]) - 127;
        const uint8_t* block = blocks + g * 16;
        float* values = out + g * 32;
        for (int j = 0; j < 16; ++j) {
            values[2 * j] = std::ldexp(kE2M1[block[j] & 0x0F], exponent);
            values[2 * j + 1] = std::ldexp(kE2M1[block[j] >> 4], exponent);
        }
    }
}

}  // namespace sy
