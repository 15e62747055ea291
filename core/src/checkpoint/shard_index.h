#pragma once
// model.safetensors.index.json -> shard file list + tensor -> shard map (formats.md §11.3).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sy {

struct ShardIndex {
    std::vector<std::string> files;                 // unique shard names, sorted
    std::map<std::string, std::string> weight_map;  // tensor name -> shard name
};

ShardIndex read_shard_index(const std::filesystem::path& index_file);

}  // namespace sy
