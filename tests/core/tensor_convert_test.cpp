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

// f32 -> e4m3 must pick the nearest code, ties to even, saturate at 448 and keep the sign.
TEST(TensorConvert, Fp8EncodeMatchesExhaustiveNearest) {
    for (int code = 0; code < 0x7F; ++code) {
        const float value = sy::f8_e4m3_bits_to_f32(static_cast<uint8_t>(code));
        EXPECT_EQ(sy::f32_to_f8_e4m3_bits(value), code) << value;
        EXPECT_EQ(sy::f32_to_f8_e4m3_bits(-value), code | 0x80) << -value;
    }
    for (float v : {0.3f, 1.7f, 13.2f, 300.f, 0.0049f, -5.55f}) EXPECT_EQ(sy::f32_to_f8_e4m3_bits(v), encode_e4m3(v)) << v;
    EXPECT_EQ(sy::f32_to_f8_e4m3_bits(1e6f), 0x7E);
    EXPECT_EQ(sy::f32_to_f8_e4m3_bits(-1e6f), 0xFE);
    // 1.0625 lies halfway between 1.0 (mantissa 000) and 1.125 (001): even code wins.
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(sy::f32_to_f8_e4m3_bits(1.0625f)), 1.0f);
    EXPECT_EQ(sy::f8_e4m3_bits_to_f32(sy::f32_to_f8_e4m3_bits(1.1875f)), 1.25f);
}

TEST(TensorConvert, Fp8BlockQuantisationRoundTrips) {
    // 3 x 5 matrix in 2 x 2 blocks (partial edge blocks), values of very different scales.
    std::vector<float> values = {0.5f, -1.f, 2.f, 100.f, -300.f, 0.001f, 0.f, 3.f, 7.f, 1.f, 0.f, 0.f, -2.f, 9.f, 0.25f};
    const sy::Fp8Blocks q = sy::quantize_fp8_blocks(values, 3, 5, 2, 2);
    ASSERT_EQ(q.scale_inv.size(), 6u);
    EXPECT_FLOAT_EQ(q.scale_inv[0], 1.f / 448.f);   // block (0,0): amax 1
    EXPECT_FLOAT_EQ(q.scale_inv[2], 300.f / 448.f); // block (0,2): amax 300
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 5; ++c) {
            const float v = values[size_t(r * 5 + c)];
            const float back = sy::f8_e4m3_bits_to_f32(q.bytes[size_t(r * 5 + c)]) * q.scale_inv[size_t((r / 2) * 3 + c / 2)];
            EXPECT_NEAR(back, v, std::fabs(v) * 0.07f + 1e-6f) << r << "," << c;
        }
}

// The vectorised widening must agree bit for bit with the scalar conversion, for every bf16
// bit pattern (NaNs, infinities, subnormals, both zeros) and every tail length, also when the
// input lies in the upper half of the output buffer (how the weight loader uses it).
TEST(TensorConvert, Bf16ToF32MatchesScalarAllPatternsAndInPlace) {
    std::vector<uint16_t> all(65536);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i * 40503u);   // a permutation
    const auto bits = [](float f) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        return u;
    };
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                          std::size_t{15}, std::size_t{17}, std::size_t{65536}}) {
        SCOPED_TRACE("n " + std::to_string(n));
        std::vector<float> separate(n);
        sy::bf16_to_f32(all.data(), separate.data(), n);
        std::vector<float> in_place(n);
        auto* upper = reinterpret_cast<uint16_t*>(in_place.data()) + n;
        std::memcpy(upper, all.data(), n * sizeof(uint16_t));
        sy::bf16_to_f32(upper, in_place.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            const uint32_t expected = bits(sy::bf16_bits_to_f32(all[i]));
            ASSERT_EQ(bits(separate[i]), expected) << "value " << i;
            ASSERT_EQ(bits(in_place[i]), expected) << "in place, value " << i;
        }
    }
}
