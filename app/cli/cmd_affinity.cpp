// switchyard affinity TRACE.h5 [--hops H] [--convention first|all-pairs|weighted] [--top-m M]
//                     [--json] [--heatmap] [--chunk-tokens N] [-q] [-o OUT.h5 [--force]]
#include <iostream>

#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "switchyard/analysis/result_files.h"
#include "switchyard/analysis/text_views.h"
#include "switchyard/analysis/trace_analyses.h"

namespace sy::cli {

Verb add_affinity(CLI::App& root) {
    auto* cmd = root.add_subcommand("affinity", "Inter-layer expert affinity P(expert j at layer l+h | expert i at l)");
    struct Args {
        std::string trace, convention = "first";
        int hops = 1, top_m = 1;
        bool heatmap = false;
        TraceScanFlags scan;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("TRACE", args->trace, "Routing trace (.h5) written by `switchyard trace`")->required();
    cmd->add_option("--hops", args->hops, "Distance h in MoE layers")->check(positive())->capture_default_str();
    cmd->add_option("--convention", args->convention, "Top-k pairs: first choices, all k*k pairs, or gate-weighted")
        ->check(CLI::IsMember({"first", "all-pairs", "weighted"}))
        ->capture_default_str();
    cmd->add_option("--top-m", args->top_m, "m of the top-m row mass (experts per GPU is the useful one)")
        ->check(positive())
        ->capture_default_str();
    cmd->add_flag("--heatmap", args->heatmap, "Also print every conditional matrix as a text heat map");
    add_trace_scan_flags(cmd, args->scan);
    return {cmd, [args]() {
                auto result_file = open_result(args->scan.output, "affinity", {args->trace});
                const TraceReader reader = TraceReader::open(args->trace);
                const analysis::AffinityOptions options{analysis::parse_convention(args->convention), args->hops,
                                                        args->top_m};
                const analysis::AffinityResult r = run_scan(args->scan, [&](Progress& progress, const CancelToken& cancel) {
                    return analysis::trace_affinity(reader, options, args->scan.chunk, progress, cancel);
                });
                std::cout << (args->scan.json ? analysis::affinity_to_json(r) + "\n" : analysis::affinity_summary(r));
                if (args->heatmap && !args->scan.json) std::cout << "\n" << analysis::affinity_heatmaps(r);
                save_result(result_file, [&](ResultFile& file) { analysis::save_affinity(r, file); });
                return 0;
            }};
}

}  // namespace sy::cli
