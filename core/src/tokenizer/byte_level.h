#pragma once
// GPT-2 byte-level alphabet (formats.md §12.7) and the ByteLevel pre-tokenizer and decoder.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "decoders.h"
#include "pre_tokenizers.h"

namespace sy::tok {

// UTF-8 of the character byte `b` maps to.
const std::string& byte_level_char(uint8_t b);
// Inverse map: the byte for `c`, or -1 when `c` is not in the alphabet.
int byte_level_byte(char32_t c);

// Maps every byte of `text` to its byte-level character.
std::string to_byte_level(std::string_view text);
// Inverse of to_byte_level for one token: the raw bytes, or the token's own UTF-8 bytes when any
// character lies outside the alphabet (added tokens such as "<|endoftext|>" in HF's decoder).
std::string from_byte_level(std::string_view token);

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(const json& spec, const JsonPath& at);
std::unique_ptr<Decoder> make_byte_level_decoder(const json& spec, const JsonPath& at);

}  // namespace sy::tok
