#pragma once
// Options the edit verbs (prune, merge, apply) share: where the edited model goes, how it is
// stored, dry runs, previews and recipes; calibration through RunArgs' dataset options.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "export_flags.h"
#include "run_args.h"
#include "switchyard/core/model.h"
#include "switchyard/editing/recipe.h"
#include "switchyard/editing/surgery.h"

namespace sy::cli {

struct EditArgs : RunArgs {
    std::string output, out_dtype = "keep", shard_size = "5GB", scores, save_recipe;
    std::vector<std::string> preview_data;
    bool dry_run = false, force = false;

    // `calibration`: whether the verb takes --data / --scores as calibration.
    void declare_edit(CLI::App* cmd, bool calibration) {
        declare(cmd, /*data_required=*/false, /*model_required=*/calibration);
        cmd->add_option("-o,--output", output, "Output model folder (written under a temporary name, renamed when complete)");
        cmd->add_option("--out-dtype", out_dtype, "Stored dtype of float tensors")
            ->check(CLI::IsMember({"keep", "bf16", "f16", "f32"}))
            ->capture_default_str();
        cmd->add_option("--shard-size", shard_size, "Largest output shard, e.g. 5GB, 500MB")->capture_default_str();
        if (calibration)
            cmd->add_option("--scores", scores,
                            "Score file from `switchyard score` (instead of a calibration pass; --data then only fits "
                            "router rows and previews)");
        cmd->add_flag("--dry-run", dry_run,
                      "Print what would change (and, with --data or --preview-data, per-layer error and per-domain NLL "
                      "before/after); write no model");
        cmd->add_option("--preview-data", preview_data, "Data for the --dry-run preview (default: --data)")
            ->allow_extra_args(false);
        cmd->add_option("--save-recipe", save_recipe, "Also write the resolved edit as a recipe for `switchyard apply`");
        cmd->add_flag("--force", force, "Replace a non-empty output folder");
    }

    ExportOptions export_options() const { return export_options_from_flags(output, out_dtype, shard_size, force); }

    // --mask-experts acts on the runs over data: the calibration pass (`reads_data`) and the
    // --dry-run preview (`job` has preview data). Refused where neither runs, instead of being
    // silently ignored.
    void check_mask_used(const EditJobOptions& job, bool reads_data) const {
        SY_CHECK(mask_experts.empty() || reads_data || !job.preview.corpus.data.empty(), UsageError,
                 "--mask-experts masks experts in a calibration pass or a --dry-run preview, and this run has neither; "
                 "a recipe's mask entry makes a mask permanent");
    }

    // What can be checked before a calibration pass: the output folder and the recipe's destination.
    void check_targets(const Model& model, const EditJobOptions& job) const {
        if (!job.dry_run) check_export_target(model, job.export_options);
        if (!save_recipe.empty())
            check_recipe_destination(save_recipe, model.checkpoint.dir(),
                                     job.dry_run ? std::filesystem::path() : job.export_options.output_dir, force);
    }

    EditRecord record() const {
        EditRecord r;
        r.command_line = command_line();
        return r;
    }

    Calibration calibration() const {
        Calibration c;
        c.corpus = corpus();
        c.runner = runner();
        c.scores_file = scores;
        c.command_line = command_line();
        return c;
    }

    EditJobOptions job_options() const {
        SY_CHECK(dry_run || !output.empty(), UsageError, "-o OUT_DIR is required (or --dry-run)");
        SY_CHECK(preview_data.empty() || dry_run, UsageError, "--preview-data previews a --dry-run");
        EditJobOptions options;
        options.export_options = export_options();
        options.dry_run = dry_run;
        options.save_recipe = save_recipe;
        if (dry_run && (!preview_data.empty() || !data.empty())) {
            options.preview.corpus = corpus();
            if (!preview_data.empty()) options.preview.corpus.data.assign(preview_data.begin(), preview_data.end());
            options.preview.runner = runner();
        }
        return options;
    }
};

}  // namespace sy::cli
