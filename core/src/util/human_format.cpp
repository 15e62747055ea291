#include "switchyard/core/human_format.h"

#include <cmath>
#include <cstdio>

namespace sy {

std::string format_bytes(uint64_t bytes) {
    char text[32];
    if (bytes >= 1'000'000'000) std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1'000'000) std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1'000) std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
    else std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    return text;
}

std::string format_count(int64_t count) {
    std::string digits = std::to_string(count < 0 ? -count : count), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return count < 0 ? "-" + out : out;
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto total = static_cast<int64_t>(std::llround(seconds));
    char text[32];
    if (total >= 3600)
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", (long long)(total / 3600), (long long)(total / 60 % 60),
                      (long long)(total % 60));
    else std::snprintf(text, sizeof text, "%lld:%02lld", (long long)(total / 60), (long long)(total % 60));
    return text;
}

}  // namespace sy
