#pragma once
// `--nproc N`: this process starts N ranks of the very same command, as torchrun would (README
// "Several GPUs and machines"), and speaks for them: rank 0's progress and output go straight to
// the terminal, and when the job fails the launcher prints ONE `error:` line, the failing rank's
// own error rather than the echoes of it on the other ranks. No LibTorch here: the ranks find
// each other through the environment the launcher gives them (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as under torchrun.
//
// Ranks report how they ended on a pipe (SWITCHYARD_REPORT_FD) instead of stderr:
// "<kind>\t<message>\n" with kind error (its own failure), peer (another rank failed) or
// cancelled. See report_failure in run_verbs.h.
#include <string>
#include <vector>

namespace sy::cli {

struct LaunchOptions {
    int nproc = 1;                         // ranks on this machine
    int nnodes = 1;                        // machines (one launcher each)
    int node_rank = 0;                     // this machine's index; node 0 hosts rank 0
    std::string master_addr = "127.0.0.1";
    int master_port = 0;                   // 0: a free port of this machine (single machine only)
    double timeout_s = 300;                // how long the ranks wait for each other (--timeout)
};

// Environment variable set in every rank a launcher starts; a rank never launches again.
inline constexpr const char* k_launcher_variable = "SWITCHYARD_LAUNCHER";
inline constexpr const char* k_report_fd_variable = "SWITCHYARD_REPORT_FD";

// Starts the ranks with `argv` (the command line as typed), waits for all of them and returns
// the verb's exit code: 0, 1 (one `error:` line printed), or 130 when cancelled (Ctrl-C reaches
// every rank; each stops after its batch). Throws UsageError for a port in use or bad options.
int launch_ranks(const LaunchOptions& options, const std::vector<std::string>& argv);

}  // namespace sy::cli
