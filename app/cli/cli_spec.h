#pragma once
// The command tree as data: `switchyard --cli-spec` (and `switchyard-torch --cli-spec`) print the
// CLI11 definitions of every verb and option as JSON, and app/docgen turns that into the man
// pages and shell completions. Generated from the same objects that print --help, so the three
// cannot drift apart, and a verb registered in main() appears everywhere with no other change.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sy::cli {

// {"name", "version", "description", "footer", "options": [...], "subcommands": [...]}, each
// subcommand the same shape; options: {"names", "positional", "description", "type",
// "choices", "default", "env", "required", "flag", "multiple", "hidden"}.
nlohmann::ordered_json describe_cli(const CLI::App& app);

// The hidden flag `--cli-spec`: prints describe_cli(app) on stdout and exits 0.
void add_cli_spec_flag(CLI::App& app);

}  // namespace sy::cli
