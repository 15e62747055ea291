// switchyard apply RECIPE.json [MODEL_DIR] -o OUT [--dry-run [--data FILE]] ...
// Runs a recipe's edits (prune, merge, mask made permanent) in one streamed export, on the model
// the recipe names (or MODEL_DIR).
#include <cstdio>
#include <iostream>

#include "edit_args.h"
#include "edit_report.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "torch_verbs_cli.h"
#include "upcycle_hidden.h"
#include "switchyard/editing/upcycle.h"
#include <nlohmann/json.hpp>

namespace sy::cli {

Verb add_apply(CLI::App& root) {
    auto* cmd = root.add_subcommand("apply", "Apply a recipe of edits (prune, merge, mask) to a model in one export");
    struct Args : EditArgs {
        std::string recipe;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("RECIPE", args->recipe, "Recipe JSON (format switchyard-recipe; docs/recipes.md)")->required();
    args->declare_edit(cmd, false);
    return {cmd, [args]() {
                const CancelToken& cancel = install_cancel_handler();
                Recipe recipe = read_recipe(args->recipe);
                EditArgs& edit = *args;
                // The recipe's export settings, unless given on the command line.
                if (edit.out_dtype == "keep") edit.out_dtype = recipe.export_settings.dtype;
                if (edit.shard_size == "5GB") edit.shard_size = recipe.export_settings.shard_size;
                const EditJobOptions job = args->job_options();
                SY_CHECK(!args->model_dir.empty() || !recipe.source_path.empty(), UsageError,
                         args->recipe + ": the recipe names no model: give MODEL_DIR");
                const Model model = open_model(args->model_dir.empty() ? recipe.source_path : args->model_dir);
                if (!recipe.source_fingerprint.empty() && recipe.source_fingerprint != model_fingerprint(model)) {
                    // Expert indices are only meaningful for the model the recipe was made on.
                    SY_CHECK(!args->model_dir.empty(), UsageError,
                             args->recipe + ": " + recipe.source_path + " changed since the recipe was made (config or safetensors headers differ)");
                    std::cerr << "note: " << args->model_dir << " is not the model the recipe was made on (" << recipe.source_path
                              << "); its expert indices are applied as they are\n";
                }
                if (!job.dry_run) check_export_target(model, job.export_options);
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                if (recipe.edits.size() == 1 && std::holds_alternative<UpcycleEdit>(recipe.edits[0])) {
                    SY_CHECK(!job.dry_run, UsageError, "--dry-run: an upcycle recipe has no preview; run `switchyard upcycle`");
                    UpcycleOptions options = nlohmann::json::parse(std::get<UpcycleEdit>(recipe.edits[0]).options_json);
                    options.dtype = job.export_options.dtype;
                    EditOutput output;
                    output.dir = job.export_options.output_dir;
                    output.shard_size_bytes = job.export_options.shard_size_bytes;
                    output.force = job.export_options.force;
                    output.command_line = command_line();
                    const UpcycleResult r = upcycle(model.checkpoint.dir(), options, output,
                                                    hidden_state_fn(args->device, args->seq_len, progress, cancel), progress, cancel);
                    progress.done();
                    std::printf("upcycled %s: %s, %lld experts, top-%lld; %zu tensors (%.1f MB) to %s\n",
                                model.checkpoint.dir().c_str(), r.resolved.family.c_str(),
                                static_cast<long long>(r.resolved.experts), static_cast<long long>(r.resolved.top_k),
                                r.tensor_count, double(r.total_bytes) / 1e6, args->output.c_str());
                    return 0;
                }
                const EditJobResult result =
                    run_edit_job(model, recipe, args->record(), job, CalibrationScores{}, progress, cancel);
                progress.done();
                std::fputs(edit_report("apply", result, CalibrationScores{}).c_str(), stdout);
                if (result.exported)
                    std::printf("wrote %zu tensors (%.1f MB) to %s\n", result.exported->tensor_count,
                                double(result.exported->total_bytes) / 1e6, args->output.c_str());
                return 0;
            }};
}

}  // namespace sy::cli
