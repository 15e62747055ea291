// switchyard-torch: trace, eval and similarity, the verbs that need LibTorch (issue 3). Started by
// `switchyard trace|eval ...` (git-style dispatch, app/cli/torch_verbs.cpp) or directly. Error
// handling as in app/cli/main.cpp (style.md rules 4 and 7): one "error: <message>" line and
// exit 1, CLI11's codes for malformed flags, 130 on Ctrl-C / SIGTERM.
#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "cmd_bench_matmul.h"
#include "progress_stderr.h"
#include "switchyard/core/errors.h"
#include "torch_verbs_cli.h"

int main(int argc, char** argv) {
    CLI::App app{"Switchyard forward-pass verbs: trace routing to HDF5, evaluate loss, compare experts"};
    app.name("switchyard");   // users type `switchyard trace`; help should say so
    app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
    app.require_subcommand(1);
    sy::cli::remember_command_line(argc, argv);

    std::vector<sy::cli::Verb> verbs{sy::cli::add_trace(app), sy::cli::add_eval(app),
                                     sy::cli::add_similarity(app), sy::cli::add_bench_matmul(app)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        for (auto& verb : verbs)
            if (verb.command->parsed()) return verb.run();
        return 0;
    } catch (const sy::Cancelled&) {
        std::cerr << "error: cancelled\n";
        return 130;
    } catch (const sy::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        std::cerr << "error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: internal error: " << e.what() << "\n";
        return 1;
    }
}
