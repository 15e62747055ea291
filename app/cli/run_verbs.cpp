#include "run_verbs.h"

#include <iostream>
#include <new>

#include "cli_spec.h"
#include "switchyard/core/errors.h"

namespace sy::cli {

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
        std::cerr << "error: cancelled\n";
        return 130;
    } catch (const Error& e) {
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

}  // namespace sy::cli
