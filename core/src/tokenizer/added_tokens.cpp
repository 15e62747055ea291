#include "added_tokens.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "utf8.h"

namespace sy::tok {

std::vector<AddedToken> parse_added_tokens(const json& list, const JsonPath& at) {
    std::vector<AddedToken> tokens;
    if (list.is_null()) return tokens;
    require_array(list, at);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const JsonPath entry_at = at.index(i);
        const json& entry = list[i];
        AddedToken token;
        token.id = as_token_id(require_field(entry, "id", entry_at), entry_at.field("id"));
        token.content = get_string(entry, "content", entry_at);
        token.single_word = get_bool(entry, "single_word", false, entry_at);
        token.lstrip = get_bool(entry, "lstrip", false, entry_at);
        token.rstrip = get_bool(entry, "rstrip", false, entry_at);
        token.special = get_bool(entry, "special", false, entry_at);
        token.normalized = get_bool(entry, "normalized", !token.special, entry_at);
        tokens.push_back(std::move(token));
    }
    return tokens;
}

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens,
                                     const std::vector<std::string>& patterns) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (!patterns[i].empty()) m_entries.push_back({patterns[i], &tokens[i]});  // HF skips empty
    }
    // Longest first, then file order, so the first hit at a position is the leftmost-longest.
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.pattern.size() > b.pattern.size(); });
    for (uint32_t i = 0; i < m_entries.size(); ++i) {
        m_by_first[static_cast<uint8_t>(m_entries[i].pattern[0])].push_back(i);
    }
}

const AddedTokenMatcher::Entry* AddedTokenMatcher::longest_at(std::string_view text, std::size_t pos) const {
    for (const uint32_t index : m_by_first[static_cast<uint8_t>(text[pos])]) {
        const Entry& entry = m_entries[index];
        if (text.compare(pos, entry.pattern.size(), entry.pattern) == 0) return &entry;
    }
    return nullptr;
}

namespace {

bool ends_with_word(std::string_view text) { return !text.empty() && is_word_char(last_code_point(text)); }
bool starts_with_word(std::string_view text) { return !text.empty() && is_word_char(code_point_at(text, 0)); }

}  // namespace

std::vector<Segment> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<Segment> segments;
    if (m_entries.empty()) {
        if (!text.empty()) segments.push_back({0, text.size(), -1});
        return segments;
    }
    std::size_t covered = 0;  // end of the last emitted segment
    std::size_t pos = 0;
    while (pos < text.size()) {
        const Entry* entry = longest_at(text, pos);
        if (entry == nullptr) {
            pos += char_length(text, pos);
            continue;
        }
        std::size_t start = pos, stop = pos + entry->pattern.size();
        pos = stop;  // the automaton resumes after the match even when the match is discarded
        const AddedToken& token = *entry->token;
        if (token.single_word && (ends_with_word(text.substr(0, start)) || starts_with_word(text.substr(stop)))) {
            continue;
        }
        if (token.lstrip) {
            // Swallow the whitespace before the token, but never text an earlier match took.
            while (start > covered && is_whitespace(last_code_point(text.substr(0, start)))) {
                start = previous_char_start(text, start);
            }
        }
        if (token.rstrip) {
            while (stop < text.size() && is_whitespace(code_point_at(text, stop))) stop += char_length(text, stop);
            pos = std::max(pos, stop);
        }
        if (covered < start) segments.push_back({covered, start, -1});
        segments.push_back({start, stop, token.id});
        covered = stop;
    }
    if (covered < text.size()) segments.push_back({covered, text.size(), -1});
    return segments;
}

}  // namespace sy::tok
