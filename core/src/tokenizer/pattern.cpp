#include "pattern.h"

#include <nlohmann/json.hpp>

namespace sy::tok {

Pattern Pattern::from_json(const json& spec, const JsonPath& at) {
    require_object(spec, at);
    Pattern pattern;
    if (spec.contains("String")) {
        pattern.m_literal = get_string(spec, "String", at);
    } else if (spec.contains("Regex")) {
        pattern.m_regex = std::make_shared<const Regex>(get_string(spec, "Regex", at), at.field("Regex"));
    } else {
        at.fail("expected {\"String\": ...} or {\"Regex\": ...}");
    }
    return pattern;
}

Pattern Pattern::from_pcre2(std::string_view regex, const JsonPath& at) {
    Pattern pattern;
    pattern.m_regex = std::make_shared<const Regex>(regex, at, RegexSyntax::pcre2);
    return pattern;
}

std::vector<Span> Pattern::find_all(std::string_view text) const {
    if (m_regex) return m_regex->find_all(text);
    std::vector<Span> spans;
    if (m_literal.empty()) return spans;  // HF: an empty string pattern matches nothing
    for (std::size_t pos = text.find(m_literal); pos != std::string_view::npos;
         pos = text.find(m_literal, pos + m_literal.size())) {
        spans.emplace_back(pos, pos + m_literal.size());
    }
    return spans;
}

std::string replace_all(std::string_view text, const Pattern& pattern, std::string_view content) {
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    for (const auto& [begin, end] : pattern.find_all(text)) {
        out.append(text.substr(copied, begin - copied));
        out.append(content);
        copied = end;
    }
    out.append(text.substr(copied));
    return out;
}

}  // namespace sy::tok
