#pragma once
// Parses and fully validates one safetensors header (formats.md §11.1): header length inside the
// file, valid JSON object, known dtypes, shape x dtype size equals the byte span, offsets inside
// the data section, no overlaps or holes. Reads only the header bytes (pread), never the data.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/tensor_info.h"

namespace sy {

struct SafetensorsHeader {
    uint64_t data_offset = 0;                      // file offset of the data section (8 + N)
    uint64_t file_size = 0;
    std::vector<TensorInfo> tensors;               // in header order; file_index left 0
    std::map<std::string, std::string> metadata;   // "__metadata__"
};

// `origin` names the file in error messages. `file_size` is the size of the whole file.
SafetensorsHeader parse_safetensors_header(std::string_view header_json, uint64_t file_size,
                                           const std::string& origin);
SafetensorsHeader read_safetensors_header(const std::filesystem::path& file);

}  // namespace sy
