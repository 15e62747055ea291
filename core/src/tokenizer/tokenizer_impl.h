#pragma once
// The loaded pipeline behind sy::Tokenizer (formats.md §12): added tokens -> normalizer ->
// pre-tokenizer -> BPE model -> post-processor, and the decoder. Built once by Impl::load
// (tokenizer_loader.cpp), then read-only.
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "added_tokens.h"
#include "bpe_model.h"
#include "decoders.h"
#include "normalizers.h"
#include "post_processor.h"
#include "pre_tokenizers.h"
#include "switchyard/core/tokenizer.h"

namespace sy {

struct Tokenizer::Impl {
    static std::unique_ptr<Impl> load(std::string_view json_text, const std::string& origin);

    void build(const tok::json& root, const tok::JsonPath& at);
    void index_added_tokens();

    std::vector<int32_t> encode_ids(std::string_view text, bool add_special_tokens) const;
    const std::string* token_string(int32_t id) const;  // added tokens first, then the vocab

    std::string origin;
    tok::BpeModel model;
    std::unique_ptr<tok::Normalizer> normalizer;
    std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
    std::unique_ptr<tok::PostProcessor> post_processor;
    std::unique_ptr<tok::Decoder> decoder;

    std::vector<tok::AddedToken> added_tokens;  // never resized after load: matchers point into it
    std::unordered_map<std::string, int32_t> added_ids;
    // id -> string shown for an added token: HF shows a normalized token's normalized content.
    std::unordered_map<int32_t, std::string> added_strings;
    std::unordered_set<std::string> special_contents;  // skipped by decode(skip_special_tokens)
    tok::AddedTokenMatcher raw_matcher;         // tokens with normalized = false, on the raw text
    tok::AddedTokenMatcher normalized_matcher;  // normalized = true, on the normalized segments

    std::vector<int32_t> post_prefix;  // ids the post-processor puts before the sequence
    int32_t id_count = 0;
};

}  // namespace sy
