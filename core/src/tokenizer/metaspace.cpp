#include "metaspace.h"

#include <nlohmann/json.hpp>

#include "split_behavior.h"
#include "utf8.h"

namespace sy::tok {
namespace {

enum class PrependScheme { always, first, never };

struct MetaspaceOptions {
    std::string replacement;  // one character, UTF-8
    PrependScheme prepend = PrependScheme::always;
    bool split = true;
};

// Current files carry prepend_scheme; older ones only the add_prefix_space bool (formats.md §12.4).
MetaspaceOptions parse_options(const json& spec, const JsonPath& at) {
    MetaspaceOptions options;
    options.replacement = get_optional_string(spec, "replacement", at).value_or("\xE2\x96\x81");  // U+2581
    if (options.replacement.empty() || char_length(options.replacement, 0) != options.replacement.size()) {
        at.field("replacement").fail("must be exactly one character, found " + quote_text(options.replacement));
    }
    if (const auto scheme = get_optional_string(spec, "prepend_scheme", at)) {
        if (*scheme == "always") {
            options.prepend = PrependScheme::always;
        } else if (*scheme == "first") {
            options.prepend = PrependScheme::first;
        } else if (*scheme == "never") {
            options.prepend = PrependScheme::never;
        } else {
            at.field("prepend_scheme").fail(quote_text(*scheme) + " is not one of always, first, never");
        }
    } else {
        options.prepend = get_bool(spec, "add_prefix_space", true, at) ? PrependScheme::always : PrependScheme::never;
    }
    options.split = get_bool(spec, "split", true, at);
    return options;
}

class MetaspacePreTokenizer final : public PreTokenizer {
public:
    explicit MetaspacePreTokenizer(MetaspaceOptions options) : m_options(std::move(options)) {}

    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        const std::string& rep = m_options.replacement;
        for (PreToken& piece : pieces) {
            std::string replaced;
            for (const char ch : piece.text) {
                if (ch == ' ') {
                    replaced += rep;
                } else {
                    replaced += ch;
                }
            }
            const bool prepend = m_options.prepend == PrependScheme::always ||
                                 (m_options.prepend == PrependScheme::first && piece.at_input_start);
            if (prepend && replaced.compare(0, rep.size(), rep) != 0) replaced.insert(0, rep);
            piece.text = std::move(replaced);
        }
        if (!m_options.split) return;
        split_pieces(pieces, [&rep](std::string_view text) {
            std::vector<Span> matches;
            for (auto pos = text.find(rep); pos != std::string_view::npos; pos = text.find(rep, pos + rep.size())) {
                matches.emplace_back(pos, pos + rep.size());
            }
            return split_spans(text.size(), matches, SplitBehavior::merged_with_next, false);
        });
    }

private:
    MetaspaceOptions m_options;
};

class MetaspaceDecoder final : public Decoder {
public:
    explicit MetaspaceDecoder(MetaspaceOptions options) : m_options(std::move(options)) {}

    // The replacement becomes a space. In the first token HF drops every replacement character
    // (not only a leading one) unless prepend_scheme is "never"; we match that.
    void decode_chain(std::vector<std::string>& tokens) const override {
        const std::string& rep = m_options.replacement;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            const std::string& token = tokens[i];
            for (std::size_t pos = 0; pos < token.size();) {
                if (token.compare(pos, rep.size(), rep) == 0) {
                    if (!(i == 0 && m_options.prepend != PrependScheme::never)) out += ' ';
                    pos += rep.size();
                } else {
                    out += token[pos++];
                }
            }
            tokens[i] = std::move(out);
        }
    }

private:
    MetaspaceOptions m_options;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(const json& spec, const JsonPath& at) {
    return std::make_unique<MetaspacePreTokenizer>(parse_options(spec, at));
}

std::unique_ptr<Decoder> make_metaspace_decoder(const json& spec, const JsonPath& at) {
    return std::make_unique<MetaspaceDecoder>(parse_options(spec, at));
}

}  // namespace sy::tok
