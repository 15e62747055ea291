#pragma once
// CLI-side plumbing shared by the verbs: throttled progress on stderr, SIGINT/SIGTERM -> cancel,
// and the command line as typed (recorded in provenance metadata).
#include <chrono>
#include <string>

#include "switchyard/core/progress.h"

namespace sy::cli {

class StderrProgress final : public Progress {
public:
    explicit StderrProgress(bool quiet) : m_quiet(quiet) {}
    void report(double fraction, std::string_view stage) override;  // throttled: 0.1% or 100 ms
    void done();                                                     // ends the progress line

private:
    bool m_quiet;
    bool m_drawn = false;
    double m_last_fraction = -1;
    std::chrono::steady_clock::time_point m_last_time{};
};

void remember_command_line(int argc, char** argv);
std::string command_line();
// First call installs handlers; Ctrl-C or SIGTERM then cancels the returned token.
const CancelToken& install_cancel_handler();

}  // namespace sy::cli
