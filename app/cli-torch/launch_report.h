#pragma once
// What the `--nproc` launcher knows about its ranks, and the one line it prints about them
// (launcher.h). Separate from the process handling so the choice of the line reads in one place.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "launcher.h"

namespace sy::cli {

struct RankProcess {
    int rank = 0;
    pid_t pid = -1;
    int report_fd = -1;               // read end of the rank's report pipe; -1 once closed
    bool running = true;
    int status = 0;                   // waitpid status once exited
    bool stopped_by_launcher = false; // we sent SIGTERM/SIGKILL (after another rank failed)
    std::string partial;              // report bytes not yet ending in '\n'
};

class LaunchReport {
public:
    explicit LaunchReport(const LaunchOptions& options) : m_options(options) {}

    void note_start(const RankProcess&) {}
    void add_bytes(RankProcess& rank, const std::string& bytes);   // "<kind>\t<message>\n" lines
    void note_exit(const RankProcess& rank);
    bool failed() const { return m_failed; }
    bool interrupted = false;         // Ctrl-C or SIGTERM reached the launcher

    // Prints the job's error line (if any) on stderr and returns the exit code.
    int finish() const;

private:
    struct Event {
        int rank = 0;
        std::string kind;     // error, peer, cancelled, signal (killed), exit (non-zero, no report)
        std::string message;
    };
    std::string choose(int& exit_code) const;

    LaunchOptions m_options;
    std::vector<Event> m_events;   // in the order they happened
    std::vector<int> m_stopped;    // ranks we had to stop
    bool m_failed = false;
};

// The port rank 0's rendezvous store will listen on: options.master_port, or a free one (one
// machine). On node 0 the port must be free now (UsageError otherwise).
int prepare_master_port(const LaunchOptions& options);

}  // namespace sy::cli
