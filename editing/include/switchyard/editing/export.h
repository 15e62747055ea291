#pragma once
// Export a checkpoint in Hub layout (per-expert tensor names whatever the input layout),
// sharded with an index when larger than the shard size, streamed tensor by tensor. Edited
// exports (edit_export.h) are the same stream with some tensors computed by producers.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
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

struct ExportTensor;

// Computes the bytes of an output tensor that is not a (converted) slice of one input tensor:
// merged experts, sliced routers. Called on the export thread, once per tensor, in write order.
class TensorProducer {
public:
    virtual ~TensorProducer() = default;
    // Exactly tensor.nbytes() bytes in tensor.dtype, little-endian, row-major.
    virtual std::vector<unsigned char> produce(const ExportTensor& tensor) const = 0;
};

// One output tensor: `shape` elements starting `byte_offset` bytes into `source` (a fused expert
// tensor contributes one slice per expert), converted to `dtype`; or, when `producer` is set,
// whatever it computes. `scale_inv` is set when an F8_E4M3 source is dequantised with DeepSeek
// block scales; `mxfp4_scales` when `source` is the `_blocks` of a gpt-oss MXFP4 weight written
// dequantised as its [E, in, out] tensor.
struct ExportTensor {
    std::string name;
    const TensorInfo* source = nullptr;
    uint64_t byte_offset = 0;
    std::vector<int64_t> shape;
    DType dtype = DType::f32;
    const TensorInfo* scale_inv = nullptr;
    const TensorInfo* mxfp4_scales = nullptr;
    std::shared_ptr<const TensorProducer> producer;
    bool record_sha256 = false;                  // ExportResult::sha256 gets its digest
    uint64_t nbytes() const;
};

struct ExportResult {
    std::vector<std::string> files;
    std::size_t tensor_count = 0;
    uint64_t total_bytes = 0;
    std::map<std::string, std::string> sha256;   // tensor name -> hex digest (record_sha256 only)
};

struct ExportPlan {
    std::vector<std::vector<ExportTensor>> shards;  // one list per output file, names sorted
    bool drops_quantization = false;                // FP8 / MXFP4 dequantised: config loses quantization_config
    std::map<std::string, int64_t> config_updates;  // top-level config.json keys to set
    // Files written into the output folder after every tensor (name -> contents), e.g. the edit
    // record, which holds the tensors' digests. May be empty.
    std::function<std::vector<std::pair<std::string, std::string>>(const ExportResult&)> extra_files;
    std::vector<std::pair<std::filesystem::path, std::string>> copied_files;   // (source, name in output)
};

ExportDType parse_export_dtype(const std::string& text);   // throws UsageError
std::string export_dtype_name(ExportDType dtype);          // "keep", "bf16", ...
// The dtype a tensor stored as `source` is written in; integer dtypes are never converted.
DType converted_dtype(DType source, ExportDType requested);
uint64_t parse_byte_size(const std::string& text);         // "5GB", "500MB", "2GiB"; throws UsageError

// Every output tensor of an unedited export, sorted by name.
std::vector<ExportTensor> export_tensors(const Model& model, const ExportOptions& options, bool& drops_quantization);
// Greedy packing into shards in name order (like transformers' shard_checkpoint).
void pack_shards(std::vector<ExportTensor> tensors, uint64_t shard_size_bytes, ExportPlan& plan);

ExportPlan plan_export(const Model& model, const ExportOptions& options);

// Refuses an output folder that is, is inside or contains the model folder (UsageError).
void check_output_folder(const std::filesystem::path& model_dir, const std::filesystem::path& output);

// Never writes into the model folder; output appears only when complete.
ExportResult write_export(const Model& model, const ExportPlan& plan, const ExportOptions& options, Progress& progress,
                          const CancelToken& cancel);
ExportResult export_checkpoint(const Model& model, const ExportOptions& options, Progress& progress,
                               const CancelToken& cancel);

}  // namespace sy
