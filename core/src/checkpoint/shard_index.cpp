#include "shard_index.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "switchyard/core/errors.h"

namespace sy {

ShardIndex read_shard_index(const std::filesystem::path& index_file) {
    const std::string origin = index_file.string();
    std::ifstream in(index_file, std::ios::binary);
    if (!in) throw IoError(origin + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json root;
    try {
        root = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception& e) {
        throw CheckpointError(origin + ": not valid JSON (" + e.what() + ")");
    }
    // Only weight_map is required: DeepSeek's conversion writes "metadata": {}.
    auto map_it = root.is_object() ? root.find("weight_map") : root.end();
    if (map_it == root.end() || !map_it->is_object())
        throw CheckpointError(origin + ": missing \"weight_map\" object");
    ShardIndex index;
    std::set<std::string> files;
    for (const auto& [tensor, shard] : map_it->items()) {
        if (!shard.is_string()) throw CheckpointError(origin + ": weight_map entry for " + tensor + " is not a file name");
        const auto name = shard.get<std::string>();
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
            throw CheckpointError(origin + ": weight_map entry for " + tensor + " names \"" + name +
                                  "\", which is not a file in the checkpoint folder");
        index.weight_map[tensor] = name;
        files.insert(name);
    }
    if (index.weight_map.empty()) throw CheckpointError(origin + ": weight_map is empty");
    index.files.assign(files.begin(), files.end());
    return index;
}

}  // namespace sy
