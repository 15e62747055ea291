#include "bpe_model.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "utf8.h"

namespace sy::tok {
namespace {

// A merges entry: legacy "a b" string (split at the first space) or ["a", "b"] pair.
std::pair<std::string, std::string> merge_parts(const json& entry, const JsonPath& at) {
    if (entry.is_string()) {
        const std::string& line = entry.get_ref<const std::string&>();
        const auto space = line.find(' ');
        if (space == std::string::npos) at.fail("merge " + quote_text(line) + " has no space between its two parts");
        return {line.substr(0, space), line.substr(space + 1)};
    }
    if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
        return {entry[0].get<std::string>(), entry[1].get<std::string>()};
    }
    at.fail("a merge must be a string \"a b\" or a pair [\"a\", \"b\"], found " + entry.dump().substr(0, 60));
}

}  // namespace

BpeModel BpeModel::from_json(const json& spec, const JsonPath& at) {
    BpeModel model;
    model.m_origin = at.origin();
    if (const auto type = get_optional_string(spec, "type", at); type && *type != "BPE") {
        const JsonPath type_at = at.field("type");
    type_at.fail(quote_text(*type) + " is not supported (supported: BPE)");
    }
    const JsonPath vocab_at = at.field("vocab");
    const json& vocab = require_field(spec, "vocab", at);
    require_object(vocab, vocab_at);
    model.m_vocab.reserve(vocab.size());
    for (const auto& [token, id_value] : vocab.items()) {
        const int32_t id = as_token_id(id_value, vocab_at.field(token));
        model.m_vocab.emplace(token, id);
        model.m_tokens.emplace(id, token);  // HF keeps one string per id; first one wins here
        model.m_max_id = std::max(model.m_max_id, id);
    }

    model.m_unk_token = get_optional_string(spec, "unk_token", at);
    model.m_continuing_subword_prefix = get_optional_string(spec, "continuing_subword_prefix", at).value_or("");
    model.m_end_of_word_suffix = get_optional_string(spec, "end_of_word_suffix", at).value_or("");
    model.m_byte_fallback = get_bool(spec, "byte_fallback", false, at);
    model.m_fuse_unk = get_bool(spec, "fuse_unk", false, at);
    model.m_ignore_merges = get_bool(spec, "ignore_merges", false, at);
    // "dropout" only matters for training-time sampling; encoding here is deterministic (p = 0).
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = model.m_vocab.find(name);
        model.m_byte_ids[b] = it == model.m_vocab.end() ? -1 : it->second;
    }

    const JsonPath merges_at = at.field("merges");
    const json* merges = optional_field(spec, "merges");
    if (merges == nullptr) return model;
    require_array(*merges, merges_at);
    model.m_merges.reserve(merges->size());
    const std::string& prefix = model.m_continuing_subword_prefix;
    for (std::size_t rank = 0; rank < merges->size(); ++rank) {
        const JsonPath entry_at = merges_at.index(rank);
        auto [a, b] = merge_parts((*merges)[rank], entry_at);
        auto id_of = [&](const std::string& token) {
            const auto it = model.m_vocab.find(token);
            if (it == model.m_vocab.end()) entry_at.fail("merge token " + quote_text(token) + " is not in model.vocab");
            return it->second;
        };
        const int32_t a_id = id_of(a), b_id = id_of(b);
        const bool strip = !prefix.empty() && b.compare(0, prefix.size(), prefix) == 0;
        const int32_t new_id = id_of(a + (strip ? b.substr(prefix.size()) : b));
        // Like HF (a HashMap collect), a repeated pair keeps its last rank.
        model.m_merges[merge_key(a_id, b_id)] = {static_cast<int32_t>(rank), new_id};
    }
    return model;
}

// Splits the piece into characters and maps each to an id (formats.md §12.3), following HF
// BPE::merge_word, including its quirk that byte-fallback ids are added before a pending unk.
void BpeModel::add_char_ids(std::string_view piece, std::vector<int32_t>& ids) const {
    std::optional<int32_t> pending_unk;
    std::string symbol;
    for (std::size_t pos = 0; pos < piece.size();) {
        const std::size_t len = char_length(piece, pos);
        symbol.clear();
        if (pos != 0) symbol += m_continuing_subword_prefix;
        symbol.append(piece.substr(pos, len));
        pos += len;
        if (pos == piece.size()) symbol += m_end_of_word_suffix;

        if (const auto it = m_vocab.find(symbol); it != m_vocab.end()) {
            if (pending_unk) ids.push_back(*pending_unk);
            pending_unk.reset();
            ids.push_back(it->second);
            continue;
        }
        if (m_byte_fallback) {
            bool all_bytes = true;
            for (const char ch : symbol) all_bytes = all_bytes && m_byte_ids[static_cast<uint8_t>(ch)] >= 0;
            if (all_bytes) {
                for (const char ch : symbol) ids.push_back(m_byte_ids[static_cast<uint8_t>(ch)]);
                continue;
            }
        }
        if (!m_unk_token) continue;  // HF drops the character when there is no unk_token
        const auto unk = m_vocab.find(*m_unk_token);
        if (unk == m_vocab.end()) {
            throw TokenizerError(m_origin + ": model.unk_token " + quote_text(*m_unk_token) + " is not in model.vocab");
        }
        if (pending_unk && !m_fuse_unk) ids.push_back(*pending_unk);
        pending_unk = unk->second;
    }
    if (pending_unk) ids.push_back(*pending_unk);
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& ids) const {
    if (piece.empty()) return;
    if (m_ignore_merges) {
        if (const auto it = m_vocab.find(std::string(piece)); it != m_vocab.end()) {
            ids.push_back(it->second);
            return;
        }
    }
    std::vector<int32_t> symbols;
    symbols.reserve(piece.size());
    add_char_ids(piece, symbols);
    merge_symbols(symbols, m_merges);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
}

std::optional<int32_t> BpeModel::token_id(std::string_view token) const {
    const auto it = m_vocab.find(std::string(token));
    if (it == m_vocab.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::token_string(int32_t id) const {
    const auto it = m_tokens.find(id);
    return it == m_tokens.end() ? nullptr : &it->second;
}

}  // namespace sy::tok
