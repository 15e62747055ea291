#pragma once
// One CLI verb per file (style.md rule 10). Each add_<verb> declares its options on a new
// subcommand of `root` and returns the action main() runs after a successful parse.
// Actions throw sy::Error on failure; main() turns that into "error: <message>" and exit 1.
#include <CLI/CLI.hpp>
#include <functional>

namespace sy::cli {

struct Verb {
    CLI::App* command = nullptr;
    std::function<int()> run;  // returns the process exit code
};

Verb add_inspect(CLI::App& root);
Verb add_tokenize(CLI::App& root);
Verb add_export(CLI::App& root);

}  // namespace sy::cli
