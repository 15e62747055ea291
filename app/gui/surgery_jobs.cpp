#include "surgery_jobs.h"

#include <QFileInfo>
#include <QTemporaryDir>

#include "command_line.h"
#include "qt_progress.h"
#include "routing_snapshot.h"
#include "switchyard/analysis/trace_analyses.h"
#include "switchyard/compute/layer_input_means.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/plan_patch.h"

namespace sy::gui {

namespace {

constexpr int64_t compare_chunk_tokens = 65536;

QString model_dir(const Model& model) { return QString::fromStdString(model.checkpoint.dir().string()); }

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

}  // namespace

Comparison run_preview(const PreviewRequest& request, Progress& progress, const CancelToken& cancel) {
    const Model& model = *request.model;
    // The same call as `switchyard apply RECIPE --dry-run --preview-data ...`.
    EditJobOptions job;
    job.dry_run = true;
    job.preview = request.sample;
    job.export_options.dtype = request.dtype;
    PartProgress edit_part(progress, 0.0, 0.5, "preview");
    const EditJobResult result = run_edit_job(model, request.recipe, EditRecord{}, job, CalibrationScores{}, edit_part, cancel);
    // Both models' routing on the same tokens: the edited one as the preview ran it.
    const PlanPatch patch = patch_for_plan(model, result.plan, request.dtype);
    QTemporaryDir dir;
    SY_CHECK(dir.isValid(), IoError, "cannot create a temporary folder for the preview traces");
    const QString before = dir.filePath(QStringLiteral("before.h5")), after = dir.filePath(QStringLiteral("after.h5"));
    PartProgress trace_before(progress, 0.5, 0.75, "routing before");
    trace_sample(model, request.sample, request.sample.runner, before, trace_before, cancel);
    RunnerOptions edited = request.sample.runner;
    for (const auto& [layer, experts] : patch.masks) edited.masked_experts[layer].insert(edited.masked_experts[layer].end(), experts.begin(), experts.end());
    edited.patch = patch.patch;
    PartProgress trace_after(progress, 0.75, 1.0, "routing after");
    trace_sample(model, request.sample, edited, after, trace_after, cancel);
    const TraceReader a = TraceReader::open(before.toStdString()), b = TraceReader::open(after.toStdString());
    NullProgress quiet;
    Comparison out;
    out.compare = analysis::trace_compare(a, b, compare_most_changed, compare_chunk_tokens, quiet, cancel);
    out.vocab = readable_vocabulary(a.meta().token_strings);
    out.preview = result.preview;
    out.summary = result.summary;
    out.notes = result.plan.notes;
    out.label_a = QObject::tr("before");
    out.label_b = QObject::tr("after");
    out.title = QObject::tr("Preview of %n edit(s) on %1 tokens", nullptr, static_cast<int>(request.recipe.edits.size()))
                    .arg(result.preview ? result.preview->tokens : out.compare.tokens);
    progress.report(1.0, "preview done");
    return out;
}

QStringList apply_command(const ExportRequest& request) {
    QStringList argv{QStringLiteral("switchyard"), QStringLiteral("apply"), request.recipe_path, QStringLiteral("-o"), request.output};
    if (request.force) argv << QStringLiteral("--force");
    return argv;
}

EditJobResult run_export(const ExportRequest& request, Progress& progress, const CancelToken& cancel) {
    const Model& model = *request.model;
    const std::string command = recorded_command(apply_command(request));
    EditJobOptions job;
    job.export_options.output_dir = request.output.toStdString();
    job.export_options.dtype = parse_export_dtype(request.recipe.export_settings.dtype);
    job.export_options.shard_size_bytes = parse_byte_size(request.recipe.export_settings.shard_size);
    job.export_options.force = request.force;
    job.export_options.command_line = command;
    check_export_target(model, job.export_options);   // before anything is written
    if (request.write_recipe_file) write_recipe(request.recipe, request.recipe_path.toStdString());
    // What `apply` runs is the recipe as read from its file.
    const Recipe recipe = read_recipe(request.recipe_path.toStdString());
    EditRecord record;
    record.command_line = command;
    return run_edit_job(model, recipe, record, job, CalibrationScores{}, progress, cancel);
}

QStringList upcycle_command(const UpcycleRequest& r) {
    const UpcycleOptions& o = r.options;
    QStringList argv{QStringLiteral("switchyard"), QStringLiteral("upcycle"), model_dir(*r.dense), QStringLiteral("-o"), r.output,
                     QStringLiteral("--experts"), QString::number(o.experts), QStringLiteral("--top-k"), QString::number(o.top_k)};
    if (!o.family.empty()) argv << QStringLiteral("--family") << QString::fromStdString(o.family);
    const char* routers[] = {"random", "zero", "hidden"};
    argv << QStringLiteral("--router") << QString::fromLatin1(routers[static_cast<int>(o.router)]);
    if (o.router == UpcycleRouter::random) argv << QStringLiteral("--router-std") << QString::number(o.router_std, 'g', 17);
    if (o.router == UpcycleRouter::hidden) {
        argv << QStringLiteral("--prompts") << QString::fromStdString(o.prompts.string()) << QStringLiteral("--hidden-pool")
             << (o.hidden_pool == HiddenPool::last ? QStringLiteral("last") : QStringLiteral("mean")) << QStringLiteral("--device")
             << QString::fromStdString(r.runner.device) << QStringLiteral("--seq-len") << QString::number(r.seq_len);
        if (!o.prompt_domains.empty()) {
            QStringList domains;
            for (const std::string& d : o.prompt_domains) domains << QString::fromStdString(d);
            argv << QStringLiteral("--prompt-domains") << domains.join(QLatin1Char(','));
        }
    }
    if (o.drop_rate > 0) argv << QStringLiteral("--drop-upcycling") << QString::number(o.drop_rate, 'g', 17);
    argv << QStringLiteral("--seed") << QString::number(o.seed);
    if (o.shared_expert) argv << QStringLiteral("--shared-expert");
    if (o.granularity != 1) argv << QStringLiteral("--granularity") << QString::number(o.granularity);
    argv << QStringLiteral("--dtype") << QString::fromStdString(export_dtype_name(o.dtype));
    if (!o.renormalize) argv << QStringLiteral("--no-renormalize");
    argv << QStringLiteral("--shard-size") << r.shard_size;
    if (r.force) argv << QStringLiteral("--force");
    return argv;
}

UpcycleResult run_upcycle(const UpcycleRequest& r, Progress& progress, const CancelToken& cancel) {
    EditOutput output;
    output.dir = r.output.toStdString();
    output.shard_size_bytes = parse_byte_size(r.shard_size.toStdString());
    output.force = r.force;
    output.command_line = recorded_command(upcycle_command(r));
    // The forward pass behind `--router hidden`, as the CLI runs it.
    const HiddenStateFn hidden = [&r, &progress, &cancel](const Model& dense, const std::filesystem::path& prompts,
                                                           const std::vector<std::string>& domains, HiddenPool pool) {
        LayerInputMeansOptions options;
        options.corpus.data = {prompts};
        options.corpus.seq_len = r.seq_len;
        options.runner.device = r.runner.device;
        options.runner.dtype = r.runner.device.rfind("cuda", 0) == 0 ? ComputeDType::bf16 : ComputeDType::f32;
        options.domains = domains;
        options.last_token = pool == HiddenPool::last;
        return mean_layer_inputs(dense, options, progress, cancel).means;
    };
    return upcycle(r.dense->checkpoint.dir(), r.options, output, hidden, progress, cancel);
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
