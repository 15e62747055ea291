// switchyard: the headless CLI. Thin verbs over the libraries (style.md rule 10); this is the
// only place (with the GUI job runner) that turns exceptions into output (rule 4, rule 7).
#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "switchyard/core/errors.h"
#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "torch_verbs.h"
#include "verbs.h"

int main(int argc, char** argv) {
    if (int code = sy::cli::exec_torch_verb(argc, argv); code >= 0) return code;
    CLI::App app{"Switchyard: inspect, trace, analyse and edit Mixture-of-Experts checkpoints"};
    app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
    app.require_subcommand(1);
    app.footer("Also: trace, eval, similarity (forward-pass verbs, run by switchyard-torch): switchyard trace --help");
    sy::cli::remember_command_line(argc, argv);

    std::vector<sy::cli::Verb> verbs{sy::cli::add_inspect(app),  sy::cli::add_tokenize(app), sy::cli::add_export(app),
                                     sy::cli::add_stats(app),    sy::cli::add_affinity(app), sy::cli::add_place(app),
                                     sy::cli::add_compare(app)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);  // CLI11's own codes (>= 100) for malformed flags
    }
    try {
        for (auto& verb : verbs)
            if (verb.command->parsed()) return verb.run();
        return 0;
    } catch (const sy::Cancelled& e) {
        std::cerr << "error: cancelled\n";
        return 130;
    } catch (const sy::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        std::cerr << "error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        // Anything else is a bug in Switchyard, but the user still gets one line, not a crash.
        std::cerr << "error: internal error: " << e.what() << "\n";
        return 1;
    }
}
