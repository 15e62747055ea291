// Job signatures and expert placements for parallel runs; see parallel_job.h.
#include "switchyard/compute/parallel_job.h"

#include <system_error>

#include "switchyard/core/errors.h"
#include "switchyard/core/expert_selection.h"
#include "switchyard/core/model.h"
#include "switchyard/core/result_reader.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/trace_store.h"

namespace sy {
namespace {

// Names and sizes, not paths: each machine may mount the data somewhere else.
std::string data_summary(const CorpusOptions& corpus) {
    std::string summary;
    for (const auto& file : expand_dataset_files(corpus.data)) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        summary += (summary.empty() ? "" : ",") + file.filename().string() + ":" + std::to_string(ec ? 0 : size);
    }
    return summary;
}

std::string placement_digest(const std::vector<std::vector<int>>& ranks) {
    if (ranks.empty()) return "contiguous";
    Sha256 hash;
    for (const auto& layer : ranks)
        for (int r : layer) hash.update(std::to_string(r) + ",");
    return hash.hex_digest().substr(0, 12);
}

}  // namespace

std::string parallel_job_signature(const Model& model, const std::string& verb, const CorpusOptions& corpus,
                                   const RunnerOptions& runner) {
    std::string data = data_summary(corpus);
    if (data.size() > 200) {
        Sha256 hash;
        hash.update(data);
        data = "sha256:" + hash.hex_digest().substr(0, 12);
    }
    return verb + " model=" + model_fingerprint(model).substr(0, 12) + " data=" + data +
           " seq-len=" + std::to_string(corpus.seq_len) + " batch-tokens=" + std::to_string(corpus.batch_tokens) +
           " max-tokens=" + std::to_string(corpus.max_tokens) + " bos=" + bos_mode_name(corpus.bos) +
           " dtype=" + compute_dtype_name(runner.dtype) + " mask=" + format_layer_experts(runner.masked_experts) +
           " expert-parallel=" + (runner.expert_parallel ? placement_digest(runner.expert_ranks) : "off");
}

std::vector<std::vector<int>> contiguous_expert_ranks(const Model& model, int ranks) {
    std::vector<std::vector<int>> out;
    for (int64_t experts : model.description.num_experts) {
        std::vector<int> layer;
        for (int64_t e = 0; e < experts; ++e) layer.push_back(static_cast<int>(e * ranks / experts));
        out.push_back(std::move(layer));
    }
    return out;
}

std::vector<std::vector<int>> read_expert_placement(const std::filesystem::path& path, const Model& model, int ranks) {
    const ResultReader file = ResultReader::open(path);
    const std::string where = path.string() + ": ";
    SY_CHECK(file.has("/place/placement"), UsageError,
             where + "not a placement (no /place/placement); make one with switchyard place TRACE.h5 --gpus " +
                 std::to_string(ranks) + " -o " + path.filename().string());
    const int64_t gpus = file.int_attribute("/place", "gpus");
    SY_CHECK(gpus == ranks, UsageError,
             where + "placement for " + std::to_string(gpus) + " GPUs, but the job has " + std::to_string(ranks) + " ranks");
    std::vector<uint64_t> dims;
    const std::vector<int64_t> table = file.ints("/place/placement", &dims);
    const ModelDescription& d = model.description;
    SY_CHECK(dims.size() == 2 && dims[0] == d.moe_layers.size(), UsageError,
             where + "placement of " + std::to_string(dims.empty() ? 0 : dims[0]) + " MoE layers, the model has " +
                 std::to_string(d.moe_layers.size()));
    std::vector<std::vector<int>> out(d.moe_layers.size());
    for (std::size_t l = 0; l < out.size(); ++l)
        for (int64_t e = 0; e < int64_t(dims[1]); ++e) {
            const int64_t gpu = table[l * dims[1] + static_cast<std::size_t>(e)];
            if (e >= d.num_experts[l]) {
                SY_CHECK(gpu < 0, UsageError, where + "MoE layer " + std::to_string(d.moe_layers[l]) + " places expert " +
                                                  std::to_string(e) + ", the model has " +
                                                  std::to_string(d.num_experts[l]) + " experts there");
                continue;
            }
            SY_CHECK(gpu >= 0 && gpu < ranks, UsageError,
                     where + "MoE layer " + std::to_string(d.moe_layers[l]) + ": expert " + std::to_string(e) +
                         (gpu < 0 ? " has no GPU" : " on GPU " + std::to_string(gpu)) + " (expected 0.." +
                         std::to_string(ranks - 1) + ")");
            out[l].push_back(static_cast<int>(gpu));
        }
    for (std::size_t l = 0; l < out.size(); ++l)
        SY_CHECK(int64_t(out[l].size()) == d.num_experts[l], UsageError,
                 where + "MoE layer " + std::to_string(d.moe_layers[l]) + " places " + std::to_string(out[l].size()) +
                     " experts, the model has " + std::to_string(d.num_experts[l]));
    return out;
}

}  // namespace sy
