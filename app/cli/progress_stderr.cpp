#include "progress_stderr.h"

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace sy::cli {
namespace {

std::string g_command_line;
CancelToken g_cancel;

extern "C" void on_signal(int) { g_cancel.cancel(); }  // atomic store only: async-signal-safe

}  // namespace

void StderrProgress::report(double fraction, std::string_view stage) {
    if (m_quiet) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && fraction - m_last_fraction < 0.001 && now - m_last_time < std::chrono::milliseconds(100)) return;
    m_last_fraction = fraction;
    m_last_time = now;
    std::fprintf(stderr, "\r%.*s  %5.1f%%", static_cast<int>(stage.size()), stage.data(), 100.0 * fraction);
    std::fflush(stderr);
    m_drawn = true;
}

void StderrProgress::done() {
    if (m_drawn) std::fputc('\n', stderr);
    m_drawn = false;
}

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
