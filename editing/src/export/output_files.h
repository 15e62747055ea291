#pragma once
// What every edit that writes a checkpoint folder shares (export, upcycle): element conversion,
// shard naming and greedy packing like transformers' `shard_checkpoint`, a writer that streams
// tensors across shards and writes `model.safetensors.index.json` (formats.md §11.3), side files,
// and the check that an output never overlaps its input. Internal to sy_editing.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "switchyard/core/dtype.h"
#include "switchyard/core/safetensors_writer.h"

namespace sy {

class Checkpoint;

// Element `i` of a little-endian float buffer of `dtype` as f32 (F8 without its block scale).
// Throws ShapeMismatch naming `tensor` for integer dtypes.
float load_f32(DType dtype, const unsigned char* bytes, std::size_t i, const std::string& tensor);
// `value` rounded to `dtype` (f32, bf16 or f16, round to nearest even) at `out`.
void store_f32(DType dtype, float value, unsigned char* out);

std::string shard_file_name(std::size_t index, std::size_t count);   // "model.safetensors" when count == 1

// Greedy packing in order, like transformers' `shard_checkpoint`: a shard is closed when the
// next tensor would push it past `shard_size`; a tensor larger than the shard size gets a shard
// of its own. Returns, per shard, the indices into `sizes` (bytes per tensor); at least one shard.
std::vector<std::vector<std::size_t>> pack_shards(const std::vector<uint64_t>& sizes, uint64_t shard_size);

// Streams tensors shard by shard, in declaration order; a tensor may arrive in pieces. Writes
// the index when there is more than one shard. Not thread-safe.
class ShardedCheckpointWriter {
public:
    ShardedCheckpointWriter(const std::filesystem::path& dir, std::vector<std::vector<TensorDecl>> shards,
                            std::map<std::string, std::string> metadata);
    ~ShardedCheckpointWriter();
    void write(const void* data, std::size_t size);   // bytes of the current tensor(s)
    void finish();                                     // every shard complete, index written
    const std::vector<std::string>& files() const { return m_files; }
    uint64_t bytes_written() const { return m_total_written; }

private:
    void open_next_shard();

    std::filesystem::path m_dir;
    std::vector<std::vector<TensorDecl>> m_shards;
    std::map<std::string, std::string> m_metadata;
    std::unique_ptr<SafetensorsWriter> m_writer;
    std::size_t m_shard = 0;          // index of the open shard (or the next one to open)
    uint64_t m_shard_left = 0;        // bytes the open shard still expects
    uint64_t m_total_written = 0;
    std::vector<std::string> m_files;
};

void write_text(const std::filesystem::path& file, const std::string& text);   // throws IoError

// config.json's torch_dtype spelling of an output dtype ("bfloat16"); empty for non-float.
std::string torch_dtype_name(DType dtype);

// Throws UsageError when `output` is `model_dir`, inside it or contains it.
void check_not_overlapping(const std::filesystem::path& model_dir, const std::filesystem::path& output);

// Copies the regular files of `model_dir` (tokenizer, generation config, ...) into `out`, except
// weights (*.safetensors, the index) and the names in `skip`.
void copy_side_files(const std::filesystem::path& model_dir, const std::filesystem::path& out,
                     const std::set<std::string>& skip);

// The safetensors `__metadata__` of an edited checkpoint: the source's own keys (transformers'
// "format": "pt" among them) plus switchyard.version / .source / .command.
std::map<std::string, std::string> provenance_metadata(const Checkpoint& source, const std::string& command_line);

}  // namespace sy
