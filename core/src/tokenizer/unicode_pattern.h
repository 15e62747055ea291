#pragma once
// Rewrites a tokenizer.json regex (Oniguruma syntax, as Hugging Face `tokenizers` runs it) into
// a PCRE2 pattern whose character classes match exactly the code points they match in
// `tokenizers`: \p{...}, \P{...}, \s, \d, \w, \h and their negations, inside and outside [...],
// classify by the generated Unicode tables (unicode_classes.h), not by PCRE2's older ones.
// Oniguruma's \uHHHH is spelled \x{HHHH}. Everything else is copied unchanged.
//
// Speed: where PCRE2's own class differs from the wanted one only by code points it lacks
// (characters added after its Unicode version), the rewrite keeps PCRE2's class and appends
// those code points as ranges, so common text is matched as fast as before; otherwise the class
// is spelled out as ranges. What PCRE2's classes contain is measured once per process by matching
// them against every code point (a few ms per class), so a PCRE2 built with any Unicode version
// gives the same result. docs/tokenizer-unicode.md has the details.
#include <string>
#include <string_view>

#include "unicode_classes.h"

namespace sy::tok {

std::string hf_compatible_pattern(std::string_view pattern);

// Class items (what goes between [ and ]) matching exactly `wanted`, kept as fast as PCRE2's own
// `pcre_items` (e.g. "\\p{N}") where those nearly agree, else spelled out as ranges.
std::string class_items_for(const std::string& pcre_items, const CodeRanges& wanted);

}  // namespace sy::tok
