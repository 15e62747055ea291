#pragma once
// Pre-tokenizers (formats.md §12.4): split a normalized segment into the pieces the BPE model
// sees. Registry of types and the generic ones (Split, Sequence, Digits, Whitespace,
// WhitespaceSplit, Punctuation) live in pre_tokenizers.cpp; ByteLevel and Metaspace in their own
// files because their decoders share their parameters.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.h"
#include "regex.h"

namespace sy::tok {

struct PreToken {
    std::string text;
    // The piece starts at byte 0 of the original input (HF `offsets_original().0 == 0`);
    // Metaspace prepend_scheme "first" prepends only there.
    bool at_input_start = false;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces every piece by its sub-pieces, in order; empty pieces are dropped.
    virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

// nullptr for a JSON null; TokenizerError at `at` for an unknown or malformed pre-tokenizer.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec, const JsonPath& at);

// Helper for implementations: splits every piece at the spans `spans_of(piece text)` returns.
void split_pieces(std::vector<PreToken>& pieces,
                  const std::function<std::vector<Span>(std::string_view)>& spans_of);

}  // namespace sy::tok
