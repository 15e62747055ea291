#include "output_files.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchyard/core/checkpoint.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/output_paths.h"
#include "switchyard/core/tensor_convert.h"

namespace fs = std::filesystem;

namespace sy {

float load_f32(DType dtype, const unsigned char* bytes, std::size_t i, const std::string& tensor) {
    switch (dtype) {
        case DType::f32: { float f; std::memcpy(&f, bytes + 4 * i, 4); return f; }
        case DType::bf16: return bf16_bits_to_f32(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
        case DType::f16: return f16_bits_to_f32(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
        case DType::f8_e4m3: return f8_e4m3_bits_to_f32(bytes[i]);
        case DType::f8_e5m2: return f8_e5m2_bits_to_f32(bytes[i]);
        case DType::f64: { double d; std::memcpy(&d, bytes + 8 * i, 8); return static_cast<float>(d); }
        default: throw ShapeMismatch("tensor " + tensor + ": cannot convert " + std::string(dtype_name(dtype)));
    }
}

void store_f32(DType dtype, float value, unsigned char* out) {
    if (dtype == DType::f32) {
        std::memcpy(out, &value, 4);
        return;
    }
    const uint16_t bits = dtype == DType::bf16 ? f32_to_bf16_bits(value) : f32_to_f16_bits(value);
    out[0] = static_cast<unsigned char>(bits & 0xFF);
    out[1] = static_cast<unsigned char>(bits >> 8);
}

std::string shard_file_name(std::size_t index, std::size_t count) {
    if (count == 1) return "model.safetensors";
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return name;
}

std::vector<std::vector<std::size_t>> pack_shards(const std::vector<uint64_t>& sizes, uint64_t shard_size) {
    std::vector<std::vector<std::size_t>> shards;
    uint64_t current = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (shards.empty() || (current > 0 && current + sizes[i] > shard_size)) {
            shards.emplace_back();
            current = 0;
        }
        current += sizes[i];
        shards.back().push_back(i);
    }
    if (shards.empty()) shards.emplace_back();
    return shards;
}

ShardedCheckpointWriter::ShardedCheckpointWriter(const fs::path& dir, std::vector<std::vector<TensorDecl>> shards,
                                                 std::map<std::string, std::string> metadata)
    : m_dir(dir), m_shards(std::move(shards)), m_metadata(std::move(metadata)) {
    open_next_shard();
}

ShardedCheckpointWriter::~ShardedCheckpointWriter() = default;

void ShardedCheckpointWriter::open_next_shard() {
    const std::string name = shard_file_name(m_shard, m_shards.size());
    m_writer = std::make_unique<SafetensorsWriter>(m_dir / name, m_shards[m_shard], m_metadata);
    m_files.push_back(name);
    m_shard_left = 0;
    for (const TensorDecl& t : m_shards[m_shard]) m_shard_left += t.nbytes();
}

void ShardedCheckpointWriter::write(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    while (size > 0) {
        if (m_shard_left == 0) {   // the open shard is complete: a piece never spans two tensors' shards
            m_writer->finish();
            SY_CHECK(m_shard + 1 < m_shards.size(), IoError, m_dir.string() + ": more tensor bytes than declared (bug)");
            ++m_shard;
            open_next_shard();
            continue;
        }
        const std::size_t piece = static_cast<std::size_t>(std::min<uint64_t>(size, m_shard_left));
        m_writer->write(bytes, piece);
        bytes += piece, size -= piece, m_shard_left -= piece, m_total_written += piece;
    }
}

void ShardedCheckpointWriter::finish() {
    m_writer->finish();
    SY_CHECK(m_shard + 1 == m_shards.size(), IoError, m_dir.string() + ": shards left unwritten (bug)");
    if (m_shards.size() < 2) return;
    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    for (std::size_t s = 0; s < m_shards.size(); ++s)
        for (const TensorDecl& t : m_shards[s]) weight_map[t.name] = shard_file_name(s, m_shards.size());
    const nlohmann::ordered_json index{{"metadata", {{"total_size", m_total_written}}}, {"weight_map", weight_map}};
    write_text(m_dir / "model.safetensors.index.json", index.dump(2) + "\n");
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    if (!out) throw IoError(file.string() + ": write failed");
}

std::string torch_dtype_name(DType dtype) {
    switch (dtype) {
        case DType::bf16: return "bfloat16";
        case DType::f16: return "float16";
        case DType::f32: return "float32";
        default: return "";
    }
}

void check_not_overlapping(const fs::path& model_dir, const fs::path& output) {
    if (path_is_within(model_dir, output) || path_is_within(output, model_dir))
        throw UsageError(output.string() + ": the output folder must not be the model folder, inside it or contain it");
}

void copy_side_files(const fs::path& model_dir, const fs::path& out, const std::set<std::string>& skip) {
    for (const auto& entry : fs::directory_iterator(model_dir)) {
        const fs::path& p = entry.path();
        if (!entry.is_regular_file() || p.extension() == ".safetensors" ||
            p.filename() == "model.safetensors.index.json" || skip.count(p.filename().string()))
            continue;
        fs::copy_file(p, out / p.filename());
    }
}

std::map<std::string, std::string> provenance_metadata(const Checkpoint& source, const std::string& command_line) {
    std::map<std::string, std::string> meta{{"format", "pt"}};
    if (!source.files().empty())
        for (const auto& [k, v] : source.file_metadata(0))
            if (k.rfind("switchyard.", 0) != 0) meta[k] = v;
    meta["switchyard.version"] = SWITCHYARD_VERSION;
    meta["switchyard.source"] = fs::absolute(source.dir()).lexically_normal().string();
    meta["switchyard.command"] = command_line;
    return meta;
}

}  // namespace sy
