#pragma once
// Hugging Face tokenizer.json (BPE model) loader, encoder and decoder (formats.md §12).
// Supported: BPE with byte-level or SentencePiece-style (byte_fallback) vocabularies, added
// tokens, the normalizers / pre-tokenizers / decoders / post-processors that the MoE families in
// formats.md §12.5 use. Anything else in a file is rejected at load time with a TokenizerError
// naming the file and the JSON path, never silently ignored.
//
// Thread rules: a loaded Tokenizer is immutable; encode/decode/lookups may be called from any
// number of threads at once.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy {

struct Encoding {
    std::vector<int32_t> ids;
    std::vector<std::string> pieces;  // pieces[i] = vocab / added-token string of ids[i]
};

class Tokenizer {
public:
    // Throws sy::IoError (unreadable file) or sy::TokenizerError (bad content), naming the file.
    static Tokenizer from_file(const std::string& path);
    // `origin` names the source in error messages (usually the file path).
    static Tokenizer from_json_text(std::string_view json, const std::string& origin);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // `text` must be valid UTF-8 (TokenizerError otherwise). add_special_tokens applies the
    // post_processor (TemplateProcessing BOS/EOS; ByteLevel adds nothing).
    Encoding encode(std::string_view text, bool add_special_tokens = false) const;
    // The pieces the pre-tokenizer alone makes of `text` (no added tokens, no normalizer), as HF's
    // `pre_tokenizer.pre_tokenize_str(text)` lists them (byte-level pieces in their mapped form).
    std::vector<std::string> pre_tokenize(std::string_view text) const;
    // Unknown ids are skipped, as HF does. Byte-level output is decoded as lossy UTF-8.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

    std::string token_string(int32_t id) const;  // vocab / added-token string, "" if unknown id
    int32_t id_count() const;                     // max id + 1 over vocab and added tokens
    std::optional<int32_t> token_id(std::string_view token) const;  // added tokens first
    bool post_processor_adds_bos() const;  // whether encode(..., true) prepends anything
    std::optional<int32_t> bos_id() const;  // the first id encode(..., true) prepends, if any

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
};

}  // namespace sy
