#pragma once
// Runs the built `switchyard` binary and captures exit code, stdout and stderr.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_paths.h"

namespace sy::test {

struct CliResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs `binary ARGS` through the shell (ARGS quoted by the caller).
inline CliResult run_cli_binary(const std::string& binary, const std::string& args) {
    TempDir tmp;
    const auto out = tmp.path() / "out", err = tmp.path() / "err";
    const std::string cmd = shell_quote(binary) + " " + args + " >" + shell_quote(out) + " 2>" + shell_quote(err);
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

inline CliResult run_cli(const std::string& args) { return run_cli_binary(SY_CLI_BINARY, args); }

// Starts `switchyard ARGS` in the background (stdout discarded, stderr into `err`); returns the
// process id of the verb itself (exec'd, so signals reach it), or -1. Progress is drawn as the
// bar (as on a terminal), which prints every update, not a log line every few seconds.
inline pid_t start_cli(const std::string& args, const std::filesystem::path& err) {
    const pid_t child = ::fork();
    if (child != 0) return child;
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::setenv("SWITCHYARD_PROGRESS", "bar", 1);
    const std::string cmd = "exec " + shell_quote(SY_CLI_BINARY) + " " + args + " >/dev/null";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
}

// Waits up to 120 s for `text` in the file `err`; true when it appeared.
inline bool wait_for_text(const std::filesystem::path& err, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (slurp(err).find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Exit code of a started child, -1 when it did not exit normally (killed by a signal).
inline int wait_exit(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Starts `switchyard ARGS` (stdout discarded, stderr into `err`), sends SIGINT once its progress
// line shows a rate (printed only after the first batch is done, so there is work to keep), and
// returns its exit code, or -1 when it did not exit normally.
inline int run_cli_and_interrupt(const std::string& args, const std::filesystem::path& err) {
    const pid_t child = start_cli(args, err);
    if (child < 0) return -1;
    wait_for_text(err, "tok/s");
    ::kill(child, SIGINT);
    return wait_exit(child);
}

// The child processes of `parent` (the ranks of a launcher), from /proc.
inline std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        const auto close = line.rfind(')');
        int ppid = 0;
        char state = 0;
        if (close == std::string::npos || std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
        if (ppid == parent) out.push_back(std::stoi(name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sy::test
