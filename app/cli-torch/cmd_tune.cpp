// switchyard tune MODEL --data FILE -o OUT [--select esft-gate|esft-token|all --threshold P |
//   --experts L:E,...] [--steps N] [--lr LR] ...
// ESFT (editing.md §4.1): only the experts relevant to the data train; routers, shared experts
// and everything else stay frozen. `--select all` trains every routed expert and the routers,
// with the load-balancing loss (continued training of an upcycled model, docs/upcycling.md),
// or a dense model's MLPs.
#include "switchyard/core/expert_selection.h"
#include "torch_verbs_cli.h"
#include "training_args.h"

namespace sy::cli {

Verb add_tune(CLI::App& root) {
    auto* cmd = root.add_subcommand("tune", "Specialise a model by training only the experts relevant to the data (ESFT)");
    struct Args : TrainingArgs {
        std::vector<std::string> data;
        std::string select = "esft-gate", experts, routers = "auto";
        double threshold = 0, holdout = 0.1, load_balance = 0;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    cmd->add_option("--data", args->data, "Training data (.jsonl / .txt, folders)")->required()->allow_extra_args(false);
    auto* select = cmd->add_option("--select", args->select,
                                   "Experts trained: esft-gate (gate score), esft-token (token share), all")
                       ->check(CLI::IsMember({"esft-gate", "esft-token", "all"}))
                       ->capture_default_str();
    auto* threshold = cmd->add_option("--threshold", args->threshold,
                                      "Cumulative relevance P in (0, 1] each layer's chosen experts reach (default 0.1 "
                                      "esft-gate, 0.2 esft-token)");
    auto* experts = cmd->add_option("--experts", args->experts, "Experts to train, L:E[,L:E...] instead of --select");
    experts->excludes(select);
    experts->excludes(threshold);
    cmd->add_option("--holdout", args->holdout,
                    "Share of the data held out to choose the default --steps (early stop) and --lr")
        ->capture_default_str();
    cmd->add_option("--routers", args->routers, "Train the routers: auto (with --select all on a MoE model), train, freeze")
        ->check(CLI::IsMember({"auto", "train", "freeze"}))
        ->capture_default_str();
    auto* balance = cmd->add_option("--load-balance", args->load_balance,
                                    "Weight of the load-balancing loss (default 0.01 when routers train, else 0)");
    return {cmd, [args, experts, balance, threshold]() {
                const CancelToken& cancel = install_cancel_handler();
                // 0 stands for "the method's default" inside TuneOptions; a given value must be a share.
                SY_CHECK(!threshold->count() || (args->threshold > 0 && args->threshold <= 1), UsageError,
                         "--threshold must lie in (0, 1], found " + threshold->as<std::string>());
                SY_CHECK(!threshold->count() || args->select != "all", UsageError,
                         "--threshold chooses experts by relevance (--select esft-gate or esft-token); --select all trains every expert");
                if (args->parallel.launches()) return args->parallel.launch();
                const Model model = open_model(args->model_dir);
                args->check_output(model);
                TuneOptions o;
                o.data.assign(args->data.begin(), args->data.end());
                if (experts->count()) {
                    o.select = TuneOptions::Select::listed;
                    for (const auto& [layer, list] : parse_layer_experts(args->experts, "--experts"))
                        for (int e : list) o.experts.emplace_back(layer, e);
                } else {
                    o.select = args->select == "all"          ? TuneOptions::Select::all
                               : args->select == "esft-token" ? TuneOptions::Select::esft_token
                                                              : TuneOptions::Select::esft_gate;
                }
                o.threshold = args->threshold;
                if (args->routers != "auto") o.train_routers = args->routers == "train";
                if (balance->count()) o.load_balance = args->load_balance;
                o.holdout = args->holdout;
                o.training = args->training();
                StderrProgress progress(args->progress_quiet());
                ProgressLineGuard line{progress};
                SurgeryPlan plan = plan_tune(model, o, progress, cancel);
                return run_surgery(model, plan, *args, progress, cancel);
            }};
}

}  // namespace sy::cli
