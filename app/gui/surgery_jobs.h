#pragma once
// The surgery work the window starts, as plain functions of library calls (each the call a CLI
// verb makes), run on worker threads by the panels: preview an edit stack, export it, upcycle a
// dense model, compare two traces. Each also names its command-line equivalent, which the log
// shows and the exported files record. No widgets here; thread rules as surgery.h.
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/analysis/compare.h"
#include "switchyard/editing/expert_training.h"
#include "switchyard/editing/surgery.h"
#include "switchyard/editing/upcycle.h"

namespace sy::gui {

// What the Compare view shows: the routing comparison of two traces of the same tokens, and,
// for a preview, the edit's per-layer output error and per-domain NLL before / after.
struct Comparison {
    QString title;                               // "preview of 2 edits" / "a.h5 vs b.h5"
    QString label_a, label_b;                    // "before" / "after", or the file names
    analysis::CompareResult compare;
    std::shared_ptr<const std::vector<std::string>> vocab;   // readable token text by id
    std::optional<PreviewResult> preview;        // only for a preview
    std::optional<EditSummary> summary;          // only for a preview
    std::vector<std::string> notes;              // the plan's notes
};

// A training entry trained in this window, with what its preview needs: the structural entries
// above it when it trained and the model they leave (its temporary folder lives as long as this
// does; null when the entry trained the opened model).
struct TrainedStackEntry {
    TrainedEntry trained;                        // trained.plan.training.log_file: the run's training log
    Recipe prefix;                               // the entries above it (recipe numbering)
    std::shared_ptr<const Model> edited;
    std::shared_ptr<const void> files;           // the temporary folder of the log and `edited`
};

// The entries of a stack as one string (edit_to_json of each, in order): which stack a trained
// entry belongs to (the export settings and source are not part of it).
std::string stack_key(const std::vector<Edit>& edits);

struct PreviewRequest {
    std::shared_ptr<const Model> model;
    Recipe recipe;
    EvalOptions sample;                          // the Run panel's data, with the preview's token budget
    ExportDType dtype = ExportDType::keep;       // the export's dtype (the preview rounds to it)
    // Set when the recipe ends in a training entry trained in this window after exactly the
    // recipe's other entries (its tensors are the edit; an entry read from a recipe file has
    // none until it trains).
    std::shared_ptr<const TrainedStackEntry> trained;
};

// The edit in its in-memory form (structural entries: run_edit_job's plan as `switchyard apply
// RECIPE --dry-run` makes it, plan_patch.h; a trained entry: patch_for_trained, moved onto the
// original model's slots by patch_for_plan_then_trained when entries precede it), then
// run_edit_preview's per-layer error and per-domain NLL, and both models traced on the same
// sample and compared as `switchyard compare` does.
Comparison run_preview(const PreviewRequest& request, Progress& progress, const CancelToken& cancel);

struct ExportRequest {
    std::shared_ptr<const Model> model;
    Recipe recipe;                               // with its source (EditStack::recipe_with_source)
    QString recipe_path;                         // the file the command names
    bool write_recipe_file = true;               // false: recipe_path already holds `recipe` (a saved stack)
    QString output;                              // output model folder
    bool force = false;
    QString device = QStringLiteral("cpu");      // an upcycle's hidden router runs its forward pass here
    // The recipe's training entry as this window trained it after exactly the recipe's other
    // entries: exported without training again (null: Export trains it, as `apply` does).
    std::shared_ptr<const TrainedStackEntry> trained;
};

// `switchyard apply RECIPE -o OUT [--force] [--device D]`: the recipe's export settings carry
// dtype and shard size.
QStringList apply_command(const ExportRequest& request);
// Writes request.recipe to request.recipe_path (unless it is already there), then exports the
// recipe read from that file as `apply` does (same record, same provenance text: a window export
// and the command typed in a shell write the same bytes). run_export runs expert edits;
// run_upcycle_export a recipe whose one entry is an upcycle (upcycle_hidden.h).
EditJobResult run_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel);
UpcycleResult run_upcycle_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel);

// run_export's counterpart for a recipe ending in an unlearn / tune entry: `apply`'s call
// (apply_training_recipe), so the window's export and `switchyard apply` write the same bytes;
// with request.trained, the tensors this window trained go through apply's export half
// (export_surgery_job) instead of a second training run (training is seeded and repeatable on
// the CPU, so the bytes are the same: tests/gui/training_test.cpp compares them).
SurgeryJobResult run_training_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel);

// A training entry for the stack: `unlearn` / `tune`'s library calls (plan_unlearn / plan_tune,
// then the training engine), or the plan of an entry read from a recipe (training_plan_from_entry:
// its recorded lr and steps, data checked by sha256), on the model the stack's entries leave
// (exported into a temporary folder first when there are any, as apply_training_recipe does).
struct TrainingEntryRequest {
    std::shared_ptr<const Model> model;
    Recipe structural;                           // the stack so far (recipe numbering)
    std::optional<UnlearnOptions> unlearn;       // one of the three
    std::optional<TuneOptions> tune;
    std::optional<Edit> entry;                   // an unlearn / tune entry of a recipe
    std::function<void(const TrainingStepReport&)> on_step;   // on the worker thread
};
TrainedStackEntry run_training_entry(const TrainingEntryRequest& request, Progress& progress, const CancelToken& cancel);

// `switchyard compare A B` of two trace files of the same tokens.
QStringList compare_command(const QString& a, const QString& b);
Comparison run_compare(const QString& a, const QString& b, Progress& progress, const CancelToken& cancel);

// Tokens listed among the most changed.
inline constexpr int compare_most_changed = 50;

}  // namespace sy::gui
