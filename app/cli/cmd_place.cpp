// switchyard place TRACE.h5 --gpus G [--nodes N] [--method affinity|balanced|eplb|contiguous]
//                  [--time-limit S] [--exact auto|always|never] [--redundant R]
//                  [--convention first|all-pairs|weighted] [--json] [--chunk-tokens N] [-q]
//                  [-o OUT.h5 [--force]]
#include <iostream>

#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "switchyard/analysis/result_files.h"
#include "switchyard/analysis/trace_analyses.h"

namespace sy::cli {

namespace {

analysis::ExactSolve parse_exact(const std::string& s) {
    if (s == "always") return analysis::ExactSolve::always;
    if (s == "never") return analysis::ExactSolve::never;
    return analysis::ExactSolve::automatic;
}

}  // namespace

Verb add_place(CLI::App& root) {
    auto* cmd = root.add_subcommand("place", "Expert -> GPU placement per MoE layer, evaluated on the trace");
    struct Args {
        std::string trace, method = "affinity", exact = "auto", convention = "first";
        int gpus = 0, nodes = 1, redundant = 1;
        double time_limit = 10;
        uint64_t seed = 1;
        TraceScanFlags scan;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("TRACE", args->trace, "Routing trace (.h5) written by `switchyard trace`")->required();
    cmd->add_option("--gpus", args->gpus, "GPUs G (every layer's expert count must be a multiple)")
        ->required()
        ->check(positive());
    cmd->add_option("--nodes", args->nodes, "Nodes (G must be a multiple)")->check(positive())->capture_default_str();
    cmd->add_option("--method", args->method, "affinity: fewest crossings; balanced: even load; eplb: + replicas")
        ->check(CLI::IsMember({"affinity", "balanced", "eplb", "contiguous"}))
        ->capture_default_str();
    cmd->add_option("--time-limit", args->time_limit, "Seconds for the affinity search (MIP + heuristic)")
        ->check(positive())
        ->capture_default_str();
    cmd->add_option("--exact", args->exact, "Exact MIP (GLPK): auto = small instances only")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    cmd->add_option("--redundant", args->redundant, "eplb: replica slots added per GPU per layer (0 to the experts per layer)")
        ->check(non_negative())
        ->capture_default_str();
    cmd->add_option("--convention", args->convention, "Which top-k pairs count as transitions")
        ->check(CLI::IsMember({"first", "all-pairs", "weighted"}))
        ->capture_default_str();
    cmd->add_option("--seed", args->seed, "Seed of the heuristic's restarts")->capture_default_str();
    add_trace_scan_flags(cmd, args->scan);
    return {cmd, [args]() {
                auto result_file = open_result(args->scan.output, "place", {args->trace});
                const TraceReader reader = TraceReader::open(args->trace);
                analysis::PlacementOptions options;
                options.gpus = args->gpus;
                options.nodes = args->nodes;
                options.method = analysis::parse_placement_method(args->method);
                options.time_limit_s = args->time_limit;
                options.exact = parse_exact(args->exact);
                options.redundant_per_gpu = args->redundant;
                options.seed = args->seed;
                const auto convention = analysis::parse_convention(args->convention);
                const analysis::PlacementResult r = run_scan(args->scan, [&](Progress& progress, const CancelToken& cancel) {
                    return analysis::trace_placement(reader, convention, options, args->scan.chunk, progress, cancel);
                });
                std::cout << (args->scan.json ? analysis::placement_to_json(r) + "\n" : analysis::placement_summary(r));
                save_result(result_file, [&](ResultFile& file) { analysis::save_placement(r, file); });
                return 0;
            }};
}

}  // namespace sy::cli
