#pragma once
// Private printf-style helpers for the human-readable summaries.
#include <cstdarg>
#include <cstdio>
#include <string>

namespace sy::analysis::text_util {

// Appends printf-formatted text to `out`.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void appendf(std::string& out, const char* fmt, ...) {
    char buf[1024];
    va_list args;
    va_start(args, fmt);
    const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    if (n < 0) return;
    if (static_cast<size_t>(n) < sizeof buf) {
        out.append(buf, static_cast<size_t>(n));
        return;
    }
    std::string big(static_cast<size_t>(n) + 1, '\0');
    va_start(args, fmt);
    std::vsnprintf(big.data(), big.size(), fmt, args);
    va_end(args);
    out.append(big.data(), static_cast<size_t>(n));
}

// Token text made printable on one line: control characters escaped, at most 16 bytes.
inline std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20) out += '?';
        else out += static_cast<char>(c);
        if (out.size() >= 16) break;
    }
    return out;
}

}  // namespace sy::analysis::text_util
