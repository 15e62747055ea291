#pragma once
// The resumable state of a cancelled training run: a folder holding state.json (step, data
// cursors, early-stopping bookkeeping, the evaluations before training) and state.safetensors
// (f32 masters, AdamW moments, the best weights so far, NPO reference log-probabilities).
// Written under a temporary name and renamed, so a state is whole or absent. Compute thread.
#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "training/training_data.h"

namespace sy {

struct TrainingState {
    std::string run_id;                    // the run's inputs and options; must match on resume
    std::string run_json;                  // what run_id digests (TrainingOptions::run_json), to name a difference
    int64_t step = 0;                      // completed optimizer steps
    double lr = 0;                         // learning rate in use (after a probe)
    bool checkpointing = false;
    std::vector<SamplerCursor> cursors;    // per stream, at the step boundary
    int64_t best_step = 0;
    double best_loss = 0;                  // NaN before the first held-out evaluation
    int64_t evaluations_since_best = 0;
    double seconds = 0;                    // training wall time so far
    int64_t tokens = 0;                    // training tokens so far
    std::string before_json;               // evaluation reports before training, as JSON
    std::vector<double> heldout_before;

    std::vector<torch::Tensor> masters, exp_avg, exp_avg_sq, best;   // best: empty without patience
    std::vector<std::vector<float>> npo_reference;                   // per stream; empty when not NPO
};

void save_training_state(const std::filesystem::path& dir, const TrainingState& state);
// UsageError when `dir` holds no state, a state of another run (run_id; the message names the
// first option of `run_json` that differs), or other tensor counts.
TrainingState load_training_state(const std::filesystem::path& dir, const std::string& run_id, const std::string& run_json,
                                  std::size_t parameters, std::size_t streams);
bool has_training_state(const std::filesystem::path& dir);

}  // namespace sy
