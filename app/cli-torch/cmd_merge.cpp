// switchyard merge MODEL_DIR -o OUT (--groups L:a+b[+c][,...] | --method hc-smoe|m-smoe --keep N)
//   [--data FILE | --scores SCORES.h5] [--align | --no-align] [--weights frequency|uniform]
//   [--layout collapse|duplicate] [--router fitted|dominant] [--dry-run] ...
// Weighted average of each group's experts after neuron alignment, in one streamed export.
#include <cstdio>

#include "edit_args.h"
#include "edit_report.h"
#include "switchyard/core/model.h"
#include "torch_verbs_cli.h"

namespace sy::cli {

Verb add_merge(CLI::App& root) {
    auto* cmd = root.add_subcommand("merge", "Merge groups of experts (listed, or by HC-SMoE / M-SMoE) into one each");
    struct Args : EditArgs {
        std::string groups, method, weights, layout = "collapse", router;
        int64_t keep = 0;
        bool no_align = false, align = false;
        int64_t outputs = 8192;
    };
    auto args = std::make_shared<Args>();
    args->declare_edit(cmd, true);
    auto* groups = cmd->add_option("--groups", args->groups, "Groups to merge, L:a+b[+c][,L:...] (model-layer:experts)");
    auto* method = cmd->add_option("--method", args->method, "Choose groups: hc-smoe or m-smoe (with --keep)")
                       ->check(CLI::IsMember({"hc-smoe", "m-smoe"}));
    groups->excludes(method);
    cmd->add_option("--keep", args->keep, "Experts per layer after merging (with --method)")->check(positive())->needs(method);
    auto* align = cmd->add_flag("--align", args->align, "Align every member's neurons to the dominant member first (default)");
    cmd->add_flag("--no-align", args->no_align, "Average the weights as stored")->excludes(align);
    cmd->add_option("--weights", args->weights, "Member weights: frequency (default with calibration) or uniform")
        ->check(CLI::IsMember({"frequency", "uniform"}));
    cmd->add_option("--layout", args->layout, "collapse: one expert per group; duplicate: every member holds the merge")
        ->check(CLI::IsMember({"collapse", "duplicate"}))
        ->capture_default_str();
    auto* router = cmd->add_option("--router", args->router,
                    "Router row of a collapsed group: fitted (default with --data) or dominant (the dominant member's)")
        ->check(CLI::IsMember({"fitted", "dominant"}));
    auto* outputs = cmd->add_option("--outputs", args->outputs, "Tokens whose expert outputs HC-SMoE clusters (calibration pass)")
                        ->check(positive())
                        ->capture_default_str();
    return {cmd, [args, groups, method, router, outputs]() {
                const CancelToken& cancel = install_cancel_handler();
                SY_CHECK(!router->count() || args->layout == "collapse", UsageError,
                         "--router sets a collapsed group's router row; --layout duplicate keeps every member's row");
                SY_CHECK(!outputs->count() || args->method == "hc-smoe", UsageError,
                         "--outputs sizes HC-SMoE's clustering of expert outputs (--method hc-smoe)");
                SY_CHECK(!outputs->count() || args->scores.empty(), UsageError,
                         "--outputs sizes the calibration pass's sample of expert outputs; with --scores the score file's are used");
                SY_CHECK(groups->count() || method->count(), UsageError, "merge needs --groups L:a+b,... or --method with --keep");
                MergeRequest request;
                if (method->count()) {
                    SY_CHECK(args->keep > 0, UsageError, "--method needs --keep N (experts per layer after merging)");
                    request.method = parse_merge_method(args->method);
                    request.keep = args->keep;
                } else {
                    request.groups = parse_expert_groups(args->groups, "--groups");
                }
                request.align = !args->no_align;
                request.layout = args->layout == "duplicate" ? MergeLayout::duplicate : MergeLayout::collapse;
                if (!args->router.empty()) request.router = args->router == "fitted" ? MergeRouter::fitted : MergeRouter::dominant;
                if (!args->weights.empty()) request.weights = parse_merge_weights(args->weights);
                const EditJobOptions job = args->job_options();
                const Calibration calibration = args->calibration();
                const Model model = open_model(args->model_dir);
                args->check_targets(model, job);
                const bool hc = request.method == MergeMethod::hc_smoe;
                // Frequency weights are the default whenever calibration is at hand.
                const bool needs_scores = request.method.has_value() || request.weights == MergeWeights::frequency ||
                                          (!request.weights && calibration.has_data());
                // The data is read by a score pass (no --scores) and by the fit of collapsed groups'
                // router rows (the default router with data).
                const bool fits_rows = request.layout == MergeLayout::collapse &&
                                       request.router.value_or(default_merge_router(calibration)) == MergeRouter::fitted;
                args->check_mask_used(job, calibration.runs_pass(needs_scores) || (fits_rows && calibration.has_data()));
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                if (request.method) check_merge_keep(model.description, request.keep);   // before a long pass
                const CalibrationScores scores =
                    calibrate(model, calibration, needs_scores, hc && calibration.has_data() ? args->outputs : 0, progress, cancel);
                Recipe recipe;
                recipe.edits.push_back(resolve_merge(model, request, scores, calibration, progress, cancel));
                recipe.export_settings = {args->out_dtype, args->shard_size};
                return run_edit_and_report("merge", model, recipe, args->record(), job, scores, progress, cancel);
            }};
}

}  // namespace sy::cli
