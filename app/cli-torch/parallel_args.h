#pragma once
// The flags that run a verb on several ranks (trace, eval, score, similarity, and data-parallel
// training in tune and unlearn): `--nproc N` starts N local
// ranks (launcher.h), several machines add --nnodes/--node-rank/--master-addr/--master-port,
// and any torchrun-style launcher works too (RANK, WORLD_SIZE, ... in the environment).
// --expert-parallel [--placement PLACE.h5] [--traffic OUT.json] shards the experts over them
// (the forward-pass verbs only).
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/compute/trace_job.h"
#include "switchyard/compute/training.h"

namespace sy {
struct Model;
class RankGroup;
}  // namespace sy

namespace sy::cli {

// The command line as typed, for the launcher to start the ranks with (main() calls this).
void remember_arguments(int argc, char** argv);

struct ParallelArgs {
    int nproc = 0, nnodes = 1, node_rank = 0, master_port = 0;
    std::string master_addr, backend = "auto", placement, traffic;
    double timeout = 300;
    bool expert_parallel = false;

    // `expert_flags`: --expert-parallel, --placement and --traffic too (not for training).
    void declare(CLI::App* cmd, bool expert_flags = true);
    // True when this process starts the ranks: --nproc (or --nnodes) given and it is not one of
    // the ranks a launcher started. Throws UsageError for contradicting flags/environment.
    bool launches() const;
    int launch() const;   // starts the ranks and waits: the verb's exit code
    // In a rank: joins the job (rendezvous, checks) and sets runner.ranks, the rank's device and
    // the expert placement. One process: only checks the flags. `verb` names the job.
    void join(const Model& model, const std::string& verb, const CorpusOptions& corpus, RunnerOptions& runner) const;
    // After the job, on every rank (collective): with --expert-parallel, sums what the ranks
    // sent each other, writes --traffic on rank 0 and returns the summary lines for rank 0 to
    // print ("" elsewhere and without --expert-parallel).
    std::string finish(const RunnerOptions& runner) const;
    // In a rank of a training run (tune, unlearn), once its options are resolved: joins the
    // job with the run's identity (training.run_id: model, trained tensors, data, options) as
    // what the ranks must agree on, sets the rank's device and returns its gradient reducer;
    // null in one process.
    std::unique_ptr<GradientReducer> join_training(const std::string& verb, TrainingOptions& training) const;
};

// Whether this process prints progress and results, known before the job is joined: one
// process, or the process a launcher started as rank 0.
bool is_output_rank_from_environment();

// Whether this process prints the verb's results and progress: one process, or rank 0.
bool is_output_rank(const RunnerOptions& runner);

}  // namespace sy::cli
