#include "switchyard/core/expert_selection.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model_config.h"

namespace sy {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string current;
    for (char c : text) {
        if (c == separator) parts.push_back(current), current.clear();
        else if (!std::isspace(static_cast<unsigned char>(c))) current += c;
    }
    parts.push_back(current);
    return parts;
}

int parse_index(const std::string& digits, const std::string& item, const std::string& flag, const char* form) {
    const bool ok = !digits.empty() && digits.size() <= 9 &&
                    std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    SY_CHECK(ok, UsageError, flag + ": \"" + item + "\" is not " + form + " (non-negative integers)");
    return std::stoi(digits);
}

// "L:rest" -> (L, rest)
std::pair<int, std::string> split_layer(const std::string& item, const std::string& flag, const char* form) {
    const std::size_t colon = item.find(':');
    SY_CHECK(colon != std::string::npos, UsageError, flag + ": \"" + item + "\" is not " + form);
    return {parse_index(item.substr(0, colon), item, flag, form), item.substr(colon + 1)};
}

std::string moe_layer_list(const ModelDescription& model) {
    std::string list;
    for (int l : model.moe_layers) list += (list.empty() ? "" : ", ") + std::to_string(l);
    return list;
}

}  // namespace

ExpertsByLayer parse_layer_experts(const std::string& text, const std::string& flag) {
    ExpertsByLayer out;
    std::set<std::pair<int, int>> seen;
    for (const std::string& item : split(text, ',')) {
        const auto [layer, expert_text] = split_layer(item, flag, "L:E");
        const int expert = parse_index(expert_text, item, flag, "L:E");
        SY_CHECK(seen.insert({layer, expert}).second, UsageError, flag + ": " + item + " is listed twice");
        out[layer].push_back(expert);
    }
    for (auto& [layer, experts] : out) std::sort(experts.begin(), experts.end());
    return out;
}

ExpertGroupsByLayer parse_expert_groups(const std::string& text, const std::string& flag) {
    ExpertGroupsByLayer out;
    std::set<std::pair<int, int>> seen;
    for (const std::string& item : split(text, ',')) {
        const auto [layer, members_text] = split_layer(item, flag, "L:a+b[+c...]");
        std::vector<int> group;
        for (const std::string& member : split(members_text, '+')) {
            const int expert = parse_index(member, item, flag, "L:a+b[+c...]");
            SY_CHECK(seen.insert({layer, expert}).second, UsageError,
                     flag + ": expert " + std::to_string(layer) + ":" + std::to_string(expert) +
                         " appears in more than one group (or twice in one)");
            group.push_back(expert);
        }
        SY_CHECK(group.size() >= 2, UsageError, flag + ": \"" + item + "\" names one expert; a group merges two or more");
        out[layer].push_back(group);
    }
    return out;
}

std::string format_layer_experts(const ExpertsByLayer& experts) {
    std::string text;
    for (const auto& [layer, list] : experts)
        for (int e : list) text += (text.empty() ? "" : ",") + std::to_string(layer) + ":" + std::to_string(e);
    return text;
}

std::string format_expert_groups(const ExpertGroupsByLayer& groups) {
    std::string text;
    for (const auto& [layer, list] : groups)
        for (const auto& group : list) {
            text += (text.empty() ? "" : ",") + std::to_string(layer) + ":";
            for (std::size_t i = 0; i < group.size(); ++i) text += (i ? "+" : "") + std::to_string(group[i]);
        }
    return text;
}

void check_layer_experts(const ModelDescription& model, const ExpertsByLayer& experts, const std::string& flag) {
    for (const auto& [layer, list] : experts) {
        const int64_t count = model.experts_in_layer(layer);
        SY_CHECK(count > 0, UsageError,
                 flag + ": layer " + std::to_string(layer) + " is not a MoE layer (MoE layers: " + moe_layer_list(model) + ")");
        for (int e : list)
            SY_CHECK(e < count, UsageError,
                     flag + ": layer " + std::to_string(layer) + " has experts 0.." + std::to_string(count - 1) +
                         ", found " + std::to_string(e));
    }
}

}  // namespace sy
