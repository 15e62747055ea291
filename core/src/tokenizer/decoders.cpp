#include "decoders.h"

#include <nlohmann/json.hpp>

#include "component_registry.h"

#include "byte_level.h"
#include "metaspace.h"
#include "pattern.h"
#include "utf8.h"

namespace sy::tok {
namespace {

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : m_steps(std::move(steps)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (const auto& step : m_steps) step->decode_chain(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> m_steps;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(Pattern pattern, std::string content) : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::string& token : tokens) token = replace_all(token, m_pattern, m_content);
    }

private:
    Pattern m_pattern;
    std::string m_content;
};

// "<0xHH>" -> the byte, as Rust's u8::from_str_radix(.., 16) reads the two characters.
std::optional<uint8_t> byte_token_value(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    const int hi = hex(token[3]), lo = hex(token[4]);
    if (token[3] == '+' && lo >= 0) return static_cast<uint8_t>(lo);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<uint8_t>(hi * 16 + lo);
}

// Runs of <0xHH> tokens become their UTF-8 text, or one U+FFFD per byte when the run is not
// valid UTF-8 (HF ByteFallback).
class ByteFallbackDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string pending;
        auto flush = [&] {
            if (pending.empty()) return;
            if (find_invalid_utf8(pending) == std::string_view::npos) {
                out.push_back(pending);
            } else {
                for (std::size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
            }
            pending.clear();
        };
        for (std::string& token : tokens) {
            if (const auto byte = byte_token_value(token)) {
                pending += static_cast<char>(*byte);
                continue;
            }
            flush();
            out.push_back(std::move(token));
        }
        flush();
        tokens = std::move(out);
    }
};

class FuseDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string joined;
        for (const std::string& token : tokens) joined += token;
        tokens.assign(1, std::move(joined));
    }
};

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
class StripDecoder final : public Decoder {
public:
    StripDecoder(std::string content, std::size_t start, std::size_t stop)
        : m_content(std::move(content)), m_start(start), m_stop(stop) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        const std::size_t n = m_content.size();
        for (std::string& token : tokens) {
            std::size_t begin = 0, end = token.size();
            for (std::size_t i = 0; i < m_start && end - begin >= n && token.compare(begin, n, m_content) == 0; ++i) {
                begin += n;
            }
            for (std::size_t i = 0; i < m_stop && end - begin >= n && token.compare(end - n, n, m_content) == 0; ++i) {
                end -= n;
            }
            token = token.substr(begin, end - begin);
        }
    }

private:
    std::string m_content;  // one character
    std::size_t m_start, m_stop;
};

// Classic BPE end-of-word suffix: "</w>" becomes a space, nothing on the last token.
class BpeSuffixDecoder final : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix) : m_suffix(std::move(suffix)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        if (m_suffix.empty()) return;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            const std::string& token = tokens[i];
            std::size_t copied = 0;
            for (auto pos = token.find(m_suffix); pos != std::string::npos; pos = token.find(m_suffix, copied)) {
                out.append(token, copied, pos - copied);
                if (i + 1 != tokens.size()) out += ' ';
                copied = pos + m_suffix.size();
            }
            out.append(token, copied, std::string::npos);
            tokens[i] = std::move(out);
        }
    }

private:
    std::string m_suffix;
};

std::unique_ptr<Decoder> make_sequence(const json& spec, const JsonPath& at) {
    return std::make_unique<SequenceDecoder>(sequence_steps<Decoder>(spec, "decoders", at, make_decoder));
}
std::unique_ptr<Decoder> make_replace(const json& spec, const JsonPath& at) {
    Pattern pattern = Pattern::from_json(require_field(spec, "pattern", at), at.field("pattern"));
    return std::make_unique<ReplaceDecoder>(std::move(pattern), get_string(spec, "content", at));
}
std::unique_ptr<Decoder> make_byte_fallback(const json&, const JsonPath&) {
    return std::make_unique<ByteFallbackDecoder>();
}
std::unique_ptr<Decoder> make_fuse(const json&, const JsonPath&) { return std::make_unique<FuseDecoder>(); }
std::unique_ptr<Decoder> make_strip(const json& spec, const JsonPath& at) {
    std::string content = get_string(spec, "content", at);
    if (content.empty() || char_length(content, 0) != content.size()) {
        at.field("content").fail("must be exactly one character, found " + quote_text(content));
    }
    const int64_t start = get_int_or(spec, "start", 0, at), stop = get_int_or(spec, "stop", 0, at);
    if (start < 0 || stop < 0) at.fail("start and stop must not be negative");
    return std::make_unique<StripDecoder>(std::move(content), static_cast<std::size_t>(start),
                                          static_cast<std::size_t>(stop));
}
std::unique_ptr<Decoder> make_bpe_suffix(const json& spec, const JsonPath& at) {
    return std::make_unique<BpeSuffixDecoder>(get_optional_string(spec, "suffix", at).value_or("</w>"));
}

constexpr ComponentEntry<Decoder> registry[] = {
    {"ByteLevel", make_byte_level_decoder}, {"Metaspace", make_metaspace_decoder},
    {"Replace", make_replace},              {"ByteFallback", make_byte_fallback},
    {"Fuse", make_fuse},                    {"Strip", make_strip},
    {"Sequence", make_sequence},            {"BPEDecoder", make_bpe_suffix},
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& spec, const JsonPath& at) {
    return make_from_registry(registry, "decoder", spec, at);
}

}  // namespace sy::tok
