#include "surgery_jobs.h"

#include <QFileInfo>
#include <QTemporaryDir>

#include "command_line.h"
#include "qt_progress.h"
#include "routing_snapshot.h"
#include "switchyard/analysis/trace_analyses.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/compute/edit_preview.h"
#include "switchyard/editing/plan_patch.h"
#include "switchyard/editing/upcycle_hidden.h"

namespace sy::gui {

namespace {

constexpr int64_t compare_chunk_tokens = 65536;

// The sample traced into `path` by `runner` (the original model, or its edited in-memory form).
void trace_sample(const Model& model, const EvalOptions& sample, const RunnerOptions& runner, const QString& path,
                  Progress& progress, const CancelToken& cancel) {
    TraceOptions options;
    options.corpus = sample.corpus;
    options.runner = runner;
    options.output = path.toStdString();
    options.overwrite = true;
    options.command_line = "switchyard-gui preview";
    run_trace(model, options, progress, cancel);
}

// The preview of any edit in its in-memory form: run_edit_preview's per-layer error and
// per-domain NLL, then both models traced on the same sample and compared.
Comparison preview_patch(const Model& model, const EvalOptions& sample, const ExpertMask& masks, std::shared_ptr<const ModelPatch> patch,
                         Progress& progress, const CancelToken& cancel) {
    PartProgress eval_part(progress, 0.0, 0.5, "preview");
    PreviewResult preview = run_edit_preview(model, masks, patch, sample, eval_part, cancel);
    QTemporaryDir dir;
    SY_CHECK(dir.isValid(), IoError, "cannot create a temporary folder for the preview traces");
    const QString before = dir.filePath(QStringLiteral("before.h5")), after = dir.filePath(QStringLiteral("after.h5"));
    PartProgress trace_before(progress, 0.5, 0.75, "routing before");
    trace_sample(model, sample, sample.runner, before, trace_before, cancel);
    RunnerOptions edited = sample.runner;
    for (const auto& [layer, experts] : masks) edited.masked_experts[layer].insert(edited.masked_experts[layer].end(), experts.begin(), experts.end());
    edited.patch = std::move(patch);
    PartProgress trace_after(progress, 0.75, 1.0, "routing after");
    trace_sample(model, sample, edited, after, trace_after, cancel);
    const TraceReader a = TraceReader::open(before.toStdString()), b = TraceReader::open(after.toStdString());
    NullProgress quiet;
    Comparison out;
    out.compare = analysis::trace_compare(a, b, compare_most_changed, compare_chunk_tokens, quiet, cancel);
    out.vocab = readable_vocabulary(a.meta().token_strings);
    out.preview = std::move(preview);
    out.label_a = QObject::tr("before");
    out.label_b = QObject::tr("after");
    progress.report(1.0, "preview done");
    return out;
}

}  // namespace

std::string stack_key(const std::vector<Edit>& edits) {
    std::string key;
    for (const Edit& edit : edits) key += edit_to_json(edit) + '\n';
    return key;
}

namespace {

// The entries above the last one of `edits` (`where`: the stack or the recipe file), checked to
// be those `trained` trained after: its tensors are numbered as they leave the model.
std::vector<Edit> entries_above(const TrainedStackEntry& trained, std::vector<Edit> edits, const std::string& where) {
    SY_CHECK(!edits.empty(), UsageError, where + ": no training entry (no entries at all)");
    edits.pop_back();
    SY_CHECK(stack_key(edits) == stack_key(trained.prefix.edits), UsageError,
             where + ": the training entry trained after other entries than those now above it: train it again");
    return edits;
}

}  // namespace

Comparison run_preview(const PreviewRequest& request, Progress& progress, const CancelToken& cancel) {
    const Model& model = *request.model;
    Comparison out;
    Recipe structural = request.recipe;
    if (request.trained) structural.edits = entries_above(*request.trained, request.recipe.edits, "the stack");
    if (request.trained && structural.edits.empty()) {
        // A stack that is one training entry: its trained tensors, rounded as Export stores them.
        out = preview_patch(model, request.sample, ExpertMask{}, patch_for_trained(model, request.trained->trained.training, request.dtype),
                            progress, cancel);
        out.title = QObject::tr("Preview of the %1 entry on %2 tokens")
                        .arg(QString::fromStdString(request.trained->trained.plan.op))
                        .arg(out.preview->tokens);
        return out;
    }
    // The same plan and summary as `switchyard apply RECIPE --dry-run --preview-data ...` (of the
    // entries above a trained one).
    EditJobOptions job;
    job.dry_run = true;
    job.export_options.dtype = request.dtype;
    PartProgress plan_part(progress, 0.0, 0.1, "plan");
    const EditJobResult result = run_edit_job(model, structural, EditRecord{}, job, CalibrationScores{}, plan_part, cancel);
    const PlanPatch patch = request.trained ? patch_for_plan_then_trained(model, result.plan, *request.trained->edited,
                                                                          request.trained->trained.training, request.dtype)
                                            : patch_for_plan(model, result.plan, request.dtype);
    PartProgress preview_part(progress, 0.1, 1.0, "preview");
    out = preview_patch(model, request.sample, patch.masks, patch.patch, preview_part, cancel);
    out.summary = result.summary;
    out.notes = result.plan.notes;
    out.title = QObject::tr("Preview of %n edit(s) on %1 tokens", nullptr, static_cast<int>(request.recipe.edits.size()))
                    .arg(out.preview->tokens);
    return out;
}

QStringList apply_command(const ExportRequest& request) {
    QStringList argv{QStringLiteral("switchyard"), QStringLiteral("apply"), request.recipe_path, QStringLiteral("-o"), request.output};
    if (request.force) argv << QStringLiteral("--force");
    if (upcycle_entry(request.recipe) && request.device != QLatin1String("cpu")) argv << QStringLiteral("--device") << request.device;
    return argv;
}

namespace {

// The export settings `apply` takes from the recipe, and the recipe as `apply` reads it from its
// file (written first unless the stack was saved there), checked before anything is written.
std::pair<EditJobOptions, Recipe> prepare_export(const ExportRequest& request) {
    EditJobOptions job;
    job.export_options.output_dir = request.output.toStdString();
    job.export_options.dtype = parse_export_dtype(request.recipe.export_settings.dtype);
    job.export_options.shard_size_bytes = parse_byte_size(request.recipe.export_settings.shard_size);
    job.export_options.force = request.force;
    job.export_options.command_line = recorded_command(apply_command(request));
    check_export_target(*request.model, job.export_options);
    if (request.write_recipe_file) write_recipe(request.recipe, request.recipe_path.toStdString());
    return {job, read_recipe(request.recipe_path.toStdString())};
}

}  // namespace

EditJobResult run_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel) {
    const auto [job, recipe] = prepare_export(request);
    EditRecord record;
    record.command_line = job.export_options.command_line;
    return run_edit_job(*request.model, recipe, record, job, CalibrationScores{}, progress, cancel);
}

UpcycleResult run_upcycle_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel) {
    const auto [job, recipe] = prepare_export(request);
    const UpcycleEdit* entry = upcycle_entry(recipe);
    SY_CHECK(entry != nullptr, UsageError, request.recipe_path.toStdString() + ": not an upcycle recipe");
    EditOutput output;
    output.dir = job.export_options.output_dir;
    output.shard_size_bytes = job.export_options.shard_size_bytes;
    output.force = job.export_options.force;
    output.command_line = job.export_options.command_line;
    // `apply`'s defaults for the hidden router's forward pass: --device as chosen, --seq-len 512.
    const HiddenStateFn hidden = hidden_state_fn(request.device.toStdString(), 512, progress, cancel);
    return run_upcycle_entry(request.model->checkpoint.dir(), *entry, job.export_options.dtype, output, hidden, progress, cancel);
}

SurgeryJobResult run_training_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel) {
    const auto [job, recipe] = prepare_export(request);
    SurgeryJobOptions training;
    training.export_options = job.export_options;
    if (!request.trained) return apply_training_recipe(*request.model, recipe, training, request.recipe_path.toStdString(), progress, cancel);
    entries_above(*request.trained, recipe.edits, request.recipe_path.toStdString());
    // The plan `apply` runs for the entry (recorded lr, steps, seed), with this window's result.
    SurgeryPlan plan = training_plan_from_entry(recipe.edits.back(), request.recipe_path.toStdString() + ": edits[" +
                                                                         std::to_string(recipe.edits.size() - 1) + "]");
    plan.training.log_file = request.trained->trained.plan.training.log_file;
    const Model& model = request.trained->edited ? *request.trained->edited : *request.model;
    return export_surgery_job(model, plan, request.trained->trained.training, training, progress, cancel);
}

namespace {

// A training entry's temporary folder (its log, and the model the entries above it leave),
// removed when the last reference goes.
struct TemporaryModel {
    QTemporaryDir dir;
    std::optional<Model> model;   // declared after dir: unmapped before the folder is removed
};

}  // namespace

TrainedStackEntry run_training_entry(const TrainingEntryRequest& request, Progress& progress, const CancelToken& cancel) {
    // A recipe's entry: its data files checked (sha256) before anything runs.
    std::optional<SurgeryPlan> recorded;
    if (request.entry) recorded = training_plan_from_entry(*request.entry, "the stack's training entry");
    TrainedStackEntry out;
    out.prefix = request.structural;
    auto holder = std::make_shared<TemporaryModel>();
    SY_CHECK(holder->dir.isValid(), IoError, "cannot create a temporary folder for the training entry's log");
    out.files = holder;
    if (!request.structural.edits.empty()) {
        PartProgress part(progress, 0.0, 0.1, "the stack's entries");
        holder->model.emplace(export_structural_prefix(*request.model, request.structural,
                                                       holder->dir.filePath(QStringLiteral("edited")).toStdString(), "switchyard-gui",
                                                       part, cancel));
        out.edited = std::shared_ptr<const Model>(holder, &*holder->model);
    }
    const Model& model = out.edited ? *out.edited : *request.model;
    SurgeryPlan plan = recorded           ? std::move(*recorded)
                       : request.unlearn ? plan_unlearn(model, *request.unlearn, progress, cancel)
                                         : plan_tune(model, request.tune.value(), progress, cancel);
    plan.training.log_file = holder->dir.filePath(QStringLiteral("training-log.h5")).toStdString();   // Export copies it
    out.trained = train_entry(model, std::move(plan), request.on_step, progress, cancel);
    return out;
}

QStringList compare_command(const QString& a, const QString& b) {
    return {QStringLiteral("switchyard"), QStringLiteral("compare"), a, b, QStringLiteral("--top"), QString::number(compare_most_changed)};
}

Comparison run_compare(const QString& a, const QString& b, Progress& progress, const CancelToken& cancel) {
    const TraceReader ra = TraceReader::open(a.toStdString()), rb = TraceReader::open(b.toStdString());
    Comparison out;
    out.compare = analysis::trace_compare(ra, rb, compare_most_changed, compare_chunk_tokens, progress, cancel);
    out.vocab = readable_vocabulary(ra.meta().token_strings);
    out.label_a = QFileInfo(a).fileName();
    out.label_b = QFileInfo(b).fileName();
    out.title = QObject::tr("%1 vs %2: %3 tokens").arg(out.label_a, out.label_b).arg(out.compare.tokens);
    return out;
}

}  // namespace sy::gui
