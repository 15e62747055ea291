#pragma once
// A Hub-layout checkpoint folder: `model.safetensors`, or the shards named by
// `model.safetensors.index.json` (never "every *.safetensors": Mistral repos ship
// consolidated.safetensors beside them and our fixtures ship goldens.safetensors).
// Opening reads and validates headers only; shards are mapped on first data access.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/tensor_info.h"

namespace sy {

class FileMapping;

// A tensor's bytes inside a mapping: valid while the Checkpoint lives.
struct TensorView {
    const TensorInfo* info = nullptr;
    const std::byte* data = nullptr;
};

class Checkpoint {
public:
    static Checkpoint open(const std::filesystem::path& dir);   // throws CheckpointError / IoError
    Checkpoint(Checkpoint&&) noexcept;
    Checkpoint& operator=(Checkpoint&&) noexcept;
    ~Checkpoint();

    const std::filesystem::path& dir() const;
    const std::vector<std::string>& files() const;          // shard names relative to dir()
    bool is_sharded() const;                                 // opened through an index
    const std::vector<TensorInfo>& tensors() const;          // sorted by name
    const TensorInfo* find(std::string_view name) const;     // nullptr when absent
    const TensorInfo& at(std::string_view name) const;       // throws CheckpointError
    const std::map<std::string, std::string>& file_metadata(std::size_t file_index) const;
    uint64_t total_tensor_bytes() const;

    // Maps the tensor's shard on first use (thread-safe).
    TensorView view(const TensorInfo& tensor) const;
    // Hint that a tensor's pages can be dropped from memory (streaming); `begin`, `length`: only
    // the pages holding those bytes of its data (clipped to the tensor).
    void release(const TensorInfo& tensor, uint64_t begin = 0, uint64_t length = UINT64_MAX) const;
    // Maps a tensor's pages now, reading what the page cache lacks (FileMapping::populate_pages);
    // `begin`, `length` as for release().
    void populate(const TensorInfo& tensor, uint64_t begin = 0, uint64_t length = UINT64_MAX) const;
    // Fraction of those bytes' pages in the page cache (FileMapping::cached_fraction).
    double cached_fraction(const TensorInfo& tensor, uint64_t begin = 0, uint64_t length = UINT64_MAX) const;

    struct Impl;  // implementation detail (checkpoint.cpp)

private:
    explicit Checkpoint(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace sy
