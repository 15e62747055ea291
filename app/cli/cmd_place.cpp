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
        int64_t chunk = analysis_chunk_tokens;
        bool json = false, quiet = false;
        ResultOutput output;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("TRACE", args->trace, "Routing trace (.h5) written by `switchyard trace`")->required();
    cmd->add_option("--gpus", args->gpus, "GPUs G (every layer's expert count must be a multiple)")
        ->required()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--nodes", args->nodes, "Nodes (G must be a multiple)")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--method", args->method, "affinity: fewest crossings; balanced: even load; eplb: + replicas")
        ->check(CLI::IsMember({"affinity", "balanced", "eplb", "contiguous"}))
        ->capture_default_str();
    cmd->add_option("--time-limit", args->time_limit, "Seconds for the affinity search (MIP + heuristic)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--exact", args->exact, "Exact MIP (GLPK): auto = small instances only")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    cmd->add_option("--redundant", args->redundant, "eplb: replica slots added per GPU per layer")->capture_default_str();
    cmd->add_option("--convention", args->convention, "Which top-k pairs count as transitions")
        ->check(CLI::IsMember({"first", "all-pairs", "weighted"}))
        ->capture_default_str();
    cmd->add_option("--seed", args->seed, "Seed of the heuristic's restarts")->capture_default_str();
    cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
    cmd->add_option("--chunk-tokens", args->chunk, "Tokens read per chunk (bounds memory)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
    add_result_output(cmd, args->output);
    return {cmd, [args]() {
                auto result_file = open_result(args->output, "place", {args->trace});
                const TraceReader reader = TraceReader::open(args->trace);
                analysis::PlacementOptions options;
                options.gpus = args->gpus;
                options.nodes = args->nodes;
                options.method = analysis::parse_placement_method(args->method);
                options.time_limit_s = args->time_limit;
                options.exact = parse_exact(args->exact);
                options.redundant_per_gpu = args->redundant;
                options.seed = args->seed;
                StderrProgress progress(args->quiet);
                const CancelToken& cancel = install_cancel_handler();
                const analysis::PlacementResult r = analysis::trace_placement(
                    reader, analysis::parse_convention(args->convention), options, args->chunk, progress, cancel);
                progress.done();
                std::cout << (args->json ? analysis::placement_to_json(r) + "\n" : analysis::placement_summary(r));
                if (result_file) {
                    analysis::save_placement(r, *result_file);
                    result_file->commit();
                }
                return 0;
            }};
}

}  // namespace sy::cli
