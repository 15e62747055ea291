#include "utf8.h"

#include <unicode/uchar.h>

#include "unicode_classes.h"

namespace sy::tok {
namespace {

// Decodes one character at bytes[pos]. Returns its byte length; `valid` false means the bytes
// at pos form the returned number of bytes of a maximal ill-formed subpart (Unicode §3.9,
// Table 3-7), which is what from_utf8_lossy replaces by one U+FFFD.
std::size_t decode_one(std::string_view bytes, std::size_t pos, char32_t& cp, bool& valid) {
    const auto b0 = static_cast<unsigned char>(bytes[pos]);
    valid = true;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        valid = false;
        return 1;
    }
    for (std::size_t k = 1; k <= need; ++k) {
        if (pos + k >= bytes.size()) {
            valid = false;
            return k;
        }
        const auto b = static_cast<unsigned char>(bytes[pos + k]);
        const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
        if (b < min || b > max) {
            valid = false;
            return k;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    return need + 1;
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view text) {
    char32_t cp = 0;
    bool valid = true;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t len = decode_one(text, pos, cp, valid);
        if (!valid) return pos;
        pos += len;
    }
    return std::string_view::npos;
}

std::size_t char_length(std::string_view text, std::size_t pos) {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80) return 1;
    if (b0 < 0xE0) return 2;
    if (b0 < 0xF0) return 3;
    return 4;
}

char32_t code_point_at(std::string_view text, std::size_t pos) {
    char32_t cp = 0;
    bool valid = true;
    decode_one(text, pos, cp, valid);
    return valid ? cp : 0xFFFD;
}

std::size_t previous_char_start(std::string_view text, std::size_t pos) {
    do --pos; while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80);
    return pos;
}

char32_t last_code_point(std::string_view text) { return code_point_at(text, previous_char_start(text, text.size())); }

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

bool is_whitespace(char32_t c) {
    return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_word_char(char32_t c) {
    // The `regex` crate's tables (Unicode 16), not ICU's (Debian 12: Unicode 15).
    static const CodeRanges word = rust_word_class();
    return contains(word, static_cast<uint32_t>(c));
}

std::string utf8_lossy(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    char32_t cp = 0;
    bool valid = true;
    for (std::size_t pos = 0; pos < bytes.size();) {
        const std::size_t len = decode_one(bytes, pos, cp, valid);
        if (valid) {
            out.append(bytes.substr(pos, len));
        } else {
            out += "\xEF\xBF\xBD";  // U+FFFD
        }
        pos += len;
    }
    return out;
}

}  // namespace sy::tok
