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
        int64_t chunk = analysis_chunk_tokens;
        bool json = false, datasets = false, quiet = false;
        ResultOutput output;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("A", args->a, "First trace (.h5)")->required();
    cmd->add_option("B", args->b, "Second trace (.h5)")->required();
    cmd->add_flag("--datasets", args->datasets, "The traces hold different data: compare loads and affinity");
    cmd->add_option("--top", args->top, "Tokens listed whose routes changed most")->capture_default_str();
    cmd->add_option("--hops", args->hops, "--datasets: affinity distance h")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--convention", args->convention, "--datasets: affinity convention")
        ->check(CLI::IsMember({"first", "all-pairs", "weighted"}))
        ->capture_default_str();
    cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
    cmd->add_option("--chunk-tokens", args->chunk, "Tokens read per chunk (bounds memory)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
    add_result_output(cmd, args->output);
    return {cmd, [args]() {
                auto result_file =
                    open_result(args->output, args->datasets ? "compare-datasets" : "compare", {args->a, args->b});
                const TraceReader a = TraceReader::open(args->a);
                const TraceReader b = TraceReader::open(args->b);
                StderrProgress progress(args->quiet);
                const CancelToken& cancel = install_cancel_handler();
                if (args->datasets) {
                    const analysis::AffinityOptions aff{analysis::parse_convention(args->convention), args->hops, 1};
                    const analysis::DatasetComparison r =
                        analysis::trace_compare_datasets(a, b, aff, args->chunk, progress, cancel);
                    progress.done();
                    std::cout << (args->json ? analysis::dataset_comparison_to_json(r) + "\n"
                                             : analysis::dataset_comparison_summary(r));
                    if (result_file) {
                        analysis::save_dataset_comparison(r, *result_file);
                        result_file->commit();
                    }
                    return 0;
                }
                const analysis::CompareResult r = analysis::trace_compare(a, b, args->top, args->chunk, progress, cancel);
                progress.done();
                const auto& vocab = a.meta().token_strings;
                std::cout << (args->json ? analysis::compare_to_json(r, vocab) + "\n"
                                         : analysis::compare_summary(r, vocab));
                if (result_file) {
                    analysis::save_compare(r, vocab, *result_file);
                    result_file->commit();
                }
                return 0;
            }};
}

}  // namespace sy::cli
