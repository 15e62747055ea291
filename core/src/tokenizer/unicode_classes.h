#pragma once
// Character classes as Hugging Face `tokenizers` sees them: its regex engine is Oniguruma, with
// Unicode tables newer than the PCRE2 we match with (Debian 12: Unicode 14) and its own meaning
// of \s, \d, \w and \h. The sets come from unicode_tables.cpp (docs/tokenizer-unicode.md).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::tok {

// Sorted, disjoint, non-adjacent [first, last] code point ranges.
using CodeRanges = std::vector<std::pair<uint32_t, uint32_t>>;

// \p{name} by Oniguruma's loose name matching (case, spaces, '-' and '_' ignored): General_Category
// short and long names and groups (L, Lu, Letter, LC, M, Combining_Mark, ...), Script long names
// (Han, Latin, ...), Any, Assigned. nullopt for any other name.
std::optional<CodeRanges> unicode_property(std::string_view name);
// The spelling PCRE2 knows for a name unicode_property() accepts: General_Category short names
// ("Letter" -> "L"), script long names; the name itself otherwise.
std::string pcre2_property_name(std::string_view name);

// Oniguruma on Unicode text: \s = White_Space; \d = Nd; \w = Alphabetic, M, Nd and Pc, plus
// the Latin-1 digits and fractions its Latin-1 table marks as word characters (U+00B2, U+00B3,
// U+00B9, U+00BC..U+00BE), without Join_Control; \h = ASCII hex digits [0-9A-Fa-f].
CodeRanges escape_class(char letter);   // 's', 'd', 'w' or 'h'

// The classes `tokenizers` takes from Rust rather than from Oniguruma:
CodeRanges rust_word_class();       // `regex` crate \w (Whitespace, added tokens' single_word):
                                    // Alphabetic, M, Nd, Pc, Join_Control (Unicode 16.0)
CodeRanges rust_numeric_class();    // char::is_numeric (Digits): N of Unicode 17.0
CodeRanges hf_punctuation_class();  // Punctuation: ASCII punctuation and P of Unicode 8.0 (the
                                    // `unicode_categories` crate)

CodeRanges complement(const CodeRanges& ranges);   // within [0, 0x10FFFF]
CodeRanges unite(CodeRanges a, const CodeRanges& b);
CodeRanges subtract(const CodeRanges& a, const CodeRanges& b);
CodeRanges without_surrogates(const CodeRanges& ranges);   // UTF-8 text never holds U+D800..U+DFFF
bool contains(const CodeRanges& ranges, uint32_t code_point);

}  // namespace sy::tok
