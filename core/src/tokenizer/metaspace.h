#pragma once
// SentencePiece-style Metaspace (formats.md §12.4): spaces become U+2581, optionally prepended,
// and the decoder that undoes it.
#include <memory>

#include "decoders.h"
#include "pre_tokenizers.h"

namespace sy::tok {

std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(const json& spec, const JsonPath& at);
std::unique_ptr<Decoder> make_metaspace_decoder(const json& spec, const JsonPath& at);

}  // namespace sy::tok
