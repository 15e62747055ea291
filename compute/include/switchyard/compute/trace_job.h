#pragma once
// The trace and eval jobs: stream a dataset through ModelRunner batch by
// batch; trace records routing into an HDF5 trace (trace_store.h, docs/hdf5-schema.md), eval
// sums next-token loss per domain. Both are called the same way by the CLI and the GUI
// (style.md 4.2): plain options, a Progress sink and a CancelToken. No torch here.
//
// Thread rules: run on one worker thread; `progress` is called on that thread; `cancel` may be
// set from any thread (polled between batches and, inside the runner, between layers).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/progress.h"
#include "switchyard/core/trace_store.h"

namespace sy {

struct Model;

// Which tokens a run reads; shared by trace and eval, with the same defaults.
struct CorpusOptions {
    std::vector<std::filesystem::path> data;   // .jsonl / .txt files or folders (dataset.h)
    int64_t seq_len = 512;                      // attention window (tokens)
    int64_t batch_tokens = 0;                   // tokens per forward batch; 0: default_batch_tokens
    int64_t max_tokens = 0;                     // 0: the whole dataset
    BosMode bos = BosMode::automatic;           // for `text` records
};

// One batch just committed to the trace file, as appended (live views). References are
// valid only during the callback.
struct TraceBatchEvent {
    const TraceMeta& meta;
    const TraceBatchData& batch;   // rows as written; batch.doc holds global document indices
    int64_t first_token = 0;       // global index of the batch's first token
    int64_t first_doc = 0;         // global index of batch.doc_domains[0]
};

struct TraceOptions {
    CorpusOptions corpus;
    RunnerOptions runner;
    std::filesystem::path output;      // the .h5 trace, written in place (valid at every flush)
    bool router_logits = false;        // also store /routing/router_logits [Lm, N, E] float16
    bool resume = false;               // continue an interrupted trace in `output`
    bool overwrite = false;            // replace an existing `output` (without resume)
    std::string command_line;          // recorded in /meta
    // Called on the job's thread after each batch is flushed (so the file already holds it);
    // an exception thrown here stops the run like a failed batch. May be empty.
    std::function<void(const TraceBatchEvent&)> on_batch;
    // A runner of the same model to use instead of building one from `runner` (whose options
    // then do not apply): its loaded weights serve every call, so a caller that traces short
    // texts one after another (the workbench's token inspector) loads the model once. Used by
    // one job at a time. May be null.
    std::shared_ptr<ModelRunner> reuse_runner;
};

struct TraceSummary {
    int64_t tokens = 0;            // tokens in the file at the end
    int64_t resumed_from = 0;      // tokens the file already held (resume)
    int64_t documents = 0;         // documents in the file at the end
    int64_t batches = 0;           // batches computed by this run
    double seconds = 0;            // wall time of this run's batches
};

// Traces routing into options.output. Throws UsageError for a dense model ("no MoE layers"),
// bad options or a resume that does not match the file; Cancelled after closing the file with
// every finished batch (the file stays valid and resumable).
TraceSummary run_trace(const Model& model, const TraceOptions& options, Progress& progress, const CancelToken& cancel);

// `trace --plan`: what a run would cost, without running the model.
struct TracePlan {
    MemoryPlan memory;              // bytes per layer, resident, smallest workable --max-memory
    int64_t tokens = 0;             // tokens to trace: --max-tokens, else estimated from the data
    bool tokens_estimated = false;  // tokens extrapolated from the first ~1 MB of the data
    double flops_per_token = 0;     // 2 x active parameters + attention at half the window
    double device_gflops = 0;       // matmul throughput of the device measured by plan_trace
    bool streams_weights = false;   // --max-memory below all weights: every batch re-reads them
    uint64_t bytes_read = 0;        // checkpoint bytes read over the run (once, or per batch when streaming)
    double seconds_compute = 0;
    double seconds_streaming = 0;   // at an assumed 1 GB/s read speed
};
TracePlan plan_trace(const Model& model, const TraceOptions& options);
// Human-readable report of a plan (several lines, ends with '\n').
std::string format_trace_plan(const Model& model, const TraceOptions& options, const TracePlan& plan);

struct EvalOptions {
    CorpusOptions corpus;
    RunnerOptions runner;
};

// Over predicted tokens: every token that has a next token in its window.
struct EvalStats {
    int64_t tokens = 0;
    double mean_nll = 0;       // nats; NaN when tokens == 0
    double perplexity = 0;     // exp(mean_nll)
};

struct EvalResult {
    std::map<std::string, EvalStats> domains;   // records without a domain count as "(none)"
    EvalStats all;
    int64_t documents = 0;
};

// Works on dense and MoE models alike. Throws Cancelled when cancelled (no partial result).
EvalResult run_eval(const Model& model, const EvalOptions& options, Progress& progress, const CancelToken& cancel);

ComputeDType parse_compute_dtype(const std::string& text);   // "f32" | "bf16"; throws UsageError
std::string compute_dtype_name(ComputeDType dtype);

}  // namespace sy
