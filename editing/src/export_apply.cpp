// Streams an ExportPlan to disk: one SafetensorsWriter per shard, chunked conversion, pages of
// the source released after each tensor so peak memory is independent of model size.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/staged_directory.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/editing/export.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

constexpr std::size_t k_chunk_elements = 1 << 20;

float element_f32(const TensorInfo& info, const unsigned char* bytes, std::size_t i) {
    switch (info.dtype) {
        case DType::f32: { float f; std::memcpy(&f, bytes + 4 * i, 4); return f; }
        case DType::bf16: return bf16_bits_to_f32(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
        case DType::f16: return f16_bits_to_f32(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
        case DType::f8_e4m3: return f8_e4m3_bits_to_f32(bytes[i]);
        case DType::f8_e5m2: return f8_e5m2_bits_to_f32(bytes[i]);
        case DType::f64: { double d; std::memcpy(&d, bytes + 8 * i, 8); return static_cast<float>(d); }
        default: throw ShapeMismatch("tensor " + info.name + ": cannot convert " + std::string(dtype_name(info.dtype)));
    }
}

void store(DType dtype, float value, unsigned char* out) {
    if (dtype == DType::f32) {
        std::memcpy(out, &value, 4);
        return;
    }
    const uint16_t bits = dtype == DType::bf16 ? f32_to_bf16_bits(value) : f32_to_f16_bits(value);
    out[0] = static_cast<unsigned char>(bits & 0xFF);
    out[1] = static_cast<unsigned char>(bits >> 8);
}

class TensorStreamer {
public:
    TensorStreamer(const Model& model, SafetensorsWriter& writer) : m_model(model), m_writer(writer) {}

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
                float v = element_f32(*t.source, bytes, start + i);
                if (t.scale_inv) {
                    const int64_t r = static_cast<int64_t>(start + i) / cols, c = static_cast<int64_t>(start + i) % cols;
                    v *= scales[(r / block[0]) * grid_cols + c / block[1]];
                }
                store(t.dtype, v, buffer.data() + i * dtype_size(t.dtype));
            }
            m_writer.write(buffer.data(), count * dtype_size(t.dtype));
        }
    }

    const Model& m_model;
    SafetensorsWriter& m_writer;
};

std::string shard_file_name(std::size_t index, std::size_t count) {
    if (count == 1) return "model.safetensors";
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return name;
}

std::map<std::string, std::string> provenance(const Model& model, const ExportOptions& options) {
    std::map<std::string, std::string> meta{{"format", "pt"}};
    if (!model.checkpoint.files().empty())
        for (const auto& [k, v] : model.checkpoint.file_metadata(0))
            if (k.rfind("switchyard.", 0) != 0) meta[k] = v;
    meta["switchyard.version"] = SWITCHYARD_VERSION;
    meta["switchyard.source"] = fs::absolute(model.checkpoint.dir()).lexically_normal().string();
    meta["switchyard.command"] = options.command_line;
    return meta;
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    if (!out) throw IoError(file.string() + ": write failed");
}

std::string dtype_config_name(ExportDType dtype) {
    switch (dtype) {
        case ExportDType::bf16: return "bfloat16";
        case ExportDType::f16: return "float16";
        case ExportDType::f32: return "float32";
        default: return "";
    }
}

void copy_side_files(const Model& model, const ExportPlan& plan, const ExportOptions& options, const fs::path& out) {
    for (const auto& entry : fs::directory_iterator(model.checkpoint.dir())) {
        const fs::path& p = entry.path();
        if (!entry.is_regular_file() || p.extension() == ".safetensors" || p.filename() == "model.safetensors.index.json")
            continue;
        const bool patch_config = p.filename() == "config.json" &&
                                  (options.dtype != ExportDType::keep || plan.drops_quantization);
        if (!patch_config) {
            fs::copy_file(p, out / p.filename());
            continue;
        }
        std::ifstream in(p);
        nlohmann::ordered_json config = nlohmann::ordered_json::parse(in);
        if (options.dtype != ExportDType::keep) config["torch_dtype"] = dtype_config_name(options.dtype);
        if (plan.drops_quantization) config.erase("quantization_config");
        write_text(out / "config.json", config.dump(2) + "\n");
    }
}

void check_not_overlapping(const fs::path& model_dir, const fs::path& output) {
    const auto a = fs::weakly_canonical(model_dir), b = fs::weakly_canonical(output);
    auto inside = [](const fs::path& child, const fs::path& parent) {
        auto rel = child.lexically_relative(parent);
        return !rel.empty() && *rel.begin() != "..";
    };
    if (inside(a, b) || inside(b, a))
        throw UsageError(output.string() + ": the output folder must not be the model folder, inside it or contain it");
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
    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    for (std::size_t s = 0; s < plan.shards.size(); ++s) {
        const std::string name = shard_file_name(s, plan.shards.size());
        std::vector<TensorDecl> decls;
        for (const auto& t : plan.shards[s]) decls.push_back({t.name, t.dtype, t.shape});
        SafetensorsWriter writer(staged.path() / name, decls, provenance(model, options));
        TensorStreamer streamer(model, writer);
        for (const auto& t : plan.shards[s]) {
            cancel.throw_if_cancelled();
            streamer.write(t);
            weight_map[t.name] = name;
            result.total_bytes += t.nbytes();
            ++result.tensor_count;
            progress.update({"export", total ? double(result.total_bytes) / double(total) : 1.0,
                             static_cast<int64_t>(result.total_bytes), static_cast<int64_t>(total), "bytes"});
        }
        writer.finish();
        result.files.push_back(name);
    }
    if (plan.shards.size() > 1) {
        nlohmann::ordered_json index{{"metadata", {{"total_size", result.total_bytes}}}, {"weight_map", weight_map}};
        write_text(staged.path() / "model.safetensors.index.json", index.dump(2) + "\n");
    }
    copy_side_files(model, plan, options, staged.path());
    staged.commit();
    return result;
}

}  // namespace sy
