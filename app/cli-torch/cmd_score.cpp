// switchyard score MODEL_DIR --data FILE -o SCORES.h5 [--outputs N] [--force] (+ trace's dataset
// options, --mask-experts) -- per-expert calibration scores from one pass (docs/hdf5-schema.md
// "Score files"): frequency, gate mass, mean router probability, EAN, REAP, per-domain counts.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "parallel_args.h"
#include "run_args.h"
#include "switchyard/compute/score_job.h"
#include "switchyard/core/model.h"
#include "switchyard/core/output_paths.h"
#include "torch_verbs_cli.h"

namespace sy::cli {
namespace {

void print_summary(const ExpertScores& s) {
    std::printf("scored %lld tokens (%zu domain(s)) over %zu MoE layers\n", static_cast<long long>(s.tokens),
                s.domains.size(), s.layers.size());
    std::printf("%-6s %-7s %10s %10s %10s %10s\n", "layer", "expert", "frequency", "mean_prob", "EAN", "REAP");
    for (const LayerExpertScores& l : s.layers) {
        // The layer's lowest- and highest-REAP experts: what a prune would drop first and last.
        int lo = 0, hi = 0;
        for (int e = 1; e < l.experts; ++e) {
            const auto r = [&](int i) { return std::isnan(l.reap[size_t(i)]) ? -1.0 : l.reap[size_t(i)]; };
            if (r(e) < r(lo)) lo = e;
            if (r(e) > r(hi)) hi = e;
        }
        for (int e : {lo, hi})
            std::printf("%-6d %-7d %10.4f %10.4f %10.4f %10.4f%s\n", l.layer, e, l.frequency[size_t(e)],
                        l.mean_prob[size_t(e)], l.ean[size_t(e)], l.reap[size_t(e)], e == lo ? "  (lowest REAP)" : "  (highest REAP)");
    }
}

}  // namespace

Verb add_score(CLI::App& root) {
    auto* cmd = root.add_subcommand("score", "Score every expert from one calibration pass (frequency, EAN, REAP, ...) into HDF5");
    struct Args : RunArgs {
        std::string output;
        int64_t outputs = 0;
        bool force = false;
        ParallelArgs parallel;
    };
    auto args = std::make_shared<Args>();
    args->declare(cmd);
    args->parallel.declare(cmd);
    cmd->add_option("-o,--output", args->output, "Score file (.h5), written under a temporary name and renamed")->required();
    cmd->add_option("--outputs", args->outputs,
                    "Also record HC-SMoE's mean output of every expert over N sampled tokens (costs E expert passes per token)")
        ->check(positive());
    cmd->add_flag("--force", args->force, "Replace an existing -o file");
    return {cmd, [args]() {
                const CancelToken& cancel = install_cancel_handler();
                ScoreOptions options;
                options.corpus = args->corpus();
                options.runner = args->runner();
                options.output_tokens = args->outputs;
                options.command_line = command_line();
                // The output is checked before the pass: a long run must not fail at the end.
                SY_CHECK(args->force || !std::filesystem::exists(args->output), UsageError,
                         args->output + ": already exists (--force replaces it)");
                check_output_outside_model(args->output, args->model_dir, "-o");
                if (args->parallel.launches()) return args->parallel.launch();
                const Model model = open_model(args->model_dir);
                args->parallel.join(model, "score", options.corpus, options.runner);
                const bool output_rank = is_output_rank(options.runner);
                StderrProgress progress(args->quiet || !output_rank);
                ProgressLineGuard line{progress};
                const ExpertScores scores = run_score(model, options, progress, cancel);
                progress.done();
                if (!output_rank) return 0;
                write_expert_scores(scores, args->output, args->force);
                print_summary(scores);
                std::printf("wrote %s\n", args->output.c_str());
                return 0;
            }};
}

}  // namespace sy::cli
