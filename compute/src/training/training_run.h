#pragma once
// One training run (run_training): data, model, optimizer, log and state together, stepped to
// the end. Split into the phases run_training calls in order. Compute thread only.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "switchyard/compute/training.h"
#include "switchyard/core/training_log.h"
#include "training/adamw.h"
#include "training/trainable_model.h"
#include "training/training_data.h"
#include "training/training_state.h"

namespace sy {

struct StreamRuntime {
    const TrainingStream* spec = nullptr;
    WindowSet windows;
    HoldoutSplit split;
    std::unique_ptr<WindowSampler> sampler;
    std::vector<float> npo_reference;   // per window: mean token log-prob before training (NPO)
    int64_t micro_tokens = 0;
};

struct StepOutcome {
    double loss = 0;
    std::vector<double> stream_loss, routing_loss;
    std::vector<double> load_cv;        // per MoE layer (TrainingResult::load_cv)
    double grad_norm = 0;
    int64_t tokens = 0;
    bool cancel = false;   // data parallel: some rank was cancelled during the step
};

class TrainingRun {
public:
    TrainingRun(const Model& model, const TrainingOptions& options, Progress& progress, const CancelToken& cancel);
    ~TrainingRun();
    TrainingResult run();

private:
    void validate() const;
    void load_data();
    void start_model();
    void start_log();
    void choose_lr();
    StepOutcome step(double lr);
    void reduce_step(GradientReducer& reducer, StepOutcome& out);
    void join_balance_sums(GradientReducer& reducer);
    const CancelToken& cancel_within_step() const;   // what the work inside a step polls
    bool writes_files() const;   // one process, or rank 0: log, state, "after" evaluations
    std::vector<double> heldout();
    bool after_evaluation(int64_t step);   // true: patience says stop
    void save_state(int64_t step);
    void finish(TrainingResult& result);
    void report(int64_t step, const StepOutcome& outcome, double lr);
    void reset_samplers();
    void run_steps(int64_t first, int64_t last);

    const Model& m_model;
    const TrainingOptions& m_options;
    Progress& m_progress;
    const CancelToken& m_cancel;
    TrainingPlan m_plan;
    std::vector<StreamRuntime> m_streams;
    std::vector<WindowSet> m_eval_windows;
    std::unique_ptr<TrainableModel> m_trainable;
    std::unique_ptr<AdamW> m_adam;
    std::optional<TrainingState> m_resumed;
    std::optional<TrainingLog> m_log;
    std::vector<std::string> m_routing_names;
    std::vector<EvalReport> m_before;
    std::vector<double> m_heldout_before;
    std::vector<std::vector<double>> m_load_cv;   // per step of this process run
    double m_lr = 0;
    int64_t m_step = 0;                 // completed steps
    int64_t m_best_step = 0;
    double m_best_loss = 0;
    int64_t m_since_best = 0;
    std::vector<torch::Tensor> m_best;
    double m_seconds_before = 0;        // training time of earlier (resumed) process runs
    double m_train_seconds = 0;         // this process: time inside steps
    int64_t m_tokens = 0;               // training tokens, all process runs
    int64_t m_tokens_this_run = 0;
    std::chrono::steady_clock::time_point m_start;
};

}  // namespace sy
