#pragma once
// A strict JSON reader that drives a SAX handler of nlohmann's shape (null, boolean,
// number_integer/unsigned/float, string, key, start/end_object, start/end_array), for the large,
// plain documents a checkpoint opens with: shard headers and model.safetensors.index.json
// (Kimi-K2: 26 MB of JSON). nlohmann's lexer reads a character at a time and keeps a copy of each
// token for its messages, about 60 MB/s here; this one copies strings with memchr-sized runs.
//
// It accepts only what RFC 8259 accepts and gives up (returns false) on anything it does not
// handle itself: invalid JSON, invalid UTF-8, lone surrogates, numbers out of 64-bit range,
// nesting deeper than 256. The caller then runs nlohmann's parser on the same text, with a
// fresh handler, which either produces its usual error message or parses what was declined.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sy::fast_json {

namespace detail {

inline bool valid_utf8(const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((p[i + k] & 0xC0) != 0x80) return false;
        // Overlong 3/4-byte forms, surrogates, and code points above U+10FFFF.
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) || (c == 0xF0 && p[i + 1] < 0x90) ||
            (c == 0xF4 && p[i + 1] > 0x8F))
            return false;
        i += len;
    }
    return true;
}

inline void append_utf8(std::string& out, uint32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6)), out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12)), out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18)), out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    }
}

class Reader {
public:
    explicit Reader(std::string_view text) : m_p(text.data()), m_end(text.data() + text.size()) {}

    void skip_space() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
    }
    bool at_end() const { return m_p == m_end; }
    char peek() const { return m_p < m_end ? *m_p : '\0'; }
    void advance() { ++m_p; }
    bool consume(char c) {
        if (m_p < m_end && *m_p == c) return ++m_p, true;
        return false;
    }
    bool literal(const char* word) {
        const std::size_t n = std::strlen(word);
        if (std::size_t(m_end - m_p) < n || std::memcmp(m_p, word, n) != 0) return false;
        m_p += n;
        return true;
    }

    // After the opening quote; fills `out` and consumes the closing quote.
    bool string(std::string& out) {
        out.clear();
        bool ascii = true;
        for (;;) {
            const char* run = m_p;
            while (m_p < m_end && *m_p != '"' && *m_p != '\\' && static_cast<unsigned char>(*m_p) >= 0x20) {
                ascii &= static_cast<unsigned char>(*m_p) < 0x80;
                ++m_p;
            }
            out.append(run, m_p);
            if (m_p == m_end || static_cast<unsigned char>(*m_p) < 0x20) return false;
            if (*m_p++ == '"') break;
            if (!escape(out)) return false;
        }
        return ascii || valid_utf8(reinterpret_cast<const unsigned char*>(out.data()), out.size());
    }

    enum class Number { invalid, unsigned_int, negative, floating };
    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    Number number(uint64_t& u, int64_t& i, double& d, std::string& text) {
        const char* start = m_p;
        const bool minus = consume('-');
        if (!digits(true)) return Number::invalid;
        const char* integer_end = m_p;
        bool fraction = false;
        if (consume('.')) {
            if (!digits(false)) return Number::invalid;
            fraction = true;
        }
        if (peek() == 'e' || peek() == 'E') {
            advance();
            if (!consume('+')) consume('-');
            if (!digits(false)) return Number::invalid;
            fraction = true;
        }
        text.assign(start, m_p);
        if (fraction) {
            d = std::strtod(text.c_str(), nullptr);
            return std::isfinite(d) ? Number::floating : Number::invalid;   // nlohmann: "number overflow"
        }
        uint64_t value = 0;
        for (const char* c = start + minus; c < integer_end; ++c) {
            const uint64_t digit = uint64_t(*c - '0');
            if (value > (UINT64_MAX - digit) / 10) return Number::invalid;   // nlohmann decides
            value = value * 10 + digit;
        }
        if (!minus) return u = value, Number::unsigned_int;
        if (value > uint64_t(INT64_MAX)) return Number::invalid;
        i = -static_cast<int64_t>(value);
        return Number::negative;
    }

private:
    bool digits(bool json_integer) {
        const char* start = m_p;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
        if (m_p == start) return false;
        return !json_integer || *start != '0' || m_p - start == 1;   // no leading zeros
    }

    bool hex4(uint32_t& value) {
        if (m_end - m_p < 4) return false;
        value = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = *m_p++;
            value <<= 4;
            if (c >= '0' && c <= '9') value |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') value |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') value |= uint32_t(c - 'A' + 10);
            else return false;
        }
        return true;
    }

    bool escape(std::string& out) {
        if (m_p == m_end) return false;
        switch (*m_p++) {
            case '"': out += '"'; return true;
            case '\\': out += '\\'; return true;
            case '/': out += '/'; return true;
            case 'b': out += '\b'; return true;
            case 'f': out += '\f'; return true;
            case 'n': out += '\n'; return true;
            case 'r': out += '\r'; return true;
            case 't': out += '\t'; return true;
            case 'u': break;
            default: return false;
        }
        uint32_t c = 0;
        if (!hex4(c)) return false;
        if (c >= 0xDC00 && c <= 0xDFFF) return false;
        if (c >= 0xD800 && c <= 0xDBFF) {
            uint32_t low = 0;
            if (!consume('\\') || !consume('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, c);
        return true;
    }

    const char* m_p;
    const char* m_end;
};

}  // namespace detail

// Runs `sax` over `text`; false when the text is declined (see above), in which case the
// handler has seen part of it and must be discarded. Handler exceptions propagate.
template <class Sax>
bool parse(std::string_view text, Sax& sax) {
    detail::Reader in(text);
    std::vector<char> open;   // '{' or '[' per level
    std::string string, number_text;
    bool expect_key = false;
    for (;;) {
        in.skip_space();
        // A value (or, in an object, a key and then a value).
        if (expect_key) {
            if (!in.consume('"') || !in.string(string)) return false;
            sax.key(string);
            in.skip_space();
            if (!in.consume(':')) return false;
            in.skip_space();
            expect_key = false;
        }
        const char c = in.peek();
        bool closed_value = true;
        if (c == '{' || c == '[') {
            in.advance();
            if (open.size() >= 256) return false;
            open.push_back(c);
            if (c == '{') sax.start_object(std::size_t(-1));
            else sax.start_array(std::size_t(-1));
            in.skip_space();
            if (in.consume(c == '{' ? '}' : ']')) {
                open.pop_back();
                if (c == '{') sax.end_object();
                else sax.end_array();
            } else {
                expect_key = c == '{';
                closed_value = false;
            }
        } else if (c == '"') {
            in.advance();
            if (!in.string(string)) return false;
            sax.string(string);
        } else if (c == 't' || c == 'f' || c == 'n') {
            if (in.literal("true")) sax.boolean(true);
            else if (in.literal("false")) sax.boolean(false);
            else if (in.literal("null")) sax.null();
            else return false;
        } else {
            uint64_t u = 0;
            int64_t i = 0;
            double d = 0;
            switch (in.number(u, i, d, number_text)) {
                case detail::Reader::Number::unsigned_int: sax.number_unsigned(u); break;
                case detail::Reader::Number::negative: sax.number_integer(i); break;
                case detail::Reader::Number::floating: sax.number_float(d, number_text); break;
                case detail::Reader::Number::invalid: return false;
            }
        }
        if (!closed_value) continue;
        // After a value: separators and closing brackets.
        for (;;) {
            in.skip_space();
            if (open.empty()) return in.at_end();
            if (in.consume(',')) {
                expect_key = open.back() == '{';
                break;
            }
            const char close = open.back() == '{' ? '}' : ']';
            if (!in.consume(close)) return false;
            open.pop_back();
            if (close == '}') sax.end_object();
            else sax.end_array();
        }
    }
}

}  // namespace sy::fast_json
