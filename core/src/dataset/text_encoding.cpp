// --bos auto|on|off: what a `text` record turns into, resolved once per run.
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"

namespace sy {
namespace {

std::optional<nlohmann::json> read_json_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    nlohmann::json value = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

// The BOS named by the model folder when the tokenizer's post-processor adds none: config.json
// `bos_token_id`, then tokenizer_config.json `bos_token` (a string or {"content": ...}).
std::optional<int32_t> bos_from_model_files(const Tokenizer& tokenizer, const std::filesystem::path& model_dir) {
    if (auto config = read_json_file(model_dir / "config.json")) {
        const auto it = config->find("bos_token_id");
        if (it != config->end() && it->is_number_integer()) return it->get<int32_t>();
    }
    if (auto config = read_json_file(model_dir / "tokenizer_config.json")) {
        const auto it = config->find("bos_token");
        if (it != config->end()) {
            std::string token;
            if (it->is_string()) token = it->get<std::string>();
            if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
                token = (*it)["content"].get<std::string>();
            if (!token.empty()) return tokenizer.token_id(token);
        }
    }
    return std::nullopt;
}

}  // namespace

BosMode parse_bos_mode(const std::string& text) {
    if (text == "auto") return BosMode::automatic;
    if (text == "on") return BosMode::on;
    if (text == "off") return BosMode::off;
    throw UsageError("--bos: expected auto, on or off, got \"" + text + "\"");
}

std::string bos_mode_name(BosMode mode) {
    switch (mode) {
        case BosMode::automatic: return "auto";
        case BosMode::on: return "on";
        case BosMode::off: return "off";
    }
    return "auto";
}

TextEncoding resolve_text_encoding(BosMode mode, const Tokenizer& tokenizer, const std::filesystem::path& model_dir) {
    TextEncoding encoding;
    encoding.mode = mode;
    if (mode == BosMode::automatic) {
        encoding.add_special_tokens = true;
        encoding.bos_id = tokenizer.bos_id();
    } else if (mode == BosMode::on) {
        encoding.prepend_id = tokenizer.bos_id();
        if (!encoding.prepend_id) encoding.prepend_id = bos_from_model_files(tokenizer, model_dir);
        if (!encoding.prepend_id)
            throw UsageError("--bos on: " + model_dir.string() +
                             " names no BOS token (tokenizer post-processor, config.json bos_token_id and "
                             "tokenizer_config.json bos_token are all absent); use --bos auto or off");
        encoding.bos_id = encoding.prepend_id;
    }
    return encoding;
}

}  // namespace sy
