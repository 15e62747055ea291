#pragma once
// UTF-8 helpers for the tokenizer: validation, code point iteration and the Unicode character
// classes HF `tokenizers` uses outside its regexes (Rust `char::is_whitespace`, regex `\w`).
#include <cstddef>
#include <string>
#include <string_view>

namespace sy::tok {

// Byte offset of the first invalid UTF-8 sequence, or std::string_view::npos if `text` is valid.
std::size_t find_invalid_utf8(std::string_view text);

// Length in bytes of the character starting at text[pos]; text must be valid UTF-8.
std::size_t char_length(std::string_view text, std::size_t pos);

// Code point of the character starting at text[pos]; text must be valid UTF-8.
char32_t code_point_at(std::string_view text, std::size_t pos);

// Code point of the last character of a non-empty valid UTF-8 string.
char32_t last_code_point(std::string_view text);

// Start of the character that ends at byte `pos` (pos > 0) in valid UTF-8.
std::size_t previous_char_start(std::string_view text, std::size_t pos);

void append_utf8(std::string& out, char32_t code_point);

// Unicode White_Space (Rust `char::is_whitespace`).
bool is_whitespace(char32_t c);
// Rust regex `\w`: Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control.
bool is_word_char(char32_t c);

// Lossy UTF-8 decoding of arbitrary bytes: each maximal invalid subpart becomes U+FFFD, as
// Rust's String::from_utf8_lossy does (the ByteLevel decoder relies on it, formats.md §12.5).
std::string utf8_lossy(std::string_view bytes);

}  // namespace sy::tok
