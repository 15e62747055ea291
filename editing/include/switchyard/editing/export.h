#pragma once
// Export a checkpoint in Hub layout (per-expert tensor names whatever the input layout),
// sharded with an index when larger than the shard size, streamed tensor by tensor.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/core/dtype.h"
#include "switchyard/core/progress.h"

namespace sy {

struct Model;
struct TensorInfo;

enum class ExportDType { keep, bf16, f16, f32 };

struct ExportOptions {
    std::filesystem::path output_dir;
    uint64_t shard_size_bytes = 5'000'000'000;  // transformers' default "5GB"
    ExportDType dtype = ExportDType::keep;
    bool force = false;                          // replace a non-empty output_dir
    std::string command_line;                    // recorded in the provenance metadata
};

// One output tensor: `shape` elements starting `byte_offset` bytes into `source` (a fused expert
// tensor contributes one slice per expert), converted to `dtype`. `scale_inv` is set when an
// F8_E4M3 source is dequantised with DeepSeek block scales.
struct ExportTensor {
    std::string name;
    const TensorInfo* source = nullptr;
    uint64_t byte_offset = 0;
    std::vector<int64_t> shape;
    DType dtype = DType::f32;
    const TensorInfo* scale_inv = nullptr;
    uint64_t nbytes() const;
};

struct ExportPlan {
    std::vector<std::vector<ExportTensor>> shards;  // one list per output file, names sorted
    bool drops_quantization = false;                // FP8 dequantised: config loses quantization_config
};

ExportDType parse_export_dtype(const std::string& text);   // throws UsageError
std::string export_dtype_name(ExportDType dtype);          // "keep", "bf16", ...
// The dtype a tensor stored as `source` is written in; integer dtypes are never converted.
DType converted_dtype(DType source, ExportDType requested);
uint64_t parse_byte_size(const std::string& text);         // "5GB", "500MB", "2GiB"; throws UsageError

ExportPlan plan_export(const Model& model, const ExportOptions& options);

struct ExportResult {
    std::vector<std::string> files;
    std::size_t tensor_count = 0;
    uint64_t total_bytes = 0;
};

// Never writes into the model folder; output appears only when complete.
ExportResult export_checkpoint(const Model& model, const ExportOptions& options, Progress& progress,
                               const CancelToken& cancel);

}  // namespace sy
