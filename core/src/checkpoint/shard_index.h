#pragma once
// model.safetensors.index.json -> shard file list + tensor -> shard map (formats.md §11.3).
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace sy {

struct ShardIndex {
    std::vector<std::string> files;   // unique shard names, sorted
    // (tensor name, index into `files`), sorted by name, each name once (the last one listed wins,
    // as in a JSON object read into a map).
    std::vector<std::pair<std::string, uint32_t>> entries;
};

// Parsed in one SAX pass, with no JSON tree: DeepSeek-V3's index names 91,991 tensors.
ShardIndex read_shard_index(const std::filesystem::path& index_file);

}  // namespace sy
