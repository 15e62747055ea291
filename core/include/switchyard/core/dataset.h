#pragma once
// Datasets for trace and eval, read as a stream of batches so a 10 GB corpus
// never sits in memory: JSONL records with `text` (tokenized with the model's tokenizer) or
// `input_ids` (used verbatim: no BOS/EOS, no packing, no padding), optional `domain`; `.txt`
// files as one document each. Documents longer than seq_len are cut into consecutive windows,
// each an attention window starting at position 0; max_tokens caps the run.
//
// Thread rules: a DatasetReader is used by one thread at a time; the Tokenizer it borrows may be
// shared (it is immutable).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sy {

class Tokenizer;

// --bos for `text` records. automatic: what the tokenizer's post-processor does
// (encode(text, add_special_tokens = true)); on: plain encoding with the BOS id prepended;
// off: plain encoding.
enum class BosMode { automatic, on, off };

BosMode parse_bos_mode(const std::string& text);   // "auto" | "on" | "off"; throws UsageError
std::string bos_mode_name(BosMode mode);            // "auto" | "on" | "off"

// How `text` records are turned into ids, resolved once per run.
struct TextEncoding {
    BosMode mode = BosMode::automatic;
    bool add_special_tokens = false;      // call encode(text, true) (mode automatic)
    std::optional<int32_t> prepend_id;    // mode on: the BOS id put in front
    std::optional<int32_t> bos_id;        // the BOS that ends up first in each document, if any
};

// Resolves `mode` against the tokenizer (post-processor, bos_id()) and, for `on` when the
// tokenizer names no BOS, the model folder's config.json `bos_token_id` or
// tokenizer_config.json `bos_token`. Throws UsageError when `on` finds no BOS id anywhere.
TextEncoding resolve_text_encoding(BosMode mode, const Tokenizer& tokenizer, const std::filesystem::path& model_dir);

struct DatasetOptions {
    // .jsonl / .ndjson / .txt files, or folders holding them (taken in sorted path order,
    // recursively). Document indices run across all files in order.
    std::vector<std::filesystem::path> files;
    int64_t seq_len = 512;        // longest attention window (tokens)
    int64_t batch_tokens = 0;     // most tokens per batch; 0: default_batch_tokens(seq_len)
    int64_t max_tokens = 0;       // stop after this many tokens; 0: the whole dataset
    int64_t vocab_size = 0;       // > 0: input_ids must lie in [0, vocab_size)
    TextEncoding text;            // ignored when no record has `text`
};

int64_t default_batch_tokens(int64_t seq_len);   // max(seq_len, 4096)

// One record of the dataset, in file order (records without tokens included).
struct DocumentInfo {
    int64_t index = 0;        // 0-based record index over all files
    std::string domain;       // "" when the record has none
    std::string source;       // "path:line" (line 1-based; .txt files: "path:1")
};

// One attention window: ids[i] sits at position first_pos + i of document `doc`.
struct Window {
    int64_t doc = 0;
    int64_t first_pos = 0;
    std::vector<int32_t> ids;
};

struct DatasetBatch {
    int64_t first_token = 0;                // tokens emitted before this batch
    std::vector<Window> windows;            // attention windows, total size <= batch_tokens
    std::vector<DocumentInfo> new_docs;     // records first read while filling this batch
    int64_t token_count() const;
};

// Streams batches from the dataset. Batches are deterministic for given options and files, so
// a resumed trace can skip the batches it already holds.
class DatasetReader {
public:
    // `tokenizer` may be null when every record carries input_ids; it must outlive the reader.
    // Throws UsageError for bad options, IoError for missing/unreadable files.
    DatasetReader(const DatasetOptions& options, const Tokenizer* tokenizer);
    DatasetReader(DatasetReader&&) noexcept;
    DatasetReader& operator=(DatasetReader&&) noexcept;
    ~DatasetReader();

    // Fills `batch` with the next windows; false when the dataset (or max_tokens) is exhausted.
    // Throws UsageError naming "file:line" for a malformed record, TokenizerError (with the
    // same context) for text the tokenizer rejects.
    bool next(DatasetBatch& batch);

    int64_t tokens_emitted() const;
    int64_t docs_read() const;
    double fraction_read() const;   // bytes consumed / total bytes of all files, in [0, 1]
    uint64_t total_bytes() const;   // size of all files
    const std::vector<std::filesystem::path>& files() const;   // expanded, in reading order
    const DatasetOptions& options() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// The file list that `files` expands to (folders walked, sorted); throws UsageError/IoError.
std::vector<std::filesystem::path> expand_dataset_files(const std::vector<std::filesystem::path>& files);

}  // namespace sy
