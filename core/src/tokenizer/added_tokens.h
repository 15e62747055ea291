#pragma once
// Added tokens (formats.md §12.2): parsed from "added_tokens", and the matcher that cuts them out
// of a text before normalization / pre-tokenization. Matching is leftmost-longest (HF uses an
// Aho-Corasick automaton with MatchKind::LeftmostLongest); single_word / lstrip / rstrip apply
// to each match as in HF AddedVocabulary::find_matches.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.h"

namespace sy::tok {

struct AddedToken {
    int32_t id = 0;
    std::string content;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
    bool special = false;
};

std::vector<AddedToken> parse_added_tokens(const json& list, const JsonPath& at);

// A cut of the input: either plain text or one added token (id >= 0).
struct Segment {
    std::size_t begin, end;  // byte offsets into the matched text
    int32_t id;              // -1 for plain text
};

class AddedTokenMatcher {
public:
    AddedTokenMatcher() = default;
    // `patterns[i]` is the string to look for (the content, normalized for normalized tokens).
    AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns);

    bool empty() const { return m_entries.empty(); }
    // Covers `text` with plain and added-token segments, in order; plain segments are non-empty.
    std::vector<Segment> split(std::string_view text) const;

private:
    struct Entry {
        std::string pattern;
        const AddedToken* token;  // points into the Tokenizer's token list (stable)
    };
    // Longest match starting exactly at `pos`, or nullptr.
    const Entry* longest_at(std::string_view text, std::size_t pos) const;

    std::vector<Entry> m_entries;                      // sorted by length, longest first
    std::array<std::vector<uint32_t>, 256> m_by_first;  // entry indices by first byte
};

}  // namespace sy::tok
