#include "run_verbs.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <new>

#include "cli_spec.h"
#include "switchyard/core/errors.h"

namespace sy::cli {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

void report_failure(const std::string& kind, const std::string& message) {
    // A rank of a parallel job says which rank it is; one started by `--nproc` tells its
    // launcher, which prints one line for the whole job (app/cli-torch/launcher.h).
    const std::string rank = env("RANK"), world = env("WORLD_SIZE");
    const std::string text = !rank.empty() && !world.empty() && world != "1" ? "rank " + rank + ": " + message : message;
    const std::string fd = env("SWITCHYARD_REPORT_FD");
    if (!fd.empty()) {
        const std::string line = kind + "\t" + text + "\n";
        if (::write(std::atoi(fd.c_str()), line.data(), line.size()) == ssize_t(line.size())) return;
    }
    std::cerr << "error: " << (kind == "cancelled" ? message : text) << "\n";
}

int parse_and_run(CLI::App& app, const std::vector<Verb>& verbs, int argc, char** argv) {
    add_cli_spec_flag(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        for (const Verb& verb : verbs)
            if (verb.command->parsed()) return verb.run();
        return 0;
    } catch (const Cancelled&) {
        report_failure("cancelled", "cancelled");
        return 130;
    } catch (const Error& e) {
        report_failure(e.category() == ErrorCategory::peer ? "peer" : "error", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        report_failure("error", "out of memory");
        return 1;
    } catch (const std::exception& e) {
        // Anything else is a bug in Switchyard, but the user still gets one line, not a crash.
        report_failure("error", std::string("internal error: ") + e.what());
        return 1;
    }
}

}  // namespace sy::cli
