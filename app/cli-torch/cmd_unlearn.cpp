// switchyard unlearn MODEL --forget FILE --retain FILE -o OUT [--expert L:E | --auto]
//   [--method npo|ga] [--anchor-weight A] [--retain-weight W] [--steps N] [--lr LR] ...
// UOE / SEUF (editing.md §3): one expert and its layer's router trained to forget a domain.
#include "switchyard/core/expert_selection.h"
#include "torch_verbs_cli.h"
#include "training_args.h"

namespace sy::cli {

Verb add_unlearn(CLI::App& root) {
    auto* cmd = root.add_subcommand("unlearn", "Forget a domain by training the one expert most affine to it (UOE / SEUF)");
    struct Args : TrainingArgs {
        std::vector<std::string> forget, retain;
        std::string expert, method = "npo";
        bool automatic = false, whole_model = false;
        double anchor_weight = 1.0, retain_weight = 3.0, npo_beta = 0.1;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    cmd->add_option("--forget", args->forget, "Data to forget (.jsonl / .txt, folders)")->required()->allow_extra_args(false);
    cmd->add_option("--retain", args->retain, "Data to keep (shares no document with --forget)")->required()->allow_extra_args(false);
    auto* expert = cmd->add_option("--expert", args->expert, "The expert to edit, L:E (model-layer:expert)");
    cmd->add_flag("--auto", args->automatic, "Edit the expert with the highest mean router probability on --forget (default)")
        ->excludes(expert);
    cmd->add_flag("--whole-model", args->whole_model,
                  "Baseline for comparison: train every decoder-layer tensor, no anchor (not an expert surgery)")
        ->excludes(expert);
    cmd->add_option("--method", args->method, "Forget loss: npo (default) or ga (gradient ascent)")
        ->check(CLI::IsMember({"npo", "ga"}))->capture_default_str();
    cmd->add_option("--anchor-weight", args->anchor_weight, "Weight of the router anchor loss (alpha)")->capture_default_str();
    cmd->add_option("--retain-weight", args->retain_weight, "Weight of the retain cross-entropy (lambda)")->capture_default_str();
    cmd->add_option("--npo-beta", args->npo_beta, "NPO's beta")->capture_default_str();
    return {cmd, [args, expert]() {
                const CancelToken& cancel = install_cancel_handler();
                if (args->parallel.launches()) return args->parallel.launch();
                const Model model = open_model(args->model_dir);
                args->check_output(model);
                UnlearnOptions o;
                o.forget.assign(args->forget.begin(), args->forget.end());
                o.retain.assign(args->retain.begin(), args->retain.end());
                if (expert->count()) {
                    const ExpertsByLayer chosen = parse_layer_experts(args->expert, "--expert");
                    SY_CHECK(chosen.size() == 1 && chosen.begin()->second.size() == 1, UsageError,
                             "--expert takes one L:E, found \"" + args->expert + "\"");
                    o.expert = std::make_pair(chosen.begin()->first, chosen.begin()->second.front());
                }
                o.whole_model = args->whole_model;
                o.method = args->method == "ga" ? TokenLoss::negated_cross_entropy : TokenLoss::npo;
                o.anchor_weight = args->anchor_weight;
                o.retain_weight = args->retain_weight;
                o.npo_beta = args->npo_beta;
                o.training = args->training();
                StderrProgress progress(args->progress_quiet());
                ProgressLineGuard line{progress};
                SurgeryPlan plan = plan_unlearn(model, o, progress, cancel);
                return run_surgery(model, plan, *args, progress, cancel);
            }};
}

}  // namespace sy::cli
