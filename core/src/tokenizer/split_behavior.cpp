#include "split_behavior.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace sy::tok {
namespace {

struct Part {
    Span span;
    bool is_match;
};

constexpr std::array<std::pair<std::string_view, SplitBehavior>, 5> behavior_names{{
    {"Removed", SplitBehavior::removed},
    {"Isolated", SplitBehavior::isolated},
    {"MergedWithPrevious", SplitBehavior::merged_with_previous},
    {"MergedWithNext", SplitBehavior::merged_with_next},
    {"Contiguous", SplitBehavior::contiguous},
}};

// The whole text as alternating gaps and matches (HF Pattern::find_matches).
std::vector<Part> cover(std::size_t text_size, const std::vector<Span>& matches, bool invert) {
    std::vector<Part> parts;
    if (text_size == 0) return {{{0, 0}, invert}};
    std::size_t prev = 0;
    for (const Span& m : matches) {
        if (prev != m.first) parts.push_back({{prev, m.first}, invert});
        parts.push_back({m, !invert});
        prev = m.second;
    }
    if (prev != text_size) parts.push_back({{prev, text_size}, invert});
    return parts;
}

// Appends `part` to the last piece when `join` says so (and there is one), else starts a piece.
void push_or_extend(std::vector<Span>& pieces, const Span& span, bool join) {
    if (join && !pieces.empty()) {
        pieces.back().second = span.second;
    } else {
        pieces.push_back(span);
    }
}

}  // namespace

SplitBehavior parse_split_behavior(const json& obj, std::string_view key, const JsonPath& at) {
    const std::string name = get_string(obj, key, at);
    for (const auto& [text, value] : behavior_names) {
        if (name == text) return value;
    }
    const JsonPath key_at = at.field(key);
    key_at.fail(quote_text(name) +
                       " is not a split behavior (supported: Removed, Isolated, MergedWithPrevious, "
                       "MergedWithNext, Contiguous)");
}

std::vector<Span> split_spans(std::size_t text_size, const std::vector<Span>& matches,
                              SplitBehavior behavior, bool invert) {
    const std::vector<Part> parts = cover(text_size, matches, invert);
    std::vector<Span> pieces;
    bool previous_match = false;
    switch (behavior) {
    case SplitBehavior::isolated:
        for (const Part& p : parts) pieces.push_back(p.span);
        break;
    case SplitBehavior::removed:
        for (const Part& p : parts) {
            if (!p.is_match) pieces.push_back(p.span);
        }
        break;
    case SplitBehavior::contiguous:
        for (const Part& p : parts) {
            push_or_extend(pieces, p.span, p.is_match == previous_match);
            previous_match = p.is_match;
        }
        break;
    case SplitBehavior::merged_with_previous:
        for (const Part& p : parts) {
            push_or_extend(pieces, p.span, p.is_match && !previous_match);
            previous_match = p.is_match;
        }
        break;
    case SplitBehavior::merged_with_next:
        // Mirror image of merged_with_previous: walk right to left, extend the piece's start.
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
            if (it->is_match && !previous_match && !pieces.empty()) {
                pieces.back().first = it->span.first;
            } else {
                pieces.push_back(it->span);
            }
            previous_match = it->is_match;
        }
        std::reverse(pieces.begin(), pieces.end());
        break;
    }
    return pieces;
}

}  // namespace sy::tok
