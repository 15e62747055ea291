#pragma once
// The flags that run a verb on several ranks (trace, eval, score): `--nproc N` starts N local
// ranks (launcher.h), several machines add --nnodes/--node-rank/--master-addr/--master-port,
// and any torchrun-style launcher works too (RANK, WORLD_SIZE, ... in the environment).
// --expert-parallel [--placement PLACE.h5] [--traffic OUT.json] shards the experts over them.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/compute/trace_job.h"

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

    void declare(CLI::App* cmd);
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
};

// Whether this process prints the verb's results and progress: one process, or rank 0.
bool is_output_rank(const RunnerOptions& runner);

}  // namespace sy::cli
