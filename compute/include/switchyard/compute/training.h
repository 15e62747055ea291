#pragma once
// The training engine (editing.md §0 primitive P6, §3, §4, §8): gradient descent on an
// explicit set of tensors of a checkpoint (whole per-layer tensors, or one routed expert's slice
// of a fused expert tensor) while every other tensor is frozen: no gradient, no optimizer state,
// never written. The forward pass is the one trace and eval run (compute/src/forward), with
// autograd on; AdamW with warm-up and a cosine or linear schedule, gradient clipping and
// accumulation, activation checkpointing per decoder layer, bf16 compute with f32 master weights
// on CUDA, f32 on the CPU (seeded: a CPU run is repeatable bit for bit). Losses: next-token
// cross-entropy, its negation, NPO, router anchor and load-balancing terms. A cancelled run
// saves a resumable state. No torch here (style.md rule 15).
//
// Thread rules as trace_job.h: run on one worker thread; `progress` is called on that thread;
// `cancel` may be set from any thread (polled between micro-batches and layers).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/compute/model_runner.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/dtype.h"
#include "switchyard/core/family.h"
#include "switchyard/core/progress.h"

namespace sy {

struct Model;
struct ModelDescription;

// One trained tensor. Routed experts are named by their logical parts whatever the layout on
// disk: expert_gate / expert_up [I, H] and expert_down [H, I] of `expert` (a slice of the fused
// gate_up_proj [E, 2I, H] / down_proj [E, H, I] in a v5 checkpoint). Every other per-layer role
// (router, ffn_*, shared_*, attn_*, norms) is the whole tensor of `layer`; expert = -1.
struct ParameterRef {
    TensorRole role = TensorRole::router;
    int layer = -1;
    int expert = -1;

    bool operator<(const ParameterRef& o) const {
        return layer != o.layer ? layer < o.layer : role != o.role ? role < o.role : expert < o.expert;
    }
    bool operator==(const ParameterRef& o) const { return role == o.role && layer == o.layer && expert == o.expert; }
};

std::string parameter_name(const ParameterRef& ref);   // "layer 2 expert 5 expert_down", "layer 1 router"

// The parts of routed expert `expert` of `layer` (gate, up, down).
std::vector<ParameterRef> expert_parameters(int layer, int expert);
// The dense MLP of a dense layer (ffn_gate, ffn_up, ffn_down).
std::vector<ParameterRef> dense_mlp_parameters(int layer);
// Every tensor of every decoder layer (norms, attention, routers, shared experts, dense MLPs and
// each routed expert's parts): the whole model but embeddings, final norm and lm_head.
std::vector<ParameterRef> all_layer_parameters(const Model& model);

// Throws UsageError naming the parameter unless every ref exists in `model` (MoE layer for
// router/expert roles, expert index in range, tensor present in the family) and can be
// trained: embeddings, lm_head and the final norm cannot; nor can experts of families that
// store biases beside them (gpt-oss). Duplicates are refused too.
void check_parameters(const Model& model, const std::vector<ParameterRef>& parameters);
// Elements over all refs.
int64_t parameter_count(const Model& model, const std::vector<ParameterRef>& parameters);

// Loss on the tokens of one data stream.
enum class TokenLoss {
    cross_entropy,           // mean next-token NLL (tuning, retain sets)
    negated_cross_entropy,   // -NLL: gradient ascent (editing.md §3 "GA")
    npo,                     // Negative Preference Optimization (Zhang et al. 2024, arXiv 2404.05868)
};
std::string token_loss_name(TokenLoss loss);   // "ce", "ga", "npo"

// A routing term computed from the router probabilities p [N, E] of the stream's tokens. For
// sigmoid routers (DeepSeek-V3) p is the scores normalised to sum 1 per token.
struct RoutingLoss {
    enum class Kind {
        anchor,         // mean_t ||p_t - onehot(expert)||^2 at `layer` (SEUF, editing.md §3 step 3)
        load_balance,   // mean over MoE layers of E * sum_e f_e P_e (Switch Transformer, arXiv 2101.03961 eq. 4):
                        // f_e = share of top-k slots, P_e = mean p_e; 1 for a balanced router. Per layer,
                        // transformers' load_balancing_loss_func divided by k (it sums the per-slot shares,
                        // and pools the layers' tokens instead of averaging the layers)
    };
    Kind kind = Kind::anchor;
    int layer = -1;     // anchor only
    int expert = -1;    // anchor only
    double weight = 1.0;
};
std::string routing_loss_name(const RoutingLoss& loss);   // "anchor L2:E5", "load_balance"

// One source of training tokens with its loss. A step takes `tokens_per_step` tokens of every
// stream (in `accumulation` micro-batches each); windows are shuffled per epoch with the seed.
struct TrainingStream {
    std::string name;                 // "forget", "retain", "train": log column and report key
    CorpusOptions corpus;             // files, seq_len, bos; max_tokens caps the tokens loaded
    int64_t tokens_per_step = 4096;
    TokenLoss loss = TokenLoss::cross_entropy;
    double weight = 1.0;              // of the token loss in the objective
    double npo_beta = 0.1;            // NPO's beta (on the per-window mean token log-probability)
    std::vector<RoutingLoss> routing; // on this stream's tokens, weights applied as given
    double holdout = 0.0;             // fraction of windows held out of training, in [0, 0.5]
};

enum class LrSchedule { constant, linear, cosine };
LrSchedule parse_lr_schedule(const std::string& text);   // "constant" | "linear" | "cosine"; UsageError
std::string lr_schedule_name(LrSchedule schedule);

struct OptimizerOptions {
    double lr = 1e-4;                 // peak learning rate, > 0
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    double weight_decay = 0.0;        // decoupled (AdamW, Loshchilov & Hutter, arXiv 1711.05101)
    int64_t warmup_steps = 0;         // linear from lr / warmup_steps to lr
    LrSchedule schedule = LrSchedule::cosine;
    int64_t schedule_steps = 0;       // length of the decay (0: the run's steps)
    double min_lr_ratio = 0.0;        // the decay ends at lr * min_lr_ratio
    double clip_norm = 1.0;           // global gradient L2 norm bound; 0: no clipping
};

// Learning rate of `step` (1-based), for the log, the tests and the Python reference bench.
double learning_rate_at(const OptimizerOptions& options, int64_t step, int64_t steps);

enum class ActivationCheckpointing {
    automatic,   // on when the activations of a step would not fit the memory budget
    on,          // keep only each trained decoder layer's input; recompute the layer in backward
    off,
};

// The processes of a data-parallel run (docs/distributed.md "Training on several ranks"). Every
// process draws the same global micro-batches (the ones one process would train on) and trains
// on its share of their windows, with the losses normalised by the global batch's token and
// window counts; summing the gradients over the processes after a step's micro-batches and
// before clipping then gives every process the one-process gradient, so all clip and step alike.
class GradientReducer {
public:
    virtual ~GradientReducer() = default;
    virtual int rank() const = 0;
    virtual int world_size() const = 0;
    // In place over all processes: `count` f32 values on the training device (host memory on
    // the CPU), and f64 values in host memory (losses, token counts, flags).
    virtual void all_reduce_sum(float* data, int64_t count) = 0;
    virtual void all_reduce_sum(std::vector<double>& values) = 0;
};

// The reducer of one rank of `ranks` training on `device` (this rank's: "cpu", "cuda:1"):
// c10d all-reduce, NCCL on CUDA memory with the nccl backend, Gloo otherwise.
std::unique_ptr<GradientReducer> make_gradient_reducer(std::shared_ptr<RankGroup> ranks, const std::string& device);

// A set of tokens evaluated before and after training: mean NLL per domain and overall, and
// how often each listed expert is among the chosen experts of a token.
struct EvalSet {
    std::string name;                         // "forget", "retain", "held-out"
    CorpusOptions corpus;
    std::vector<std::pair<int, int>> experts; // (model layer, expert) whose selection rate is reported
};

struct EvalReport {
    std::string name;
    std::map<std::string, EvalStats> domains;
    EvalStats all;
    std::vector<double> selection_rate;       // per EvalSet::experts: share of tokens routed to it
};

// Values to start from instead of the checkpoint's (a previous edit's trained tensors).
struct ParameterValues {
    ParameterRef ref;
    std::vector<int64_t> shape;               // as ParameterRef describes ([I, H], [H, I], [E, H], ...)
    std::vector<float> values;                // f32, row-major
};

// One finished optimizer step (not the learning-rate probe's), for live views such as the
// workbench's loss curve.
struct TrainingStepReport {
    int64_t step = 0;                         // 1-based
    int64_t steps = 0;                        // of the run (early stopping may end it sooner)
    double loss = 0;                          // the weighted objective
    std::vector<double> stream_loss;          // per stream, before its weight
    double lr = 0;
    double grad_norm = 0;
};

struct TrainingOptions {
    RunnerOptions runner;                     // device, dtype; max_memory_bytes = memory budget (0: the device's)
    std::vector<ParameterRef> parameters;
    std::vector<TrainingStream> streams;
    OptimizerOptions optimizer;
    int64_t steps = 100;
    int64_t accumulation = 1;                 // micro-batches per stream per step
    uint64_t seed = 0;
    ActivationCheckpointing checkpointing = ActivationCheckpointing::automatic;
    int64_t eval_every = 0;                   // steps between held-out evaluations (0: only at the end)
    // > 0: held-out NLL of stream 0 decides when to stop: after this many evaluations without a
    // new best, training stops and the best step's weights are the result.
    int64_t patience = 0;
    // Non-empty: before training, `probe_steps` steps from the initial weights per candidate;
    // the one with the lowest held-out NLL of stream 0 becomes optimizer.lr.
    std::vector<double> lr_candidates;
    int64_t probe_steps = 0;
    std::vector<EvalSet> evaluations;         // before and after training
    std::vector<ParameterValues> initial;     // applied over the checkpoint before anything runs
    // Dtype the trained tensors are stored in (rounds them for the "after" evaluation); empty:
    // each tensor's checkpoint dtype.
    std::optional<DType> store_dtype;
    std::filesystem::path log_file;           // HDF5 training log; empty: none
    std::filesystem::path state_dir;          // resumable state of a cancelled run; empty: none saved
    bool resume = false;                      // continue from state_dir (checked against run_id)
    std::string run_id;                       // identifies the run's inputs and options for --resume
    std::string command_line;
    std::string run_json;                     // recorded in the log
    GradientReducer* reducer = nullptr;       // data-parallel runs; null: one process
    // Called on the training thread after each step; must not throw. Empty: nothing called.
    std::function<void(const TrainingStepReport&)> on_step;
};

// What a run needs, without loading weights (`--plan`).
struct TrainingPlan {
    uint64_t frozen_weight_bytes = 0;         // every weight in the compute dtype
    int64_t trained_parameters = 0;           // elements
    uint64_t trained_state_bytes = 0;         // f32 master + gradient + two AdamW moments (+ bf16 copy on CUDA)
    uint64_t activation_bytes_full = 0;       // autograd activations of one micro-batch, all trained layers kept
    uint64_t activation_bytes_checkpointed = 0;   // with per-layer checkpointing
    uint64_t budget_bytes = 0;                // --max-memory, else the device's available memory
    bool checkpointing = false;               // chosen
    uint64_t total_bytes = 0;                 // peak estimate with the chosen mode
    bool fits = false;
    int64_t micro_batch_tokens = 0;
    int64_t first_trained_layer = 0;          // layers below run without autograd
};
TrainingPlan plan_training(const Model& model, const TrainingOptions& options);
std::string format_training_plan(const Model& model, const TrainingOptions& options, const TrainingPlan& plan);

struct TrainedTensor {
    ParameterRef ref;
    std::vector<int64_t> shape;
    std::vector<float> values;                // f32 master values, row-major; the export rounds them
};

struct TrainingResult {
    std::vector<TrainedTensor> tensors;       // one per TrainingOptions::parameters, same order
    std::vector<EvalReport> before, after;    // per TrainingOptions::evaluations
    double lr = 0;                            // the learning rate used (chosen by the probe, or given)
    int64_t steps = 0;                        // steps whose weights are the result (the best, with patience)
    int64_t steps_run = 0;                    // steps taken (>= steps when patience stopped late)
    int64_t resumed_from = 0;                 // step the run resumed at (0: fresh)
    bool checkpointing = false;
    double seconds = 0;                       // training time of this process run
    double tokens_per_second = 0;             // training tokens (forward + backward) per second
    std::vector<double> heldout_before, heldout_after;   // per stream mean held-out NLL (NaN: none)
    // Expert load of this process run's steps, per MoE layer: the coefficient of variation
    // (population std / mean) of the experts' top-k slot counts over all tokens of a step
    // (0: perfectly balanced; sqrt(E/k - 1): every token on the same k experts).
    std::vector<int> load_layers;                         // [M] model layer of each column
    std::vector<std::vector<double>> load_cv;             // [steps][M]
    std::vector<double> load_cv_collapsed;                // [M] sqrt(E/k - 1) of the layer
};

// Short per-layer summary of TrainingResult::load_cv (first step, last steps, the collapse
// value); empty for a dense model or a run without steps.
std::string format_load_summary(const TrainingResult& result);

// Throws UsageError for bad options (before any weight is loaded), OutOfMemory when the plan
// does not fit, Cancelled after saving the resumable state (when state_dir is set) at a step
// boundary; the log then holds every finished step.
TrainingResult run_training(const Model& model, const TrainingOptions& options, Progress& progress,
                            const CancelToken& cancel);

}  // namespace sy
