// switchyard apply RECIPE.json [MODEL_DIR] -o OUT [--dry-run [--data FILE]] ...
// Runs a recipe's edits (prune, merge, mask made permanent) in one streamed export, on the model
// the recipe names (or MODEL_DIR); a recipe of one upcycle entry runs that upcycle
// (upcycle_hidden.h, as the workbench's export does); a recipe ending in an unlearn / tune entry
// trains as the run that saved it did (expert_training.h: apply_training_recipe).
#include <cstdio>
#include <iostream>

#include "edit_args.h"
#include "edit_report.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/upcycle_hidden.h"
#include "torch_verbs_cli.h"
#include "training_args.h"

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
                args->check_targets(model, job);
                args->check_mask_used(job, false);
                const bool trains = !recipe.edits.empty() && training_entry_json(recipe.edits.back());
                SY_CHECK(args->save_recipe.empty() || (!trains && !upcycle_entry(recipe)), UsageError,
                         "--save-recipe: " + args->recipe + " already is the recipe of this run (its training or upcycle entry as it ran)");
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                if (trains) {
                    SY_CHECK(!job.dry_run, UsageError, "--dry-run: a training entry has no preview; run `switchyard " +
                                                           edit_op_name(recipe.edits.back()) + " --plan`");
                    SurgeryJobOptions training;
                    training.export_options = job.export_options;
                    training.export_options.command_line = command_line();
                    try {
                        report_surgery(apply_training_recipe(model, recipe, training, args->recipe, progress, cancel),
                                       args->output, progress);
                    } catch (const Cancelled&) {
                        progress.done();
                        std::fprintf(stderr, "stopped at a step boundary; nothing was written\n");
                        throw;
                    }
                    return 0;
                }
                if (const UpcycleEdit* entry = upcycle_entry(recipe)) {
                    SY_CHECK(!job.dry_run, UsageError, "--dry-run: an upcycle recipe has no preview; run `switchyard upcycle`");
                    EditOutput output;
                    output.dir = job.export_options.output_dir;
                    output.shard_size_bytes = job.export_options.shard_size_bytes;
                    output.force = job.export_options.force;
                    output.command_line = command_line();
                    const UpcycleResult r =
                        run_upcycle_entry(model.checkpoint.dir(), *entry, job.export_options.dtype, output,
                                          hidden_state_fn(args->device, args->seq_len, progress, cancel), progress, cancel);
                    progress.done();
                    std::printf("upcycled %s: %s, %lld experts, top-%lld; %zu tensors (%.1f MB) to %s\n",
                                model.checkpoint.dir().c_str(), r.resolved.family.c_str(),
                                static_cast<long long>(r.resolved.experts), static_cast<long long>(r.resolved.top_k),
                                r.tensor_count, double(r.total_bytes) / 1e6, args->output.c_str());
                    return 0;
                }
                return run_edit_and_report("apply", model, recipe, args->record(), job, CalibrationScores{}, progress,
                                           cancel);
            }};
}

}  // namespace sy::cli
