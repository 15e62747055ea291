// switchyard-torch: the verbs that need LibTorch (forward pass, scoring, expert edits). Started by
// `switchyard trace|eval ...` (git-style dispatch, app/cli/torch_verbs.cpp) or directly. Errors are
// reported as by `switchyard` itself (app/cli/run_verbs.h).
#include <CLI/CLI.hpp>
#include <vector>

#include "cmd_bench_matmul.h"
#include "parallel_args.h"
#include "progress_stderr.h"
#include "run_verbs.h"
#include "switchyard/compute/cpu_threads.h"
#include "switchyard/core/process_memory.h"
#include "torch_verbs_cli.h"

int main(int argc, char** argv) {
    sy::keep_freed_memory_for_reuse();   // forward batches reuse their activations' memory
    sy::use_physical_cores_for_cpu_kernels();
    CLI::App app{"Switchyard forward-pass verbs: trace routing to HDF5, evaluate loss, compare experts, edit, upcycle, train experts"};
    app.name("switchyard");   // users type `switchyard trace`; help should say so
    app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
    app.require_subcommand(1);
    sy::cli::remember_command_line(argc, argv);
    sy::cli::remember_arguments(argc, argv);

    std::vector<sy::cli::Verb> verbs{sy::cli::add_trace(app), sy::cli::add_eval(app),
                                     sy::cli::add_similarity(app), sy::cli::add_score(app),
                                     sy::cli::add_prune(app),      sy::cli::add_merge(app),
                                     sy::cli::add_apply(app),      sy::cli::add_upcycle(app),
                                     sy::cli::add_unlearn(app),    sy::cli::add_tune(app),
                                     sy::cli::add_bench_matmul(app), sy::cli::add_bench_load(app)};
    return sy::cli::parse_and_run(app, verbs, argc, argv);
}
