// Streams an ExportPlan to disk: shard by shard, chunked conversion, pages of the source released
// after each tensor so peak memory is independent of model size; computed tensors (edits) come
// from their producers.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "output_files.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/staged_directory.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/editing/export.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

constexpr std::size_t k_chunk_elements = 1 << 20;

class TensorStreamer {
public:
    TensorStreamer(const Model& model, ShardedCheckpointWriter& writer) : m_model(model), m_writer(writer) {}

    // Returns the SHA-256 of the bytes written when t.record_sha256, else "".
    std::string write(const ExportTensor& t) {
        if (t.producer) {
            const std::vector<unsigned char> bytes = t.producer->produce(t);
            SY_CHECK(bytes.size() == t.nbytes(), ShapeMismatch,
                     t.name + ": computed " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(t.nbytes()));
            m_writer.write(bytes.data(), bytes.size());
            return t.record_sha256 ? sha256_hex(bytes.data(), bytes.size()) : std::string();
        }
        if (t.mxfp4_scales) {
            write_mxfp4(t);
            return {};
        }
        const TensorView view = m_model.checkpoint.view(*t.source);
        const auto* bytes = reinterpret_cast<const unsigned char*>(view.data) + t.byte_offset;
        std::string digest;
        if (t.dtype == t.source->dtype && !t.scale_inv) {
            m_writer.write(bytes, t.nbytes());  // identity: byte-identical by construction
            if (t.record_sha256) digest = sha256_hex(bytes, t.nbytes());
        } else {
            write_converted(t, bytes);
        }
        m_model.checkpoint.release(*t.source);
        return digest;
    }

private:
    // One expert at a time: blocks [E, out, in/32, 16] dequantise to [out, in], written
    // transposed as the [in, out] slab of the [E, in, out] weight.
    void write_mxfp4(const ExportTensor& t) {
        const int64_t experts = t.shape[0], in = t.shape[1], out = t.shape[2], groups = out * in / 32;
        const auto* blocks = reinterpret_cast<const uint8_t*>(m_model.checkpoint.view(*t.source).data);
        const auto* scales = reinterpret_cast<const uint8_t*>(m_model.checkpoint.view(*t.mxfp4_scales).data);
        std::vector<float> values(static_cast<std::size_t>(out * in));
        std::vector<unsigned char> buffer(static_cast<std::size_t>(out * in) * dtype_size(t.dtype));
        for (int64_t e = 0; e < experts; ++e) {
            dequantize_mxfp4(blocks + e * groups * 16, scales + e * groups, groups, values.data());
            for (int64_t i = 0; i < in; ++i)
                for (int64_t o = 0; o < out; ++o)
                    store_f32(t.dtype, values[static_cast<std::size_t>(o * in + i)],
                              buffer.data() + static_cast<std::size_t>(i * out + o) * dtype_size(t.dtype));
            m_writer.write(buffer.data(), buffer.size());
        }
        m_model.checkpoint.release(*t.source);
        m_model.checkpoint.release(*t.mxfp4_scales);
    }

    void write_converted(const ExportTensor& t, const unsigned char* bytes) {
        const std::size_t n = t.nbytes() / dtype_size(t.dtype);
        std::vector<float> scales;
        int64_t cols = 1, grid_cols = 1;
        if (t.scale_inv) {
            scales = to_f32(m_model.checkpoint.view(*t.scale_inv));
            cols = t.shape.at(1);
            grid_cols = t.scale_inv->shape.at(1);
        }
        const auto block = m_model.description.fp8_block_size.value_or(std::array<int64_t, 2>{1, 1});
        std::vector<unsigned char> buffer(std::min(n, k_chunk_elements) * dtype_size(t.dtype));
        for (std::size_t start = 0; start < n; start += k_chunk_elements) {
            const std::size_t count = std::min(k_chunk_elements, n - start);
            for (std::size_t i = 0; i < count; ++i) {
                float v = load_f32(t.source->dtype, bytes, start + i, t.source->name);
                if (t.scale_inv) {
                    const int64_t r = static_cast<int64_t>(start + i) / cols, c = static_cast<int64_t>(start + i) % cols;
                    v *= scales[(r / block[0]) * grid_cols + c / block[1]];
                }
                store_f32(t.dtype, v, buffer.data() + i * dtype_size(t.dtype));
            }
            m_writer.write(buffer.data(), count * dtype_size(t.dtype));
        }
    }

    const Model& m_model;
    ShardedCheckpointWriter& m_writer;
};

void write_config(const Model& model, const ExportPlan& plan, const ExportOptions& options, const fs::path& out) {
    const bool patch_config = options.dtype != ExportDType::keep || plan.drops_quantization || !plan.config_updates.empty();
    const fs::path source = model.checkpoint.dir() / "config.json";
    if (!patch_config) {
        fs::copy_file(source, out / "config.json");
        return;
    }
    std::ifstream in(source);
    nlohmann::ordered_json config = nlohmann::ordered_json::parse(in);
    if (options.dtype != ExportDType::keep) config["torch_dtype"] = torch_dtype_name(converted_dtype(DType::f32, options.dtype));
    if (plan.drops_quantization) config.erase("quantization_config");
    for (const auto& [key, value] : plan.config_updates) config[key] = value;
    write_text(out / "config.json", config.dump(2) + "\n");
}

}  // namespace

uint64_t ExportTensor::nbytes() const {
    uint64_t n = dtype_size(dtype);
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

void check_output_folder(const fs::path& model_dir, const fs::path& output) { check_not_overlapping(model_dir, output); }

ExportResult export_checkpoint(const Model& model, const ExportOptions& options, Progress& progress,
                               const CancelToken& cancel) {
    check_output_folder(model.checkpoint.dir(), options.output_dir);
    return write_export(model, plan_export(model, options), options, progress, cancel);
}

ExportResult write_export(const Model& model, const ExportPlan& plan, const ExportOptions& options, Progress& progress,
                          const CancelToken& cancel) {
    check_output_folder(model.checkpoint.dir(), options.output_dir);
    StagedDirectory staged(options.output_dir, options.force);
    ExportResult result;
    uint64_t total = 0;
    std::vector<std::vector<TensorDecl>> shards;
    for (const auto& shard : plan.shards) {
        shards.emplace_back();
        for (const auto& t : shard) {
            shards.back().push_back({t.name, t.dtype, t.shape});
            total += t.nbytes();
        }
    }
    ShardedCheckpointWriter writer(staged.path(), std::move(shards),
                                   provenance_metadata(model.checkpoint, options.command_line));
    TensorStreamer streamer(model, writer);
    for (const auto& shard : plan.shards) {
        for (const auto& t : shard) {
            cancel.throw_if_cancelled();
            std::string digest = streamer.write(t);
            if (t.record_sha256) result.sha256[t.name] = std::move(digest);
            result.total_bytes += t.nbytes();
            ++result.tensor_count;
            progress.update({"export", total ? double(result.total_bytes) / double(total) : 1.0,
                             static_cast<int64_t>(result.total_bytes), static_cast<int64_t>(total), "bytes"});
        }
    }
    writer.finish();
    result.files = writer.files();
    std::set<std::string> skip{"config.json"};
    for (const auto& [source, name] : plan.copied_files) skip.insert(name);
    copy_side_files(model.checkpoint.dir(), staged.path(), skip);
    write_config(model, plan, options, staged.path());
    for (const auto& [source, name] : plan.copied_files) fs::copy_file(source, staged.path() / name);
    if (plan.extra_files)
        for (const auto& [name, contents] : plan.extra_files(result)) write_text(staged.path() / name, contents);
    staged.commit();
    return result;
}

}  // namespace sy
