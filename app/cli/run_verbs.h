#pragma once
// Parses the command line and runs the chosen verb, turning every failure into the CLI contract
// (style.md rules 4 and 7): one "error: <message>" line on stderr and exit 1, CLI11's own codes
// (>= 100) for malformed flags, 130 when cancelled with Ctrl-C / SIGTERM. Shared by `switchyard`
// and `switchyard-torch`, so both binaries fail the same way. Also adds the hidden `--cli-spec`
// flag (cli_spec.h) from which the man pages and shell completions are generated.
#include <vector>

#include "verbs.h"

namespace sy::cli {

int parse_and_run(CLI::App& app, const std::vector<Verb>& verbs, int argc, char** argv);

}  // namespace sy::cli
