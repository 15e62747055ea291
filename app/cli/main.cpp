// switchyard: the headless CLI. Thin verbs over the libraries (style.md rule 10); exceptions
// become output only in parse_and_run (rules 4 and 7).
#include <CLI/CLI.hpp>
#include <vector>

#include "analysis_verbs.h"
#include "progress_stderr.h"
#include "run_verbs.h"
#include "torch_verbs.h"
#include "verbs.h"

int main(int argc, char** argv) {
    if (int code = sy::cli::exec_torch_verb(argc, argv); code >= 0) return code;
    CLI::App app{"Switchyard: inspect, trace, analyse and edit Mixture-of-Experts checkpoints"};
    app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
    app.require_subcommand(1);
    app.footer("Also: " + sy::cli::torch_verb_list() + " (run by switchyard-torch): switchyard trace --help");
    sy::cli::remember_command_line(argc, argv);

    std::vector<sy::cli::Verb> verbs{sy::cli::add_inspect(app),  sy::cli::add_tokenize(app), sy::cli::add_export(app),
                                     sy::cli::add_stats(app),    sy::cli::add_affinity(app), sy::cli::add_place(app),
                                     sy::cli::add_compare(app)};
    return sy::cli::parse_and_run(app, verbs, argc, argv);
}
