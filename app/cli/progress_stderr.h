#pragma once
// CLI-side plumbing shared by the verbs: progress on stderr, SIGINT/SIGTERM -> cancel, and the
// command line as typed (recorded in provenance metadata).
//
// A long verb declares add_progress_flags() (RunArgs and the trace-scanning verbs already do) and
// runs its job with a StderrProgress: it then follows `-q` and `--progress` with no more code.
#include <CLI/CLI.hpp>
#include <string>

#include "progress_printer.h"
#include "switchyard/core/progress.h"

namespace sy::cli {

// Declares `-q,--quiet` and `--progress auto|bar|log|json|none` (default: $SWITCHYARD_PROGRESS,
// else auto). The choice is process-wide: a process runs one verb.
void add_progress_flags(CLI::App* cmd, bool& quiet);
// What the flags asked for; `auto` is `bar` when stderr is a terminal, else `log`.
ProgressStyle chosen_progress_style(bool quiet);

class StderrProgress final : public Progress {
public:
    explicit StderrProgress(bool quiet);
    void report(double fraction, std::string_view stage) override;
    void update(const ProgressUpdate& u) override;
    void done();   // prints what was held back and ends the bar line; safe to call twice
    // Whether stderr takes text beside the progress (bar, log): not with -q, nor --progress
    // json (one object per line) or none.
    bool takes_text() const { return m_style == ProgressStyle::bar || m_style == ProgressStyle::log; }

private:
    ProgressStyle m_style;
    ProgressPrinter m_printer;
};

// Ends the progress however the verb leaves (error, cancel): the last state is shown and
// "error: ..." starts a line of its own.
struct ProgressLineGuard {
    StderrProgress& progress;
    ~ProgressLineGuard() { progress.done(); }
};

void remember_command_line(int argc, char** argv);
std::string command_line();
// First call installs handlers; Ctrl-C or SIGTERM then cancels the returned token.
const CancelToken& install_cancel_handler();

}  // namespace sy::cli
