// switchyard prune MODEL_DIR -o OUT (--experts L:E[,...] | --method reap|frequency|ean|random
//   (--ratio R | --keep N)) [--data FILE | --scores SCORES.h5] [--seed S] [--dry-run] ...
// Removes experts (router rows, correction-bias entries, config count) in one streamed export.
#include <cstdio>

#include "edit_args.h"
#include "edit_report.h"
#include "switchyard/core/model.h"
#include "torch_verbs_cli.h"

namespace sy::cli {

Verb add_prune(CLI::App& root) {
    auto* cmd = root.add_subcommand("prune", "Remove experts (listed, or chosen by REAP / frequency / EAN / random)");
    struct Args : EditArgs {
        std::string experts, method;
        double ratio = 0;
        int64_t keep = 0;
        uint64_t seed = 0;
    };
    auto args = std::make_shared<Args>();
    args->declare_edit(cmd, true);
    auto* experts = cmd->add_option("--experts", args->experts, "Experts to remove, L:E[,L:E...] (model-layer:expert)");
    auto* method = cmd->add_option("--method", args->method, "Choose by saliency: reap, frequency, ean or random")
                       ->check(CLI::IsMember({"reap", "frequency", "ean", "random"}));
    experts->excludes(method);
    auto* ratio = cmd->add_option("--ratio", args->ratio, "Fraction of each layer's experts removed (rounded down), in (0, 1)");
    auto* keep = cmd->add_option("--keep", args->keep, "Experts kept per layer")->check(positive());
    ratio->excludes(keep);
    ratio->needs(method);
    keep->needs(method);
    auto* seed = cmd->add_option("--seed", args->seed, "Seed of --method random")->capture_default_str()->needs(method);
    return {cmd, [args, experts, method, ratio, keep, seed]() {
                const CancelToken& cancel = install_cancel_handler();
                SY_CHECK(!seed->count() || args->method == "random", UsageError,
                         "--seed seeds --method random; --method " + args->method + " chooses by calibration scores");
                SY_CHECK(experts->count() || method->count(), UsageError, "prune needs --experts L:E,... or --method");
                PruneRequest request;
                if (method->count()) {
                    SY_CHECK(ratio->count() || keep->count(), UsageError, "--method needs --ratio R or --keep N");
                    request.choice = PruneChoice{parse_prune_method(args->method), args->ratio, args->keep, args->seed};
                } else {
                    request.experts = parse_layer_experts(args->experts, "--experts");
                }
                const EditJobOptions job = args->job_options();
                const Calibration calibration = args->calibration();
                const Model model = open_model(args->model_dir);
                args->check_targets(model, job);
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                if (request.choice) check_prune_choice(model.description, *request.choice);   // before a long pass
                const bool needs_scores = request.choice && request.choice->method != PruneMethod::random;
                args->check_mask_used(job, calibration.runs_pass(needs_scores));
                const CalibrationScores scores = calibrate(model, calibration, needs_scores, 0, progress, cancel);
                Recipe recipe;
                recipe.edits.push_back(resolve_prune(model, request, scores));
                recipe.export_settings = {args->out_dtype, args->shard_size};
                return run_edit_and_report("prune", model, recipe, args->record(), job, scores, progress, cancel);
            }};
}

}  // namespace sy::cli
