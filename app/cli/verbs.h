#pragma once
// One CLI verb per file (style.md rule 10). Each add_<verb> declares its options on a new
// subcommand of `root` and returns the action main() runs after a successful parse.
// Actions throw sy::Error on failure; main() turns that into "error: <message>" and exit 1.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace sy::cli {

struct Verb {
    CLI::App* command = nullptr;
    std::function<int()> run;  // returns the process exit code
};

// For counts, sizes and limits. CLI11's own PositiveNumber says "Value 0 not in range 0.000000 to
// 1797...368.000000"; this one says what is wanted.
inline CLI::Validator number_check(bool zero_allowed) {
    return CLI::Validator(
        [zero_allowed](std::string& text) -> std::string {
            try {
                std::size_t used = 0;
                const double value = std::stod(text, &used);
                if ((value > 0 || (zero_allowed && value == 0)) && used == text.size()) return {};
            } catch (const std::exception&) {
            }
            return std::string("must be a number ") + (zero_allowed ? ">= 0" : "greater than 0") + ", got \"" + text + "\"";
        },
        zero_allowed ? ">=0" : ">0");
}
inline const CLI::Validator& positive() {
    static const CLI::Validator check = number_check(false);
    return check;
}
inline const CLI::Validator& non_negative() {
    static const CLI::Validator check = number_check(true);
    return check;
}

Verb add_inspect(CLI::App& root);
Verb add_tokenize(CLI::App& root);
Verb add_export(CLI::App& root);

}  // namespace sy::cli
