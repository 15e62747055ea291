#include "pre_tokenizers.h"

#include <nlohmann/json.hpp>

#include "component_registry.h"

#include "byte_level.h"
#include "metaspace.h"
#include "pattern.h"
#include "split_behavior.h"
#include "unicode_classes.h"
#include "unicode_pattern.h"

namespace sy::tok {
namespace {

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : m_steps(std::move(steps)) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        for (const auto& step : m_steps) step->pre_tokenize(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> m_steps;
};

// Split, and the fixed-pattern pre-tokenizers expressed as a Split (Digits, Whitespace, ...).
class SplitPreTokenizer final : public PreTokenizer {
public:
    SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
        : m_pattern(std::move(pattern)), m_behavior(behavior), m_invert(invert) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        split_pieces(pieces, [this](std::string_view text) {
            return split_spans(text.size(), m_pattern.find_all(text), m_behavior, m_invert);
        });
    }

private:
    Pattern m_pattern;
    SplitBehavior m_behavior;
    bool m_invert;
};

std::unique_ptr<PreTokenizer> fixed_split(const std::string& regex, SplitBehavior behavior, bool invert,
                                          const JsonPath& at) {
    return std::make_unique<SplitPreTokenizer>(Pattern::from_pcre2(regex, at), behavior, invert);
}

// HF implements these four in Rust, not with Oniguruma, so their classes are Rust's, each in the
// Unicode version tokenizers was built with (unicode_classes.h); spelled out for PCRE2 here.
std::string white_space_items() { return class_items_for("\\s", escape_class('s')); }

std::unique_ptr<PreTokenizer> make_split(const json& spec, const JsonPath& at) {
    Pattern pattern = Pattern::from_json(require_field(spec, "pattern", at), at.field("pattern"));
    return std::make_unique<SplitPreTokenizer>(std::move(pattern), parse_split_behavior(spec, "behavior", at),
                                               get_bool(spec, "invert", false, at));
}

std::unique_ptr<PreTokenizer> make_sequence(const json& spec, const JsonPath& at) {
    return std::make_unique<SequencePreTokenizer>(sequence_steps<PreTokenizer>(spec, "pretokenizers", at, make_pre_tokenizer));
}

// HF Digits: char::is_numeric (Unicode N*), each digit alone or runs kept together.
std::unique_ptr<PreTokenizer> make_digits(const json& spec, const JsonPath& at) {
    const bool individual = get_bool(spec, "individual_digits", false, at);
    return fixed_split("[" + class_items_for("\\p{N}", rust_numeric_class()) + "]",
                       individual ? SplitBehavior::isolated : SplitBehavior::contiguous, false, at);
}

// HF Whitespace: keeps the matches of the `regex` crate's \w+|[^\w\s]+ and drops the rest.
std::unique_ptr<PreTokenizer> make_whitespace(const json&, const JsonPath& at) {
    const std::string word = class_items_for("\\p{L}\\p{M}\\p{Nd}\\p{Pc}\\p{Nl}", rust_word_class());
    return fixed_split("[" + word + "]+|[^" + word + white_space_items() + "]+", SplitBehavior::removed, true, at);
}

// HF WhitespaceSplit: char::is_whitespace (White_Space).
std::unique_ptr<PreTokenizer> make_whitespace_split(const json&, const JsonPath& at) {
    return fixed_split("[" + white_space_items() + "]", SplitBehavior::removed, false, at);
}

// HF Punctuation: char::is_ascii_punctuation or the `unicode_categories` crate's P*.
std::unique_ptr<PreTokenizer> make_punctuation(const json& spec, const JsonPath& at) {
    const SplitBehavior behavior =
        optional_field(spec, "behavior") ? parse_split_behavior(spec, "behavior", at) : SplitBehavior::isolated;
    return fixed_split("[" + class_items_for("\\p{P}", hf_punctuation_class()) + "]", behavior, false, at);
}

constexpr ComponentEntry<PreTokenizer> registry[] = {
    {"ByteLevel", make_byte_level_pre_tokenizer},
    {"Split", make_split},
    {"Metaspace", make_metaspace_pre_tokenizer},
    {"Sequence", make_sequence},
    {"Digits", make_digits},
    {"Whitespace", make_whitespace},
    {"WhitespaceSplit", make_whitespace_split},
    {"Punctuation", make_punctuation},
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec, const JsonPath& at) {
    return make_from_registry(registry, "pre-tokenizer", spec, at);
}

void split_pieces(std::vector<PreToken>& pieces,
                  const std::function<std::vector<Span>(std::string_view)>& spans_of) {
    std::vector<PreToken> out;
    out.reserve(pieces.size());
    for (PreToken& piece : pieces) {
        for (const auto& [begin, end] : spans_of(piece.text)) {
            if (begin == end) continue;
            out.push_back({piece.text.substr(begin, end - begin), piece.at_input_start && begin == 0});
        }
    }
    pieces = std::move(out);
}

}  // namespace sy::tok
