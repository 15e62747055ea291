// Streams an ExportPlan to disk: shard by shard, chunked conversion, pages of
// the source released after each tensor so peak memory is independent of model size.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/staged_directory.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/editing/export.h"
#include "output_files.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

constexpr std::size_t k_chunk_elements = 1 << 20;

class TensorStreamer {
public:
    TensorStreamer(const Model& model, ShardedCheckpointWriter& writer) : m_model(model), m_writer(writer) {}

    void write(const ExportTensor& t) {
        const TensorView view = m_model.checkpoint.view(*t.source);
        const auto* bytes = reinterpret_cast<const unsigned char*>(view.data) + t.byte_offset;
        if (t.dtype == t.source->dtype && !t.scale_inv)
            m_writer.write(bytes, t.nbytes());  // identity: byte-identical by construction
        else
            write_converted(t, bytes);
        m_model.checkpoint.release(*t.source);
    }

private:
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
    const bool patch_config = options.dtype != ExportDType::keep || plan.drops_quantization;
    const fs::path source = model.checkpoint.dir() / "config.json";
    if (!patch_config) {
        fs::copy_file(source, out / "config.json");
        return;
    }
    std::ifstream in(source);
    nlohmann::ordered_json config = nlohmann::ordered_json::parse(in);
    if (options.dtype != ExportDType::keep) config["torch_dtype"] = torch_dtype_name(converted_dtype(DType::f32, options.dtype));
    if (plan.drops_quantization) config.erase("quantization_config");
    write_text(out / "config.json", config.dump(2) + "\n");
}

}  // namespace

uint64_t ExportTensor::nbytes() const {
    uint64_t n = dtype_size(dtype);
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

ExportResult export_checkpoint(const Model& model, const ExportOptions& options, Progress& progress,
                               const CancelToken& cancel) {
    check_not_overlapping(model.checkpoint.dir(), options.output_dir);
    const ExportPlan plan = plan_export(model, options);
    StagedDirectory staged(options.output_dir, options.force);
    ExportResult result;
    uint64_t total = 0;
    for (const auto& shard : plan.shards)
        for (const auto& t : shard) total += t.nbytes();
    std::vector<std::vector<TensorDecl>> shards;
    for (const auto& shard : plan.shards) {
        shards.emplace_back();
        for (const auto& t : shard) shards.back().push_back({t.name, t.dtype, t.shape});
    }
    ShardedCheckpointWriter writer(staged.path(), std::move(shards),
                                   provenance_metadata(model.checkpoint, options.command_line));
    TensorStreamer streamer(model, writer);
    for (const auto& shard : plan.shards) {
        for (const auto& t : shard) {
            cancel.throw_if_cancelled();
            streamer.write(t);
            result.total_bytes += t.nbytes();
            ++result.tensor_count;
            progress.report(total ? double(result.total_bytes) / double(total) : 1.0, "export");
        }
    }
    writer.finish();
    result.files = writer.files();
    copy_side_files(model.checkpoint.dir(), staged.path(), {"config.json"});
    write_config(model, plan, options, staged.path());
    staged.commit();
    return result;
}

}  // namespace sy
