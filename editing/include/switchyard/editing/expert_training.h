#pragma once
// Expert surgery by training (`switchyard unlearn`, `switchyard tune`), on the training engine of
// compute/ (training.h):
// - unlearn: UOE / SEUF (Zhuang et al., ACL 2025, arXiv 2411.18797; shared/docs/editing.md §3):
//   the expert most affiliated with the forget data (mean router probability over its tokens,
//   ranked over all MoE layers) and its layer's router train on the forget loss (NPO or gradient
//   ascent), a retain cross-entropy and the router anchor that keeps the expert selected;
// - tune: ESFT (Wang et al., EMNLP 2024, arXiv 2407.01906; editing.md §4.1): per MoE layer the
//   smallest set of routed experts whose relevance (gate score or token share) reaches P trains
//   on next-token cross-entropy; routers, shared experts and everything else stay frozen.
// The result is written by the streamed export with only the trained tensors replaced, and
// switchyard-edit.json lists them with the sha256 of their input and output bytes.
// No torch here. Thread rules as trace_job.h.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/compute/model_patch.h"
#include "switchyard/compute/training.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/editing/export.h"
#include "switchyard/core/model.h"
#include "switchyard/editing/recipe.h"

namespace sy {

struct RankedExpert {
    int layer = 0;      // model layer
    int expert = 0;
    double score = 0;   // the relevance it was chosen by
};

// UOE attribution (editing.md §3 step 1): every routed expert of every MoE layer by mean router
// probability over the scored tokens, highest first (ties: lower layer, then lower expert).
std::vector<RankedExpert> rank_by_affinity(const ExpertScores& scores);

enum class EsftScore {
    gate,    // ESFT-Gate: mean gate weight per token (0 where not chosen), from the gate mass
    token,   // ESFT-Token: share of the layer's top-k slots
};
EsftScore parse_esft_score(const std::string& text);   // "esft-gate" | "esft-token"; UsageError
// ESFT selection (editing.md §4.1): per MoE layer the scores normalised to sum 1 within the
// layer, sorted, and the smallest prefix whose cumulative share reaches `threshold` (0, 1].
std::vector<RankedExpert> esft_select(const ExpertScores& scores, EsftScore score, double threshold);

// Options of both verbs' training runs.
struct SurgeryTraining {
    RunnerOptions runner;
    int64_t seq_len = 128;
    std::optional<int64_t> steps;    // none: the verb's default
    std::optional<double> lr;        // none: the verb's default
    int64_t max_tokens = 0;          // > 0: at most this many tokens read from each data set
    int64_t batch_tokens = 2048;     // tokens of each data stream per step
    int64_t accumulation = 1;
    uint64_t seed = 0;
    LrSchedule schedule = LrSchedule::cosine;
    int64_t warmup_steps = 0;
    double clip_norm = 1.0;
    double weight_decay = 0.0;
    ActivationCheckpointing checkpointing = ActivationCheckpointing::automatic;
    std::vector<std::filesystem::path> eval_data;   // evaluated before and after (default: the training data)
};

struct UnlearnOptions {
    std::vector<std::filesystem::path> forget, retain;
    std::optional<std::pair<int, int>> expert;   // --expert L:E; none: the most affine expert
    // The baseline SEUF compares with: every decoder-layer tensor trains (all_layer_parameters),
    // no anchor. Not an expert surgery; for comparison tables.
    bool whole_model = false;
    TokenLoss method = TokenLoss::npo;
    double anchor_weight = 1.0;      // alpha of L_anchor
    double retain_weight = 3.0;      // lambda of the retain loss (docs/training.md: chosen on tiny-mixtral)
    double npo_beta = 0.1;
    SurgeryTraining training;
};

// Switch Transformer's alpha (arXiv 2101.03961 §2.2: 1e-2 "large enough to ensure load
// balancing while small enough to not overwhelm the primary cross-entropy objective").
inline constexpr double k_default_load_balance = 0.01;

struct TuneOptions {
    std::vector<std::filesystem::path> data;
    enum class Select { esft_gate, esft_token, all, listed } select = Select::esft_gate;
    double threshold = 0;                     // 0: 0.1 for esft-gate, 0.2 for esft-token (ESFT's values)
    std::vector<std::pair<int, int>> experts; // Select::listed
    // Routers of every MoE layer train too. None: with Select::all (continued training of an
    // upcycled model, whose new routers are what must learn), not with ESFT's selections
    // (ESFT freezes routers).
    std::optional<bool> train_routers;
    // Weight of the load-balancing loss (Switch Transformer eq. 4) on the training tokens.
    // None: k_default_load_balance when routers train, else 0. MoE models only.
    std::optional<double> load_balance;
    SurgeryTraining training;
    // Default steps and learning rate: chosen on a held-out slice of the data (held-out NLL
    // every `eval_every` steps, stop after `patience` evaluations without a new best).
    double holdout = 0.1;
};

// A verb resolved against its model and data, before any weight is loaded: what trains and how.
struct SurgeryPlan {
    std::string op;                             // "unlearn" | "tune"
    std::vector<RankedExpert> experts;          // trained routed experts (with their scores)
    std::vector<RankedExpert> ranking;          // unlearn: the top of the affinity ranking
    std::vector<ParameterRef> parameters;
    TrainingOptions training;
    std::string details_json;                   // the resolved entry of switchyard-edit.json
};

// Refuse forget and retain data that share a document (the same record text / token ids, or
// the same file). UsageError naming both files.
void check_disjoint_data(const std::vector<std::filesystem::path>& forget, const std::vector<std::filesystem::path>& retain);

// Resolve (validating everything: dense model for unlearn, unknown experts, lr <= 0, data)
// and, for automatic choices, score the data with one calibration pass (progress, cancel).
SurgeryPlan plan_unlearn(const Model& model, const UnlearnOptions& options, Progress& progress, const CancelToken& cancel);
SurgeryPlan plan_tune(const Model& model, const TuneOptions& options, Progress& progress, const CancelToken& cancel);

// Where a run keeps its log and resumable state while it runs: OUT.training/ beside OUT
// (the output folder itself appears only when the export completes).
std::filesystem::path training_work_dir(const std::filesystem::path& output_dir);
// Sets log_file, state_dir, resume and run_id (model fingerprint + resolved options).
void set_run_files(const Model& model, SurgeryPlan& plan, const std::filesystem::path& output_dir, bool resume,
                   const std::string& command_line);

// Writes the model with the trained tensors replaced (rounded to their stored dtype, or
// options.dtype); every other tensor goes through the plain export unchanged. Copies the
// training log into the output and writes switchyard-edit.json (edits: [the plan's entry],
// tensors.changed: name, input_sha256, output_sha256, plus the before/after evaluations).
ExportResult export_trained(const Model& model, const SurgeryPlan& plan, const TrainingResult& result,
                            const ExportOptions& options, Progress& progress, const CancelToken& cancel);

// The trained model in the in-memory form the forward pass runs (RunnerOptions::patch): each
// trained tensor rounded to the dtype export_trained stores it in under `dtype`, so the patched
// forward computes what the exported model will. Supports trained routers (every row) and routed
// experts (gate, up and down together; biases of families that have them stay as loaded);
// UsageError naming the parameter for any other trained role.
std::shared_ptr<const ModelPatch> patch_for_trained(const Model& model, const TrainingResult& result, ExportDType dtype);

// Refuses (UsageError) trained tensors the export cannot store (FP8 without --out-dtype).
void check_trained_export(const Model& model, const std::vector<ParameterRef>& parameters, const ExportOptions& options);

// The recipe entry of a finished run (UnlearnEdit / TuneEdit, docs/recipes.md): the plan with
// the learning rate and steps the run used (result.lr, result.steps; the decay keeps the run's
// length) and every data file with its sha256.
Edit training_edit(const SurgeryPlan& plan, const TrainingResult& result);
// The plan an entry stands for, ready to run (no search: the recorded lr and steps). UsageError
// naming `origin` (the recipe and entry) for a malformed entry, and for a data file that is
// missing or whose sha256 differs from the recorded one.
SurgeryPlan training_plan_from_entry(const Edit& entry, const std::string& origin);

struct SurgeryJobOptions {
    ExportOptions export_options;             // output folder (required), dtype, shard size, force, command line
    bool resume = false;                      // continue a cancelled run (same plan, same output)
    std::filesystem::path save_recipe;        // also write the run's recipe here (empty: no)
    RecipeExport recipe_export;               // the saved recipe's export settings
    std::function<void(const TrainingStepReport&)> on_step;   // each step, on the training thread
    // Data-parallel runs: joins the ranks once the run is identified (training.run_id set) and
    // returns this rank's reducer (null: one process). Only rank 0 then exports and saves.
    std::function<std::unique_ptr<GradientReducer>(TrainingOptions& training)> join_ranks;
};

struct SurgeryJobResult {
    SurgeryPlan plan;                         // as run
    int64_t trained_parameters = 0;           // elements
    TrainingResult training;
    ExportResult exported;
    Edit entry;                               // the run as a recipe entry
    bool output_rank = true;                  // false: a data-parallel rank other than 0 (no export, no entry)
};

// The one path from a resolved plan to a trained model (`unlearn`, `tune`, `apply` and the
// workbench): set the run files (OUT.training/), train, export, remove the work folder, save
// the recipe when asked. Cancelled leaves the resumable state in OUT.training/ and no output.
SurgeryJobResult run_surgery_job(const Model& model, SurgeryPlan& plan, const SurgeryJobOptions& options,
                                 Progress& progress, const CancelToken& cancel);

// run_surgery_job's second half, for a plan that has trained (`training`: its result on
// `model`): the export (its training log copied when plan.training.log_file exists), the recipe
// entry, the saved recipe when asked. The workbench exports a training entry it trained this way
// instead of training it again.
SurgeryJobResult export_surgery_job(const Model& model, const SurgeryPlan& plan, TrainingResult training,
                                    const SurgeryJobOptions& options, Progress& progress, const CancelToken& cancel);

// The model a recipe's structural entries (prune, merge, mask) leave, exported (stored dtypes
// kept, as `switchyard apply` of them writes it) into `dir` and opened; the caller removes `dir`.
Model export_structural_prefix(const Model& model, const Recipe& structural, const std::filesystem::path& dir,
                               const std::string& command_line, Progress& progress, const CancelToken& cancel);

// A plan trained without an export, log or resumable state, and its recipe entry: how the
// workbench resolves a training entry (its Export then runs the entry as `apply` does).
struct TrainedEntry {
    SurgeryPlan plan;
    TrainingResult training;
    Edit entry;
};
TrainedEntry train_entry(const Model& model, SurgeryPlan plan, const std::function<void(const TrainingStepReport&)>& on_step,
                         Progress& progress, const CancelToken& cancel);

// A recipe whose last entry trains: with entries before it, those are exported first (stored
// dtypes kept) into a folder beside the output, removed afterwards, and the entry trains that
// model, as `tune` of the edited folder would. Data files are checked before anything runs.
SurgeryJobResult apply_training_recipe(const Model& model, const Recipe& recipe, const SurgeryJobOptions& options,
                                       const std::string& origin, Progress& progress, const CancelToken& cancel);

// The text report both verbs print: chosen experts, NLL per domain before/after, selection rates.
std::string surgery_report(const SurgeryPlan& plan, const TrainingResult& result);

}  // namespace sy
