#pragma once
// What happens to the delimiters when a pre-tokenizer splits a piece on pattern matches
// (HF SplitDelimiterBehavior; formats.md §12.4).
#include <string_view>
#include <vector>

#include "json_fields.h"
#include "regex.h"

namespace sy::tok {

enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

// Parses "Removed" / "Isolated" / "MergedWithPrevious" / "MergedWithNext" / "Contiguous".
SplitBehavior parse_split_behavior(const json& obj, std::string_view key, const JsonPath& at);

// Turns the sorted, non-overlapping `matches` inside a text of `text_size` bytes into the spans
// of the resulting pieces (possibly empty; callers drop empty pieces). `invert` swaps which
// spans count as delimiters.
std::vector<Span> split_spans(std::size_t text_size, const std::vector<Span>& matches,
                              SplitBehavior behavior, bool invert);

}  // namespace sy::tok
