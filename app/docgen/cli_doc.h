#pragma once
// The command tree of a Switchyard program, read from its `--cli-spec` JSON (app/cli/cli_spec.h).
#include <string>
#include <vector>

namespace sy::docgen {

struct OptionDoc {
    std::vector<std::string> names;   // "-o", "--output"; empty for a positional
    std::string positional;           // "MODEL_DIR" for a positional
    std::string description, type, default_value, env;
    std::vector<std::string> choices;
    bool required = false, flag = false, multiple = false, hidden = false;

    std::string long_name() const;    // the last name ("--output"), or the positional's
    bool numeric() const;             // INT, UINT, FLOAT: nothing to complete
};

struct CommandDoc {
    std::string name, description, footer;
    std::vector<OptionDoc> options;       // non-hidden, in declaration order
    std::vector<CommandDoc> subcommands;  // non-hidden
    std::vector<const OptionDoc*> positionals() const;
    std::vector<const OptionDoc*> named() const;
    bool has_option(const std::string& name) const;
};

struct ProgramDoc {
    std::string executable;   // file name: "switchyard", "switchyard-torch"
    std::string version;
    CommandDoc root;
};

std::string shell_quote(const std::string& text);
// Runs a shell command and returns its stdout; throws std::runtime_error when it fails.
std::string run_and_capture(const std::string& command);

// Runs `executable --cli-spec` and parses what it prints; throws std::runtime_error.
ProgramDoc read_program(const std::string& executable_path);

// Every verb of the programs, in order: the front end's own, then each helper's. Throws when two
// programs define the same verb.
std::vector<const CommandDoc*> all_verbs(const std::vector<ProgramDoc>& programs);

}  // namespace sy::docgen
