// switchyard compare A.h5 B.h5 [--json] [--top N] [--datasets [--hops H] [--convention C]]
//                    [--chunk-tokens N] [-q] [-o OUT.h5 [--force]]
// Same tokens (two checkpoints, dtypes or devices): routing agreement, load drift, most changed
// tokens. --datasets: different data on one model: load and affinity deltas.
#include <iostream>

#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "switchyard/analysis/result_files.h"
#include "switchyard/analysis/trace_analyses.h"

namespace sy::cli {

Verb add_compare(CLI::App& root) {
    auto* cmd = root.add_subcommand("compare", "Compare the routing of two traces");
    struct Args {
        std::string a, b, convention = "first";
        int top = 20, hops = 1;
        bool datasets = false;
        TraceScanFlags scan;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("A", args->a, "First trace (.h5)")->required();
    cmd->add_option("B", args->b, "Second trace (.h5)")->required();
    cmd->add_flag("--datasets", args->datasets, "The traces hold different data: compare loads and affinity");
    cmd->add_option("--top", args->top, "Tokens listed whose routes changed most")->capture_default_str();
    cmd->add_option("--hops", args->hops, "--datasets: affinity distance h")->check(positive())->capture_default_str();
    cmd->add_option("--convention", args->convention, "--datasets: affinity convention")
        ->check(CLI::IsMember({"first", "all-pairs", "weighted"}))
        ->capture_default_str();
    add_trace_scan_flags(cmd, args->scan);
    return {cmd, [args]() {
                auto result_file =
                    open_result(args->scan.output, args->datasets ? "compare-datasets" : "compare", {args->a, args->b});
                const TraceReader a = TraceReader::open(args->a);
                const TraceReader b = TraceReader::open(args->b);
                if (args->datasets) {
                    const analysis::AffinityOptions aff{analysis::parse_convention(args->convention), args->hops, 1};
                    const analysis::DatasetComparison r =
                        run_scan(args->scan, [&](Progress& progress, const CancelToken& cancel) {
                            return analysis::trace_compare_datasets(a, b, aff, args->scan.chunk, progress, cancel);
                        });
                    std::cout << (args->scan.json ? analysis::dataset_comparison_to_json(r) + "\n"
                                             : analysis::dataset_comparison_summary(r));
                    save_result(result_file, [&](ResultFile& file) { analysis::save_dataset_comparison(r, file); });
                    return 0;
                }
                const analysis::CompareResult r = run_scan(args->scan, [&](Progress& progress, const CancelToken& cancel) {
                    return analysis::trace_compare(a, b, args->top, args->scan.chunk, progress, cancel);
                });
                const auto& vocab = a.meta().token_strings;
                std::cout << (args->scan.json ? analysis::compare_to_json(r, vocab) + "\n"
                                         : analysis::compare_summary(r, vocab));
                save_result(result_file, [&](ResultFile& file) { analysis::save_compare(r, vocab, file); });
                return 0;
            }};
}

}  // namespace sy::cli
