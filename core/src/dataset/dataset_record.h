#pragma once
// One JSONL record parsed, before tokenization (internal to core/src/dataset).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy {

enum class DataFileKind { jsonl, text, unsupported };
DataFileKind data_file_kind(const std::filesystem::path& path);

struct DataRecord {
    std::string domain;                   // "" when absent
    std::optional<std::string> text;      // set when the record has no input_ids
    std::vector<int32_t> input_ids;       // verbatim ids (when present, `text` is ignored)
    bool has_input_ids = false;
};

// Parses one non-blank JSONL line. `source` ("path:line") prefixes every message; throws
// UsageError for invalid JSON, a record with neither `text` nor `input_ids`, ill-typed fields,
// or (vocab_size > 0) an id outside [0, vocab_size).
DataRecord parse_data_record(std::string_view line, const std::string& source, int64_t vocab_size);

}  // namespace sy
