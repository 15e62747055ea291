// Readable vocabulary pieces (token_pieces.h).
#include "switchyard/core/token_pieces.h"

#include <cstdio>

#include "byte_level.h"
#include "utf8.h"

namespace sy {
namespace {

constexpr std::string_view sentencepiece_space = "\xE2\x96\x81";   // U+2581
constexpr std::string_view byte_level_space = "\xC4\xA0";          // U+0120, byte 0x20
constexpr std::string_view byte_level_newline = "\xC4\x8A";        // U+010A, byte 0x0A

// Length of the valid UTF-8 sequence at text[pos], or 0 when the bytes there are not one.
std::size_t valid_sequence(std::string_view text, std::size_t pos) {
    const auto c = static_cast<unsigned char>(text[pos]);
    const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || pos + length > text.size()) return 0;
    return tok::find_invalid_utf8(text.substr(pos, length)) == std::string_view::npos ? length : 0;
}

void append_hex_byte(std::string& out, unsigned char byte) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", byte);
    out += hex;
}

// "<0xNN>" at text[pos] (SentencePiece byte fallback): the byte, or -1.
int fallback_byte(std::string_view text, std::size_t pos) {
    if (pos + 6 > text.size() || text.compare(pos, 3, "<0x") != 0 || text[pos + 5] != '>') return -1;
    int value = 0;
    for (std::size_t i = pos + 3; i < pos + 5; ++i) {
        const char c = text[i];
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

}  // namespace

PieceStyle vocabulary_piece_style(const std::vector<std::string>& vocab) {
    std::size_t byte_level = 0, sentencepiece = 0;
    for (const std::string& piece : vocab) {
        byte_level += piece.find(byte_level_space) != std::string::npos || piece.find(byte_level_newline) != std::string::npos;
        sentencepiece += piece.find(sentencepiece_space) != std::string::npos;
    }
    return byte_level > sentencepiece ? PieceStyle::byte_level : PieceStyle::sentencepiece;
}

std::string piece_bytes(std::string_view piece, PieceStyle style) {
    if (style == PieceStyle::byte_level) {
        if (tok::find_invalid_utf8(piece) != std::string_view::npos) return std::string(piece);
        return tok::from_byte_level(piece);
    }
    std::string out;
    for (std::size_t pos = 0; pos < piece.size();) {
        if (piece.compare(pos, sentencepiece_space.size(), sentencepiece_space) == 0) {
            out += ' ';
            pos += sentencepiece_space.size();
        } else if (const int byte = fallback_byte(piece, pos); byte >= 0) {
            out += static_cast<char>(byte);
            pos += 6;
        } else {
            out += piece[pos++];
        }
    }
    return out;
}

std::string readable_text(std::string_view bytes) {
    std::string out;
    for (std::size_t pos = 0; pos < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[pos]);
        const std::size_t length = valid_sequence(bytes, pos);
        if (c == ' ') out += "\xE2\x90\xA3";          // U+2423 open box
        else if (c == '\n') out += "\xE2\x86\xB5";    // U+21B5 downwards arrow with corner leftwards
        else if (c == '\t') out += "\xE2\x87\xA5";    // U+21E5 rightwards arrow to bar
        else if (c < 0x20 || c == 0x7F || length == 0) append_hex_byte(out, c);
        else out.append(bytes.substr(pos, length));
        pos += length == 0 ? 1 : length;
    }
    return out;
}

std::string readable_piece(std::string_view piece, PieceStyle style) { return readable_text(piece_bytes(piece, style)); }

}  // namespace sy
