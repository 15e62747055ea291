#pragma once
// The BPE model of tokenizer.json (formats.md §12.3): vocab, ranked merges, unk / byte_fallback
// handling for characters outside the vocab, ignore_merges.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bpe_merge.h"
#include "json_fields.h"

namespace sy::tok {

class BpeModel {
public:
    // `spec` is the "model" object. Fails at `at` for a non-BPE model, bad vocab or merges that
    // reference tokens missing from the vocab.
    static BpeModel from_json(const json& spec, const JsonPath& at);

    // Appends the ids of one pre-token (already normalized and pre-tokenized).
    void tokenize(std::string_view piece, std::vector<int32_t>& ids) const;

    std::optional<int32_t> token_id(std::string_view token) const;
    const std::string* token_string(int32_t id) const;  // nullptr for an unknown id
    int32_t max_id() const { return m_max_id; }          // -1 for an empty vocab

private:
    void add_char_ids(std::string_view piece, std::vector<int32_t>& ids) const;

    std::string m_origin;
    std::unordered_map<std::string, int32_t> m_vocab;
    std::unordered_map<int32_t, std::string> m_tokens;  // id -> string (ids may have gaps)
    MergeTable m_merges;
    std::optional<std::string> m_unk_token;
    std::string m_continuing_subword_prefix;
    std::string m_end_of_word_suffix;
    bool m_byte_fallback = false;
    bool m_fuse_unk = false;
    bool m_ignore_merges = false;
    std::array<int32_t, 256> m_byte_ids{};  // id of "<0xHH>", -1 when absent
    int32_t m_max_id = -1;
};

}  // namespace sy::tok
