#pragma once
// Decoders (formats.md §12.5): turn the token strings of ids back into text. Each one maps the
// token list to a new list (HF `decode_chain`); the tokenizer concatenates the final list.
#include <memory>
#include <string>
#include <vector>

#include "json_fields.h"

namespace sy::tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// nullptr for a JSON null; TokenizerError at `at` for an unknown or malformed decoder.
std::unique_ptr<Decoder> make_decoder(const json& spec, const JsonPath& at);

}  // namespace sy::tok
