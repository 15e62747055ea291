#pragma once
// PCRE2 (UTF + UCP) regex used by Split / Replace / the ByteLevel GPT-2 pattern. HF uses
// Oniguruma; the patterns of formats.md §12.6 (Unicode properties, (?!\S), (?i:...), leftmost-
// first alternation) mean the same in PCRE2. Compiled once at load time (JIT when available);
// matching is const and thread-safe. The pcre2 header stays in regex.cpp.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::tok {

class JsonPath;

using Span = std::pair<std::size_t, std::size_t>;  // [begin, end) byte offsets

class Regex {
public:
    // Throws TokenizerError at `at` when the pattern does not compile.
    Regex(std::string_view pattern, const JsonPath& at);
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;
    ~Regex();

    // Non-overlapping matches left to right. `text` must be valid UTF-8. An empty match directly
    // after the previous match is skipped and the search moves one character on (Rust/onig
    // find_iter behaviour). Throws TokenizerError if PCRE2 hits a resource limit.
    std::vector<Span> find_all(std::string_view text) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace sy::tok
