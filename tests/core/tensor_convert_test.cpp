// dtype conversions and DeepSeek FP8 block dequantisation on tensors encoded here by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_convert.h"

namespace {

// Encodes a float as float8_e4m3fn by exhaustive search (the format has only 256 values).
uint8_t encode_e4m3(float v) {
    uint8_t best = 0;
    float best_err = INFINITY;
    for (int b = 0; b < 256; ++b) {
        float f = sy::f8_e4m3_bits_to_f32(static_cast<uint8_t>(b));
        if (std::isnan(f)) continue;
        if (std::fabs(f - v) < best_err) best_err = std::fabs(f - v), best = static_cast<uint8_t>(b);
    }
    return best;
}

struct OwnedTensor {
    sy::TensorInfo info;
    std::vector<unsigned char> bytes;
    sy::TensorView view() const { return {&info, reinterpret_cast<const std::byte*>(bytes.data())}; }
};

}  // namespace

TEST(TensorConvert, E4M3KnownValues) {
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(0x00), 0.0f);
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(0x38), 1.0f);     // exp 7 = bias, mantissa 0
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(0x7E), 448.0f);   // largest finite
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(0xB8), -1.0f);
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
    EXPECT_TRUE(std::isnan(sy::f8_e4m3_bits_to_f32(0x7F)));
    EXPECT_TRUE(std::isnan(sy::f8_e4m3_bits_to_f32(0xFF)));
}

TEST(TensorConvert, Bf16RoundsToNearestEven) {
    EXPECT_EQ(sy::f32_to_bf16_bits(1.0f), 0x3F80);
    EXPECT_EQ(sy::bf16_bits_to_f32(0x3F80), 1.0f);
    // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties to even -> 1.0.
    EXPECT_EQ(sy::f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
    EXPECT_EQ(sy::f32_to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
    EXPECT_TRUE(std::isnan(sy::bf16_bits_to_f32(sy::f32_to_bf16_bits(NAN))));
}

TEST(TensorConvert, F16RoundTripsEveryFiniteValue) {
    for (uint32_t b = 0; b < 0x10000; ++b) {
        const auto bits = static_cast<uint16_t>(b);
        const float f = sy::f16_bits_to_f32(bits);
        if (std::isnan(f)) continue;
        ASSERT_EQ(sy::f32_to_f16_bits(f), bits) << "bits " << b;
    }
    EXPECT_EQ(sy::f32_to_f16_bits(1e6f), 0x7C00);  // overflow -> inf
}

TEST(TensorConvert, DequantizesFp8BlocksWithPartialEdges) {
    // weight [5, 3] with blocks [2, 2]: scale grid [3, 2], last row/column blocks partial.
    const int rows = 5, cols = 3;
    OwnedTensor w{{"w", sy::DType::f8_e4m3, {rows, cols}, 0, 0, rows * cols}, {}};
    OwnedTensor s{{"w_scale_inv", sy::DType::f32, {3, 2}, 0, 0, 24}, {}};
    std::vector<float> scales{0.5f, 2.0f, 4.0f, 0.25f, 8.0f, 1.0f};
    s.bytes.resize(24);
    std::memcpy(s.bytes.data(), scales.data(), 24);
    std::vector<float> raw(rows * cols);
    for (int i = 0; i < rows * cols; ++i) {
        raw[i] = static_cast<float>(i % 7) - 3.0f;  // exactly representable in e4m3
        w.bytes.push_back(encode_e4m3(raw[i]));
    }
    const auto out = sy::dequantize_fp8_blocks(w.view(), s.view(), 2, 2);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            EXPECT_EQ(out[r * cols + c], raw[r * cols + c] * scales[(r / 2) * 2 + c / 2]) << r << "," << c;
}

TEST(TensorConvert, Fp8ScaleGridMismatchNamesBothTensors) {
    OwnedTensor w{{"model.w", sy::DType::f8_e4m3, {4, 4}, 0, 0, 16}, std::vector<unsigned char>(16)};
    OwnedTensor s{{"model.w_scale_inv", sy::DType::f32, {1, 1}, 0, 0, 4}, std::vector<unsigned char>(4)};
    try {
        sy::dequantize_fp8_blocks(w.view(), s.view(), 2, 2);
        FAIL();
    } catch (const sy::ShapeMismatch& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("model.w_scale_inv"), std::string::npos);
        EXPECT_NE(msg.find("expected float scale [2, 2]"), std::string::npos);
        EXPECT_NE(msg.find("found F32 [1, 1]"), std::string::npos);
    }
}
