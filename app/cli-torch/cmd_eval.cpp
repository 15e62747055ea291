// switchyard eval MODEL_DIR --data FILE [--seq-len N] [--dtype f32|bf16] [--bos auto|on|off]
//   [--max-tokens N] [--json]
// Mean next-token NLL and perplexity per domain and overall; dense models too.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "run_args.h"
#include "switchyard/core/model.h"
#include "torch_verbs_cli.h"

namespace sy::cli {
namespace {

nlohmann::json stats_json(const EvalStats& stats) {
    const auto number = [](double value) {
        return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    };
    return {{"tokens", stats.tokens}, {"mean_nll", number(stats.mean_nll)}, {"perplexity", number(stats.perplexity)}};
}

void print_table(const EvalResult& result) {
    std::printf("%-24s %12s %10s %12s\n", "domain", "tokens", "mean_nll", "perplexity");
    for (const auto& [name, stats] : result.domains)
        std::printf("%-24s %12lld %10.4f %12.3f\n", name.c_str(), static_cast<long long>(stats.tokens), stats.mean_nll,
                    stats.perplexity);
    std::printf("%-24s %12lld %10.4f %12.3f\n", "all", static_cast<long long>(result.all.tokens), result.all.mean_nll,
                result.all.perplexity);
}

}  // namespace

Verb add_eval(CLI::App& root) {
    auto* cmd = root.add_subcommand("eval", "Next-token loss and perplexity of a dataset, per domain");
    struct Args : RunArgs {
        bool json = false;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    cmd->add_flag("--json", args->json,
                  R"(Print {"domains": {name: {...}}, "all": {"tokens", "mean_nll", "perplexity"}})");
    return {cmd, [args]() {
                const CancelToken& cancel = install_cancel_handler();
                EvalOptions options;
                options.corpus = args->corpus();
                options.runner = args->runner();
                const Model model = open_model(args->model_dir);
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                const EvalResult result = run_eval(model, options, progress, cancel);
                progress.done();
                if (!args->json) {
                    print_table(result);
                    return 0;
                }
                nlohmann::json out{{"domains", nlohmann::json::object()}, {"all", stats_json(result.all)}};
                for (const auto& [name, stats] : result.domains) out["domains"][name] = stats_json(stats);
                std::printf("%s\n", out.dump(2).c_str());
                return 0;
            }};
}

}  // namespace sy::cli
