#include "progress_stderr.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>

namespace sy::cli {
namespace {

std::string g_command_line;
std::string g_progress = "auto";   // --progress of the verb being run
CancelToken g_cancel;

extern "C" void on_signal(int) { g_cancel.cancel(); }  // atomic store only: async-signal-safe

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void add_progress_flags(CLI::App* cmd, bool& quiet) {
    cmd->add_flag("-q,--quiet", quiet, "No progress on stderr (same as --progress none)");
    // CLI11 runs the callbacks of every subcommand's options, also of verbs not on the command
    // line when the environment variable gives them a value: only the verb being run may set it.
    cmd->add_option_function<std::string>(
           "--progress",
           [cmd](const std::string& style) {
               if (cmd->parsed()) g_progress = style;
           },
           "Progress on stderr: auto (bar on a terminal, else log), bar, log (a line every 5 s), "
           "json (one object per line: stage, done, total, unit, rate, eta_s), none")
        ->check(CLI::IsMember({"auto", "bar", "log", "json", "none"}))
        ->envname("SWITCHYARD_PROGRESS")
        ->default_str("auto");
}

ProgressStyle chosen_progress_style(bool quiet) {
    if (quiet || g_progress == "none") return ProgressStyle::none;
    if (g_progress == "bar") return ProgressStyle::bar;
    if (g_progress == "log") return ProgressStyle::log;
    if (g_progress == "json") return ProgressStyle::json;
    return ::isatty(STDERR_FILENO) ? ProgressStyle::bar : ProgressStyle::log;
}

StderrProgress::StderrProgress(bool quiet) : m_style(chosen_progress_style(quiet)), m_printer(m_style, stderr, now_s()) {}

void StderrProgress::report(double fraction, std::string_view stage) { m_printer.update({stage, fraction}, now_s()); }

void StderrProgress::update(const ProgressUpdate& u) { m_printer.update(u, now_s()); }

void StderrProgress::done() { m_printer.finish(now_s()); }

void remember_command_line(int argc, char** argv) {
    g_command_line.clear();
    for (int i = 0; i < argc; ++i) {
        if (i) g_command_line += ' ';
        g_command_line += argv[i];
    }
}

std::string command_line() { return g_command_line; }

const CancelToken& install_cancel_handler() {
    static const bool installed = [] {
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        return true;
    }();
    (void)installed;
    return g_cancel;
}

}  // namespace sy::cli
