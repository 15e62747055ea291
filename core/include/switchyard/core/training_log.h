#pragma once
// The training log (`switchyard unlearn|tune`): one row per optimizer step (losses, learning
// rate, gradient norm, throughput) and one per held-out evaluation, streamed into an HDF5 file
// of the output folder and flushed after every row, so h5py (with swmr=True) can follow a run
// while it trains. Layout: docs/hdf5-schema.md "Training logs". No HDF5 headers here.
//
// Thread: one thread at a time per object.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sy {

// 2: per-MoE-layer expert-load CV per step (/steps/load_cv, /steps/load_layers). Version 1
// files read with no load columns.
inline constexpr int64_t training_log_format_version = 2;

struct TrainingLogMeta {
    std::string command_line;
    std::string model_path;            // absolute
    std::string model_fingerprint;
    std::string run_json;              // the run's resolved options (JSON), for provenance
    std::vector<std::string> streams;  // [S] data streams ("forget", "retain", "train")
    std::vector<std::string> routing;  // [R] routing-loss terms ("anchor L2:E5", "load_balance")
    std::vector<int32_t> load_layers;  // [M] model layer of each load_cv column (the MoE layers; empty: dense)
};

struct TrainingStepRow {
    int64_t step = 0;                  // 1-based optimizer step
    double lr = 0;
    double loss = 0;                   // the objective: sum of weighted stream and routing losses
    std::vector<double> stream_loss;   // [S] each stream's token loss (CE, -CE or NPO), unweighted
    std::vector<double> routing_loss;  // [R] each routing term, unweighted
    std::vector<double> load_cv;       // [M] per MoE layer: coefficient of variation of the experts' top-k slot counts
    double grad_norm = 0;              // global L2 norm before clipping
    int64_t tokens = 0;                // tokens of this step (all streams, all micro-batches)
    double tokens_per_second = 0;
    double seconds = 0;                // wall time since the run started (resumed runs continue it)
};

struct HeldoutRow {
    int64_t step = 0;                  // after this many steps (0: before training)
    std::vector<double> nll;           // [S] mean NLL of each stream's held-out windows (NaN: none)
};

struct TrainingLogContents {
    TrainingLogMeta meta;
    std::vector<TrainingStepRow> steps;
    std::vector<HeldoutRow> heldout;
};

class TrainingLog {
public:
    // Creates `path` (refuses an existing file unless `overwrite`). Throws UsageError / IoError.
    static TrainingLog create(const std::filesystem::path& path, const TrainingLogMeta& meta, bool overwrite);
    // Reopens the log of an interrupted run and drops rows after `steps_kept` (the resumable
    // state's step). Throws UsageError when the file is missing or its streams differ.
    static TrainingLog resume(const std::filesystem::path& path, const TrainingLogMeta& meta, int64_t steps_kept);

    TrainingLog(TrainingLog&&) noexcept;
    TrainingLog& operator=(TrainingLog&&) noexcept;
    ~TrainingLog();

    void append(const TrainingStepRow& row);   // ShapeMismatch when the row's widths differ from meta
    void append(const HeldoutRow& row);
    void close();                              // flushes and closes; later appends throw

    struct Impl;

private:
    explicit TrainingLog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Reads a whole log (any state: a live run's file is read with SWMR). UsageError when the file
// is not a Switchyard training log.
TrainingLogContents read_training_log(const std::filesystem::path& path);

}  // namespace sy
