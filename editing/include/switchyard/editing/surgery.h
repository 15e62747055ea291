#pragma once
// The edit verbs as library calls (`switchyard prune|merge|apply` and the workbench call these):
// resolve a request into a recipe entry (reading or computing calibration scores as needed),
// then plan it, preview it, or export it with its provenance. No torch here.
// Thread rules as trace_job.h: one worker thread; `cancel` may be set from any thread.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/compute/edit_preview.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/editing/edit_export.h"
#include "switchyard/editing/expert_choice.h"
#include "switchyard/editing/recipe.h"

namespace sy {

// Where calibration statistics come from: a score file, or a pass over `corpus` (data files
// given), or neither (explicit edits need none).
struct Calibration {
    CorpusOptions corpus;                    // corpus.data empty: no calibration data
    RunnerOptions runner;
    std::filesystem::path scores_file;       // `--scores`: used instead of a pass
    std::string command_line;                // recorded in scores computed here

    bool has_data() const { return !corpus.data.empty(); }
    // Whether calibrate() runs a score pass over the data when scores are `needed`.
    bool runs_pass(bool needed) const { return needed && scores_file.empty() && has_data(); }
};

// Scores and where they came from, once resolved.
struct CalibrationScores {
    std::optional<ExpertScores> scores;
    std::filesystem::path file;              // the --scores file, or empty when computed here
};

struct PruneRequest {
    ExpertsByLayer experts;                  // explicit list (--experts), or
    std::optional<PruneChoice> choice;       // a method (--method with --ratio / --keep)
};

struct MergeRequest {
    ExpertGroupsByLayer groups;              // explicit groups (--groups), or
    std::optional<MergeMethod> method;       // hc-smoe / m-smoe with `keep`
    int64_t keep = 0;
    bool align = true;
    MergeLayout layout = MergeLayout::collapse;
    std::optional<MergeRouter> router;       // default: fitted with calibration data, else dominant
    std::optional<MergeWeights> weights;     // default: frequency with calibration, else uniform
};

// Reads the --scores file when given; else runs a calibration pass over --data when `needed`
// (UsageError when needed and neither is given); else returns no scores.
// `output_tokens` > 0 asks a computed pass for HC-SMoE output means.
CalibrationScores calibrate(const Model& model, const Calibration& calibration, bool needed, int64_t output_tokens,
                            Progress& progress, const CancelToken& cancel);

Edit resolve_prune(const Model& model, const PruneRequest& request, const CalibrationScores& scores);
// Fits router rows on calibration data when the router is `fitted` (collapse layout).
Edit resolve_merge(const Model& model, const MergeRequest& request, const CalibrationScores& scores,
                   const Calibration& calibration, Progress& progress, const CancelToken& cancel);
MergeRouter default_merge_router(const Calibration& calibration);

struct EditJobOptions {
    ExportOptions export_options;           // output folder, dtype, shard size, force
    bool dry_run = false;                   // plan (and preview), write nothing
    EvalOptions preview;                    // preview.corpus.data empty: no preview
    std::filesystem::path save_recipe;      // write the recipe here too, last (empty: no); check_recipe_destination
};

struct EditJobResult {
    EditPlan plan;
    EditSummary summary;
    std::optional<PreviewResult> preview;
    std::optional<ExportResult> exported;   // absent on a dry run
};

// Plans `recipe` (all validation before anything is written), previews it when preview data is
// given, and unless dry_run exports it with `record` (switchyard-edit.json, scores copied).
EditJobResult run_edit_job(const Model& model, const Recipe& recipe, EditRecord record, const EditJobOptions& options,
                           const CalibrationScores& scores, Progress& progress, const CancelToken& cancel);

// Refuses (UsageError) an output folder that is the model folder / inside it / contains it, a
// non-empty one without `force`, or one whose folder is missing or not writable: checked before
// any long calibration pass or training run.
void check_export_target(const Model& model, const ExportOptions& options);

}  // namespace sy
