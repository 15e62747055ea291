// switchyard similarity MODEL_DIR --data FILE --layer L [--no-align] [--json] (+ trace's
// dataset options) -- expert x expert similarity of one MoE layer by router rows, weights
// (as stored and after neuron-permutation alignment) and outputs. With --nproc or under a
// torchrun-style launcher the data is shared out over several ranks (parallel_args.h).
#include <cstdio>

#include "parallel_args.h"
#include "run_args.h"
#include "similarity_report.h"
#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/model.h"
#include "torch_verbs_cli.h"

namespace sy::cli {

Verb add_similarity(CLI::App& root) {
    auto* cmd = root.add_subcommand(
        "similarity", "Expert x expert similarity of one MoE layer: router rows, aligned weights, outputs on data");
    struct Args : RunArgs {
        int layer = -1;
        bool json = false, no_align = false;
        ParallelArgs parallel;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    args->parallel.declare(cmd, /*expert_flags=*/false);
    cmd->add_option("--layer", args->layer, "Model-layer index of a MoE layer (as in /meta/moe_layers of a trace)")
        ->required();
    cmd->add_flag("--no-align", args->no_align,
                  "Skip the neuron alignment (an I x I Hungarian solve per expert pair: slow for I in the 10,000s)");
    cmd->add_flag("--json", args->json,
                  R"(Print {"layer", "experts", "tokens", "router", "weights_unaligned", "weights_aligned", "outputs", ...})");
    return {cmd, [args]() {
                const CancelToken& cancel = install_cancel_handler();   // before loading: Ctrl-C -> 130
                SimilarityOptions options;
                options.corpus = args->corpus();
                options.runner = args->runner();
                options.layer = args->layer;
                options.align = !args->no_align;
                if (args->parallel.launches()) return args->parallel.launch();
                const Model model = open_model(args->model_dir);
                check_similarity_layer(model.description, options.layer);   // before any weight is read
                args->parallel.join(model, "similarity --layer " + std::to_string(options.layer), options.corpus,
                                    options.runner);
                const bool output_rank = is_output_rank(options.runner);
                StderrProgress progress(args->quiet || !output_rank);
                ProgressLineGuard line{progress};
                const ExpertSimilarity result = run_expert_similarity(model, options, progress, cancel);
                progress.done();
                if (!output_rank) return 0;
                if (args->json) std::printf("%s\n", similarity_json(result).dump(2).c_str());
                else std::fputs(similarity_table(result).c_str(), stdout);
                return 0;
            }};
}

}  // namespace sy::cli
