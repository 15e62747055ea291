#include "byte_level.h"

#include <array>
#include <nlohmann/json.hpp>

#include "regex.h"
#include "utf8.h"

namespace sy::tok {
namespace {

// GPT-2 pre-tokenization regex, built into ByteLevel when use_regex is true (formats.md §12.6).
constexpr std::string_view gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// formats.md §12.7: printable bytes map to themselves, the other 68 to U+0100.. in byte order.
bool maps_to_itself(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteLevelTables {
    std::array<std::string, 256> char_of_byte;
    std::array<int16_t, 0x144> byte_of_char{};  // every mapped code point is below U+0144

    ByteLevelTables() {
        byte_of_char.fill(-1);
        char32_t next_shifted = 0x100;
        for (unsigned b = 0; b < 256; ++b) {
            const char32_t c = maps_to_itself(b) ? b : next_shifted++;
            append_utf8(char_of_byte[b], c);
            byte_of_char[c] = static_cast<int16_t>(b);
        }
    }
};

const ByteLevelTables& tables() {
    static const ByteLevelTables instance;
    return instance;
}

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
        : m_add_prefix_space(add_prefix_space), m_regex(std::move(regex)) {}

    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        // HF prepends the space to every piece, not only the first one of the input.
        if (m_add_prefix_space) {
            for (PreToken& piece : pieces) {
                if (piece.text.empty() || piece.text.front() != ' ') piece.text.insert(0, 1, ' ');
            }
        }
        if (m_regex) split_pieces(pieces, [this](std::string_view text) { return m_regex->find_all(text); });
        for (PreToken& piece : pieces) piece.text = to_byte_level(piece.text);
    }

private:
    bool m_add_prefix_space;
    std::unique_ptr<Regex> m_regex;  // null when use_regex is false
};

class ByteLevelDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        // Concatenate the bytes first: one character's bytes may span several tokens.
        std::string bytes;
        for (const std::string& token : tokens) bytes += from_byte_level(token);
        tokens.assign(1, utf8_lossy(bytes));
    }
};

}  // namespace

const std::string& byte_level_char(uint8_t b) { return tables().char_of_byte[b]; }

int byte_level_byte(char32_t c) {
    return c < tables().byte_of_char.size() ? tables().byte_of_char[c] : -1;
}

std::string to_byte_level(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    for (const char ch : text) out += byte_level_char(static_cast<uint8_t>(ch));
    return out;
}

std::string from_byte_level(std::string_view token) {
    std::string bytes;
    bytes.reserve(token.size());
    for (std::size_t pos = 0; pos < token.size(); pos += char_length(token, pos)) {
        const int b = byte_level_byte(code_point_at(token, pos));
        if (b < 0) return std::string(token);
        bytes += static_cast<char>(b);
    }
    return bytes;
}

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(const json& spec, const JsonPath& at) {
    const bool add_prefix_space = get_bool(spec, "add_prefix_space", true, at);
    std::unique_ptr<Regex> regex;
    if (get_bool(spec, "use_regex", true, at)) regex = std::make_unique<Regex>(gpt2_pattern, at);
    return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, std::move(regex));
}

std::unique_ptr<Decoder> make_byte_level_decoder(const json&, const JsonPath&) {
    return std::make_unique<ByteLevelDecoder>();
}

}  // namespace sy::tok
