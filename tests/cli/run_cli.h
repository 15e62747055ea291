#pragma once
// Runs the built `switchyard` binary and captures exit code, stdout and stderr.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

inline CliResult run_cli(const std::string& args) {
    TempDir tmp;
    const auto out = tmp.path() / "out", err = tmp.path() / "err";
    const std::string cmd = shell_quote(SY_CLI_BINARY) + " " + args + " >" + shell_quote(out) + " 2>" + shell_quote(err);
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

}  // namespace sy::test
