// sy::Tokenizer: the public API over Tokenizer::Impl (encode / decode / lookups).
#include "switchyard/core/tokenizer.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "switchyard/core/errors.h"
#include "tokenizer_impl.h"
#include "utf8.h"

namespace sy {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw IoError(path + ": is a directory, expected tokenizer.json");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open tokenizer file: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw IoError(path + ": read error");
    return from_json_text(text.str(), path);
}

Tokenizer Tokenizer::from_json_text(std::string_view json, const std::string& origin) {
    return Tokenizer(Impl::load(json, origin));
}

// formats.md §12.2: added tokens are cut out of the raw text first (normalized: false) and of
// each normalized segment next (normalized: true); the rest is pre-tokenized and BPE-encoded.
std::vector<int32_t> Tokenizer::Impl::encode_ids(std::string_view text, bool add_special_tokens) const {
    if (const auto bad = tok::find_invalid_utf8(text); bad != std::string_view::npos) {
        throw TokenizerError(origin + ": input text is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    }
    std::vector<int32_t> ids;
    std::vector<tok::PreToken> pieces;
    for (const tok::Segment& raw : raw_matcher.split(text)) {
        if (raw.id >= 0) {
            ids.push_back(raw.id);
            continue;
        }
        std::string segment(text.substr(raw.begin, raw.end - raw.begin));
        if (normalizer) normalizer->normalize(segment);
        for (const tok::Segment& part : normalized_matcher.split(segment)) {
            if (part.id >= 0) {
                ids.push_back(part.id);
                continue;
            }
            pieces.assign(1, {segment.substr(part.begin, part.end - part.begin), raw.begin == 0 && part.begin == 0});
            if (pre_tokenizer) pre_tokenizer->pre_tokenize(pieces);
            for (const tok::PreToken& piece : pieces) model.tokenize(piece.text, ids);
        }
    }
    if (add_special_tokens && post_processor) post_processor->process(ids);
    return ids;
}

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
    if (const auto bad = tok::find_invalid_utf8(text); bad != std::string_view::npos) {
        throw TokenizerError(m_impl->origin + ": input text is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    }
    std::vector<tok::PreToken> pieces(1, {std::string(text), true});
    if (m_impl->pre_tokenizer) m_impl->pre_tokenizer->pre_tokenize(pieces);
    std::vector<std::string> out;
    out.reserve(pieces.size());
    for (tok::PreToken& piece : pieces) out.push_back(std::move(piece.text));
    return out;
}

const std::string* Tokenizer::Impl::token_string(int32_t id) const {
    if (const auto it = added_strings.find(id); it != added_strings.end()) return &it->second;
    return model.token_string(id);
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    Encoding encoding;
    encoding.ids = m_impl->encode_ids(text, add_special_tokens);
    encoding.pieces.reserve(encoding.ids.size());
    for (const int32_t id : encoding.ids) {
        const std::string* piece = m_impl->token_string(id);
        encoding.pieces.push_back(piece ? *piece : std::string());
    }
    return encoding;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int32_t id : ids) {
        const std::string* token = m_impl->token_string(id);
        if (token == nullptr) continue;  // unknown ids are skipped, as HF does
        if (skip_special_tokens && m_impl->special_contents.count(*token) != 0) continue;
        tokens.push_back(*token);
    }
    if (!m_impl->decoder) {
        // HF joins with spaces when the file has no decoder.
        std::string joined;
        for (std::size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
        return joined;
    }
    m_impl->decoder->decode_chain(tokens);
    std::string text;
    for (const std::string& token : tokens) text += token;
    return text;
}

std::string Tokenizer::token_string(int32_t id) const {
    const std::string* token = m_impl->token_string(id);
    return token ? *token : std::string();
}

int32_t Tokenizer::id_count() const { return m_impl->id_count; }

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
    if (const auto it = m_impl->added_ids.find(std::string(token)); it != m_impl->added_ids.end()) return it->second;
    return m_impl->model.token_id(token);
}

bool Tokenizer::post_processor_adds_bos() const { return !m_impl->post_prefix.empty(); }

std::optional<int32_t> Tokenizer::bos_id() const {
    if (m_impl->post_prefix.empty()) return std::nullopt;
    return m_impl->post_prefix.front();
}

}  // namespace sy
