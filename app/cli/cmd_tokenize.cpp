// `switchyard tokenize MODEL_DIR --text TEXT [--json] [--add-special-tokens]`: encode one text
// with MODEL_DIR/tokenizer.json and list the ids and pieces. Options and formatting only; the
// tokenizer lives in core (tokenizer.h).
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"
#include "verbs.h"

namespace sy::cli {
namespace {

struct TokenizeOptions {
    std::string model_dir;
    std::string text;
    bool json = false;
    bool add_special_tokens = false;
};

int run_tokenize(const TokenizeOptions& options) {
    const std::filesystem::path file = std::filesystem::path(options.model_dir) / "tokenizer.json";
    if (!std::filesystem::is_regular_file(file)) {
        throw IoError(file.string() + ": not found (MODEL_DIR must contain a Hugging Face tokenizer.json)");
    }
    const Tokenizer tokenizer = Tokenizer::from_file(file.string());
    const Encoding encoding = tokenizer.encode(options.text, options.add_special_tokens);
    if (options.json) {
        // Byte-level pieces are valid UTF-8; a byte_fallback piece "<0xE2>" is plain ASCII.
        const nlohmann::json out = {{"ids", encoding.ids}, {"pieces", encoding.pieces}};
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
        std::cout << encoding.ids[i] << '\t' << nlohmann::json(encoding.pieces[i]).dump() << '\n';
    }
    return 0;
}

}  // namespace

Verb add_tokenize(CLI::App& root) {
    auto options = std::make_shared<TokenizeOptions>();
    CLI::App* command = root.add_subcommand("tokenize", "Encode a text with MODEL_DIR/tokenizer.json");
    command->add_option("MODEL_DIR", options->model_dir, "Model folder holding tokenizer.json")->required();
    command->add_option("--text", options->text, "Text to encode")->required();
    command->add_flag("--json", options->json, "Print {\"ids\": [...], \"pieces\": [...]} instead of text");
    command->add_flag("--add-special-tokens", options->add_special_tokens,
                      "Apply the post-processor (e.g. prepend BOS)");
    return {command, [options]() { return run_tokenize(*options); }};
}

}  // namespace sy::cli
