// switchyard stats TRACE.h5 [--json] [--window TOKENS] [--top-tokens N] [--min-count N]
//                  [--token-layers L ...] [--position-bucket TOKENS] [--chunk-tokens N] [-q]
//                  [--show summary|domains|tokens] [-o OUT.h5 [--force]]
#include <iostream>

#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "switchyard/analysis/result_files.h"
#include "switchyard/analysis/text_views.h"
#include "switchyard/analysis/trace_analyses.h"

namespace sy::cli {

Verb add_stats(CLI::App& root) {
    auto* cmd = root.add_subcommand("stats", "Per-layer routing statistics of a trace: load balance, balance loss, "
                                             "domains, top tokens, repetition, position");
    struct Args {
        std::string trace, show = "summary";
        int64_t window = 4096, min_count = 1;
        int top_tokens = 10, position_bucket = 256;
        std::vector<int> token_layers;
        TraceScanFlags scan;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("TRACE", args->trace, "Routing trace (.h5) written by `switchyard trace`")->required();
    cmd->add_option("--show", args->show,
                    "Text view: summary; domains = domain x expert table per layer; tokens = top tokens per expert")
        ->check(CLI::IsMember({"summary", "domains", "tokens"}))
        ->capture_default_str();
    cmd->add_option("--window", args->window, "Micro-batch window (tokens) of the load-balancing loss")
        ->check(positive())
        ->capture_default_str();
    cmd->add_option("--top-tokens", args->top_tokens, "Tokens listed per expert")->check(positive())->capture_default_str();
    cmd->add_option("--min-count", args->min_count, "Only list tokens seen at least this often")
        ->check(non_negative())
        ->capture_default_str();
    cmd->add_option("--token-layers", args->token_layers,
                    "Model layers whose top tokens to collect (default: all that fit 256 MiB)");
    cmd->add_option("--position-bucket", args->position_bucket, "Width (tokens) of the position buckets")
        ->check(positive())
        ->capture_default_str();
    add_trace_scan_flags(cmd, args->scan);
    return {cmd, [args]() {
                auto result_file = open_result(args->scan.output, "stats", {args->trace});
                const TraceReader reader = TraceReader::open(args->trace);
                const analysis::RoutingShape shape = analysis::trace_routing_shape(reader.meta(), false);
                analysis::StatsOptions options;
                options.window_tokens = args->window;
                options.score = analysis::trace_score_function(reader.meta());
                options.top_tokens = args->top_tokens;
                options.min_token_count = args->min_count;
                options.position_bucket_tokens = args->position_bucket;
                for (int layer : args->token_layers) options.token_layers.push_back(analysis::moe_index_of_layer(shape, layer));
                const analysis::StatsResult r = run_scan(args->scan, [&](Progress& progress, const CancelToken& cancel) {
                    return analysis::trace_stats(reader, options, args->scan.chunk, progress, cancel);
                });
                const auto& vocab = reader.meta().token_strings;
                if (args->scan.json) {
                    std::cout << analysis::stats_to_json(r, vocab) << "\n";
                } else if (args->show == "domains") {
                    std::cout << analysis::domain_expert_tables(r);
                } else {
                    std::cout << (args->show == "tokens" ? analysis::top_tokens_summary(r, vocab)
                                                         : analysis::stats_summary(r, vocab));
                }
                save_result(result_file, [&](ResultFile& file) { analysis::save_stats(r, vocab, file); });
                return 0;
            }};
}

}  // namespace sy::cli
