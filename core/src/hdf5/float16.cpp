// IEEE binary16 <-> binary32 for /routing/router_logits (stored as float16).
// Converted here rather than by HDF5's soft conversion, which is slow for custom float types.
#include <cstring>

#include "switchyard/core/trace_store.h"

namespace sy {

uint16_t float_to_half(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
    const uint32_t abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) return sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0);   // inf / NaN
    if (abs >= 0x477ff000) return sign | 0x7c00;                                      // rounds to inf
    if (abs < 0x38800000) {                                                           // subnormal or zero
        if (abs < 0x33000000) return sign;                                            // below half the smallest
        const uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
        const int shift = 126 - static_cast<int>(abs >> 23);                          // 14..24
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) ++half;
        return sign | static_cast<uint16_t>(half);
    }
    uint32_t half = ((abs >> 13) - (112u << 10));   // rebias exponent 127 -> 15
    const uint32_t rest = abs & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;   // may carry into the exponent: correct
    return sign | static_cast<uint16_t>(half);
}

float half_to_float(uint16_t bits) {
    const uint32_t sign = uint32_t(bits & 0x8000) << 16;
    uint32_t exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff, out;
    if (exponent == 0x1f) {
        out = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent == 0) {
        if (mantissa == 0) {
            out = sign;
        } else {   // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mantissa <<= 1;
            } while ((mantissa & 0x400) == 0);
            out = sign | uint32_t(127 - 15 - e) << 23 | (mantissa & 0x3ff) << 13;
        }
    } else {
        out = sign | (exponent + 112) << 23 | mantissa << 13;
    }
    float value;
    std::memcpy(&value, &out, 4);
    return value;
}

}  // namespace sy
