#pragma once
// The `{"String": "..."}` / `{"Regex": "..."}` pattern of Split, Replace (normalizer and
// decoder): finds the non-overlapping occurrences in a text.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.h"
#include "regex.h"

namespace sy::tok {

class Pattern {
public:
    // Parses {"String": s} or {"Regex": r}; fails at `at` otherwise.
    static Pattern from_json(const json& spec, const JsonPath& at);
    // A PCRE2 regex of our own (RegexSyntax::pcre2), for the fixed-pattern pre-tokenizers.
    static Pattern from_pcre2(std::string_view regex, const JsonPath& at);

    std::vector<Span> find_all(std::string_view text) const;

private:
    std::string m_literal;                 // used when m_regex is null
    std::shared_ptr<const Regex> m_regex;  // shared: Pattern is copied into several components
};

// Replaces every occurrence of `pattern` in `text` by `content`.
std::string replace_all(std::string_view text, const Pattern& pattern, std::string_view content);

}  // namespace sy::tok
