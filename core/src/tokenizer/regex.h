#pragma once
// PCRE2 (UTF + UCP) regex used by Split / Replace / the ByteLevel GPT-2 pattern. HF uses
// Oniguruma; the patterns of formats.md §12.6 ((?!\S), (?i:...), leftmost-first alternation)
// mean the same in PCRE2, and their character classes are rewritten (unicode_pattern.h) so they
// classify characters as Oniguruma does on HF's Unicode version, not as PCRE2's own tables do.
// Compiled once at load time (JIT when available); matching is const and thread-safe. The pcre2
// header stays in regex.cpp.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::tok {

class JsonPath;

using Span = std::pair<std::size_t, std::size_t>;  // [begin, end) byte offsets

enum class RegexSyntax {
    oniguruma,   // a tokenizer.json pattern: character classes rewritten as HF means them
    pcre2,       // a pattern of our own whose classes are already spelled out: used as is
};

class Regex {
public:
    // Throws TokenizerError at `at` when the pattern does not compile.
    Regex(std::string_view pattern, const JsonPath& at, RegexSyntax syntax = RegexSyntax::oniguruma);
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
