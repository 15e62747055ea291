#include "normalizers.h"

#include <unicode/uchar.h>
#include <unicode/normalizer2.h>
#include <unicode/bytestream.h>
#include <nlohmann/json.hpp>

#include "component_registry.h"

#include "pattern.h"
#include "switchyard/core/errors.h"
#include "utf8.h"

namespace sy::tok {
namespace {

using Getter = const icu::Normalizer2* (*)(UErrorCode&);

// NFC / NFD / NFKC / NFKD through ICU, straight on UTF-8.
class UnicodeNormalizer final : public Normalizer {
public:
    UnicodeNormalizer(Getter getter, const JsonPath& at) {
        UErrorCode status = U_ZERO_ERROR;
        m_normalizer = getter(status);
        if (U_FAILURE(status) || m_normalizer == nullptr) {
            at.fail(std::string("ICU normalizer unavailable: ") + u_errorName(status));
        }
    }
    void normalize(std::string& text) const override {
        UErrorCode status = U_ZERO_ERROR;
        if (m_normalizer->isNormalizedUTF8(text, status) && U_SUCCESS(status)) return;  // common case
        status = U_ZERO_ERROR;
        std::string out;
        icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
        m_normalizer->normalizeUTF8(0, text, sink, nullptr, status);
        if (U_FAILURE(status)) throw TokenizerError(std::string("Unicode normalization failed: ") + u_errorName(status));
        text = std::move(out);
    }

private:
    const icu::Normalizer2* m_normalizer = nullptr;  // owned by ICU, immutable, thread-safe
};

// Per character, like HF (Rust char::to_lowercase): full mappings, but no context, so a final
// capital sigma becomes σ, not ς (which ICU's string lowercasing would give).
class LowercaseNormalizer final : public Normalizer {
public:
    void normalize(std::string& text) const override {
        std::string out;
        out.reserve(text.size());
        for (std::size_t pos = 0; pos < text.size(); pos += char_length(text, pos)) {
            const char32_t c = code_point_at(text, pos);
            if (c == 0x130) {  // İ: the only unconditional one-to-many lowercase mapping
                out += "i\xCC\x87";
            } else {
                append_utf8(out, static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
            }
        }
        text = std::move(out);
    }
};

class PrependNormalizer final : public Normalizer {
public:
    explicit PrependNormalizer(std::string prefix) : m_prefix(std::move(prefix)) {}
    void normalize(std::string& text) const override {
        if (!text.empty()) text.insert(0, m_prefix);  // HF leaves empty segments empty
    }

private:
    std::string m_prefix;
};

class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(Pattern pattern, std::string content) : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
    void normalize(std::string& text) const override { text = replace_all(text, m_pattern, m_content); }

private:
    Pattern m_pattern;
    std::string m_content;
};

class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : m_left(left), m_right(right) {}
    void normalize(std::string& text) const override {
        std::size_t begin = 0, end = text.size();
        while (m_left && begin < end && is_whitespace(code_point_at(text, begin))) begin += char_length(text, begin);
        while (m_right && end > begin && is_whitespace(last_code_point(std::string_view(text).substr(0, end)))) {
            end = previous_char_start(text, end);
        }
        text = text.substr(begin, end - begin);
    }

private:
    bool m_left, m_right;
};

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : m_steps(std::move(steps)) {}
    void normalize(std::string& text) const override {
        for (const auto& step : m_steps) step->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> m_steps;
};

std::unique_ptr<Normalizer> make_nfc(const json&, const JsonPath& at) {
    return std::make_unique<UnicodeNormalizer>(&icu::Normalizer2::getNFCInstance, at);
}
std::unique_ptr<Normalizer> make_nfd(const json&, const JsonPath& at) {
    return std::make_unique<UnicodeNormalizer>(&icu::Normalizer2::getNFDInstance, at);
}
std::unique_ptr<Normalizer> make_nfkc(const json&, const JsonPath& at) {
    return std::make_unique<UnicodeNormalizer>(&icu::Normalizer2::getNFKCInstance, at);
}
std::unique_ptr<Normalizer> make_nfkd(const json&, const JsonPath& at) {
    return std::make_unique<UnicodeNormalizer>(&icu::Normalizer2::getNFKDInstance, at);
}
std::unique_ptr<Normalizer> make_lowercase(const json&, const JsonPath&) {
    return std::make_unique<LowercaseNormalizer>();
}
std::unique_ptr<Normalizer> make_prepend(const json& spec, const JsonPath& at) {
    return std::make_unique<PrependNormalizer>(get_string(spec, "prepend", at));
}
std::unique_ptr<Normalizer> make_replace(const json& spec, const JsonPath& at) {
    Pattern pattern = Pattern::from_json(require_field(spec, "pattern", at), at.field("pattern"));
    return std::make_unique<ReplaceNormalizer>(std::move(pattern), get_string(spec, "content", at));
}
std::unique_ptr<Normalizer> make_strip(const json& spec, const JsonPath& at) {
    return std::make_unique<StripNormalizer>(get_bool(spec, "strip_left", true, at), get_bool(spec, "strip_right", true, at));
}
std::unique_ptr<Normalizer> make_sequence(const json& spec, const JsonPath& at) {
    return std::make_unique<SequenceNormalizer>(sequence_steps<Normalizer>(spec, "normalizers", at, make_normalizer));
}

constexpr ComponentEntry<Normalizer> registry[] = {
    {"NFC", make_nfc},         {"NFD", make_nfd},         {"NFKC", make_nfkc},
    {"NFKD", make_nfkd},       {"Lowercase", make_lowercase}, {"Prepend", make_prepend},
    {"Replace", make_replace}, {"Strip", make_strip},     {"Sequence", make_sequence},
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& spec, const JsonPath& at) {
    return make_from_registry(registry, "normalizer", spec, at);
}

}  // namespace sy::tok
