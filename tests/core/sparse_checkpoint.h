#pragma once
// Header-only checkpoints with the real layouts of published models: each shard is a real
// safetensors header followed by a hole (resize_file), so 100+ GB of tensors cost no disk and
// `inspect` / open_model see exactly the names, shapes, dtypes and shard layout of the Hub files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "switchyard/core/safetensors_writer.h"

namespace sy::test {

inline void write_sparse_safetensors(const std::filesystem::path& file, const std::vector<TensorDecl>& decls) {
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}};
    uint64_t offset = 0;
    for (const TensorDecl& d : decls) {
        header[d.name] = {{"dtype", std::string(dtype_name(d.dtype))}, {"shape", d.shape}, {"data_offsets", {offset, offset + d.nbytes()}}};
        offset += d.nbytes();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::ofstream out(file, std::ios::binary);
    const uint64_t length = text.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
    out << text;
    out.close();
    std::filesystem::resize_file(file, 8 + length + offset);   // the data section stays a hole
}

// Tensors spread over `shards` files named by `shard_name(i)` in order (as the Hub's writers cut
// them: by size, in tensor order), plus model.safetensors.index.json.
inline void write_sparse_checkpoint(const std::filesystem::path& dir, const std::vector<TensorDecl>& decls, int shards,
                                    const std::function<std::string(int)>& shard_name) {
    std::filesystem::create_directories(dir);
    uint64_t total = 0;
    for (const TensorDecl& d : decls) total += d.nbytes();
    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    std::vector<TensorDecl> shard;
    uint64_t in_shard = 0;
    int index = 0;
    const uint64_t per_shard = total / static_cast<uint64_t>(shards) + 1;
    auto flush = [&] {
        write_sparse_safetensors(dir / shard_name(index), shard);
        for (const TensorDecl& d : shard) weight_map[d.name] = shard_name(index);
        shard.clear(), in_shard = 0, ++index;
    };
    for (const TensorDecl& d : decls) {
        if (!shard.empty() && in_shard + d.nbytes() > per_shard && index + 1 < shards) flush();
        shard.push_back(d), in_shard += d.nbytes();
    }
    while (index < shards) flush();   // trailing shards (possibly empty headers) so the count is exact
    nlohmann::ordered_json index_json = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    std::ofstream(dir / "model.safetensors.index.json") << index_json.dump(2);
}

// "model-00001-of-00047.safetensors" (transformers) or, with zero_based, gpt-oss's
// "model-00000-of-00002.safetensors" naming (formats.md §6.2).
inline std::function<std::string(int)> hub_shard_names(int shards, bool zero_based = false) {
    return [shards, zero_based](int i) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", zero_based ? i : i + 1,
                      zero_based ? shards - 1 : shards);
        return std::string(name);
    };
}

}  // namespace sy::test
