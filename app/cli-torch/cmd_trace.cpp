// switchyard trace MODEL_DIR --data FILE [--seq-len 512] [--batch-tokens N] [--max-tokens N]
//   [--device cpu|cuda[:i]] [--dtype f32|bf16] [--bos auto|on|off] [--router-logits]
//   [--max-memory SIZE] [--plan] [--resume] [--force] -o OUT.h5
// Routing of every token into an HDF5 trace (docs/hdf5-schema.md).
#include <cstdio>

#include "run_args.h"
#include "switchyard/core/model.h"
#include "torch_verbs_cli.h"

namespace sy::cli {

Verb add_trace(CLI::App& root) {
    auto* cmd = root.add_subcommand("trace", "Record the routing of every token of a dataset into an HDF5 file");
    struct Args : RunArgs {
        std::string output;
        bool router_logits = false, plan = false, resume = false, force = false;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    cmd->add_option("-o,--output", args->output, "Trace file (.h5), valid after every batch; readable while written");
    cmd->add_flag("--router-logits", args->router_logits, "Also store raw router logits [Lm, N, E] as float16");
    cmd->add_flag("--plan", args->plan, "Print memory per layer, smallest --max-memory and estimated time; no compute");
    cmd->add_flag("--resume", args->resume, "Continue an interrupted trace in -o (same model and options)");
    cmd->add_flag("--force", args->force, "Replace an existing -o file");
    return {cmd, [args]() {
                TraceOptions options;
                options.corpus = args->corpus();
                options.runner = args->runner();
                options.output = args->output;
                options.router_logits = args->router_logits;
                options.resume = args->resume;
                options.overwrite = args->force;
                options.command_line = command_line();
                const CancelToken& cancel = install_cancel_handler();   // before loading: Ctrl-C -> 130
                SY_CHECK(args->plan || !args->output.empty(), UsageError, "trace needs -o OUT.h5 (or --plan)");
                SY_CHECK(!(args->resume && args->force), UsageError, "--resume and --force contradict each other");
                const Model model = open_model(args->model_dir);
                if (args->plan) {
                    std::fputs(format_trace_plan(model, options, plan_trace(model, options)).c_str(), stdout);
                    return 0;
                }
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                const TraceSummary summary = run_trace(model, options, progress, cancel);
                progress.done();
                std::printf("traced %lld tokens of %lld document(s) into %s", static_cast<long long>(summary.tokens),
                            static_cast<long long>(summary.documents), args->output.c_str());
                if (summary.resumed_from > 0)
                    std::printf(" (%lld were already there)", static_cast<long long>(summary.resumed_from));
                std::printf(" in %.1f s\n", summary.seconds);
                return 0;
            }};
}

}  // namespace sy::cli
