#pragma once
// Runs a model's forward pass (all families of the family table) on CPU or CUDA, layer by
// layer over a whole batch, so weights can be streamed under a memory bound.
// No torch in this header: front ends and analysis include it freely.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/compute/model_patch.h"
#include "switchyard/compute/routing_observer.h"
#include "switchyard/core/progress.h"

namespace sy {

struct Model;
class RankGroup;
struct ExpertTraffic;

enum class ComputeDType { f32, bf16 };

struct RunnerOptions {
    std::string device = "cpu";           // "cpu", "cuda", "cuda:1"
    ComputeDType dtype = ComputeDType::f32;
    uint64_t max_memory_bytes = 0;        // 0: no bound, weights stay resident after first use
    ExpertMask masked_experts;            // experts never selected (checked by the runner)
    std::shared_ptr<const ModelPatch> patch;   // in-memory edit (edit preview), or null
    // Several ranks (rank_group.h): the jobs split the data over them (data parallelism); with
    // expert_parallel each rank also holds only its experts of every MoE layer and the MoE
    // blocks exchange tokens with all-to-all. Null: one process.
    std::shared_ptr<RankGroup> ranks;
    bool expert_parallel = false;
    std::vector<std::vector<int>> expert_ranks;   // [Lm][E_l] rank of each expert; empty: contiguous
    std::shared_ptr<ExpertTraffic> traffic;       // when set, counts what this rank sent (parallel_job.h)
};

// Each sequence is one attention window starting at position 0; lengths may differ.
struct Batch {
    std::vector<std::vector<int32_t>> sequences;
    int64_t token_count() const;
};

struct BatchOutput {
    // [N] next-token NLL per token (sequences concatenated); NaN at each sequence's last token.
    std::vector<float> nll;
    // [N, V] final logits, only when requested.
    std::vector<float> logits;
    int64_t vocab_size = 0;
};

// Two units: "bytes" are the weights converted to the compute dtype (what memory holds),
// "file bytes" what loading them reads from the checkpoint (FP8 + scales, BF16 as stored).
struct MemoryPlan {
    std::vector<uint64_t> layer_bytes;       // converted weight bytes per decoder layer
    std::vector<uint64_t> layer_file_bytes;  // checkpoint bytes per decoder layer
    std::vector<uint64_t> largest_expert_bytes;  // per layer, 0 for dense layers
    std::vector<uint64_t> layer_common_bytes;    // per layer, the part of layer_bytes that is not routed experts
    uint64_t resident_bytes = 0;             // embeddings, final norm, lm_head (always resident)
    uint64_t resident_file_bytes = 0;        // the same, as read from the checkpoint
    uint64_t min_max_memory_bytes = 0;       // smallest workable --max-memory
    uint64_t total_weight_bytes = 0;
    uint64_t total_file_bytes = 0;           // every weight the forward pass reads, on disk
};

class ModelRunner {
public:
    // Throws UsageError for an unknown/unavailable device, OutOfMemory when
    // options.max_memory_bytes is below plan().min_max_memory_bytes (message gives that figure).
    ModelRunner(const Model& model, const RunnerOptions& options);
    ~ModelRunner();
    ModelRunner(const ModelRunner&) = delete;
    ModelRunner& operator=(const ModelRunner&) = delete;

    // Polls `cancel` between layers (throws Cancelled). Observer may be null.
    BatchOutput run(const Batch& batch, RoutingObserver* observer, bool want_logits,
                    const CancelToken* cancel = nullptr);

    // The MoE block of `layer` alone on x [n, H] (f32, host) -> [n, H] f32: routing (masks and
    // patch applied), routed and shared experts. For comparing two models' blocks on the same
    // input (edit preview). Throws UsageError for a dense layer.
    std::vector<float> run_moe_block(int layer, const float* x, int64_t n);

    MemoryPlan plan() const;
    const RunnerOptions& options() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// Also computed without constructing a runner (for --plan).
MemoryPlan plan_memory(const Model& model, ComputeDType dtype);

bool cuda_available();
int cuda_device_count();

}  // namespace sy
