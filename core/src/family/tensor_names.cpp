// Expands the family table's name templates ({L} = layer, {E} = expert).
#include "switchyard/core/tensor_names.h"

#include <cctype>
#include <stdexcept>

namespace sy {
namespace {

constexpr std::string_view kLayer = "{L}";
constexpr std::string_view kExpert = "{E}";

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

std::string_view template_for(const FamilySpec& spec, TensorRole role, ExpertLayout layout) {
    const TensorTemplate* entry = spec.find_template(role);
    if (!entry) return {};
    return layout == ExpertLayout::fused ? entry->fused : entry->per_expert;
}

std::string_view layout_name(ExpertLayout layout) {
    return layout == ExpertLayout::fused ? "fused" : "per-expert";
}

[[noreturn]] void misuse(const FamilySpec& spec, TensorRole role, const std::string& what) {
    throw std::invalid_argument("tensor_name(" + std::string(spec.model_type) + ", " +
                                std::string(tensor_role_name(role)) + "): " + what);
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at))
        text.replace(at, from.size(), to), at += to.size();
}

// A placeholder must get an index exactly when the template has it.
void check_index(const FamilySpec& spec, TensorRole role, std::string_view pattern,
                 std::string_view placeholder, int index, const char* what) {
    const bool wanted = contains(pattern, placeholder);
    if (wanted && index < 0) misuse(spec, role, std::string("needs a ") + what + " index");
    if (!wanted && index >= 0) misuse(spec, role, std::string("takes no ") + what + " index");
}

}  // namespace

std::string tensor_name(const FamilySpec& spec, TensorRole role, int layer, int expert,
                        ExpertLayout layout) {
    const std::string_view pattern = template_for(spec, role, layout);
    if (pattern.empty())
        misuse(spec, role, "no such tensor in the " + std::string(layout_name(layout)) + " layout");
    check_index(spec, role, pattern, kLayer, layer, "layer");
    check_index(spec, role, pattern, kExpert, expert, "expert");
    std::string name(pattern);
    if (layer >= 0) replace_all(name, kLayer, std::to_string(layer));
    if (expert >= 0) replace_all(name, kExpert, std::to_string(expert));
    return name;
}

bool has_tensor_role(const FamilySpec& spec, TensorRole role, ExpertLayout layout) {
    return !template_for(spec, role, layout).empty();
}

bool role_is_per_expert(const FamilySpec& spec, TensorRole role, ExpertLayout layout) {
    return contains(template_for(spec, role, layout), kExpert);
}

bool role_is_per_layer(const FamilySpec& spec, TensorRole role, ExpertLayout layout) {
    return contains(template_for(spec, role, layout), kLayer);
}

ExpertNameMatcher::ExpertNameMatcher(const FamilySpec& spec, TensorRole role, int layer) {
    const std::string_view pattern = template_for(spec, role, ExpertLayout::per_expert);
    const std::size_t slot = pattern.find(kExpert);
    if (slot == std::string_view::npos || layer < 0) return;
    m_head = pattern.substr(0, slot);
    m_tail = pattern.substr(slot + kExpert.size());
    replace_all(m_head, kLayer, std::to_string(layer));
    replace_all(m_tail, kLayer, std::to_string(layer));
    m_valid = true;
}

std::optional<int> ExpertNameMatcher::match(std::string_view name) const {
    if (!m_valid || name.size() <= m_head.size() + m_tail.size()) return std::nullopt;
    if (name.substr(0, m_head.size()) != m_head) return std::nullopt;
    if (name.substr(name.size() - m_tail.size()) != m_tail) return std::nullopt;
    const std::string_view digits = name.substr(m_head.size(), name.size() - m_head.size() - m_tail.size());
    if (digits.size() > 9) return std::nullopt;   // also keeps std::stoi in range
    for (char c : digits)
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    return std::stoi(std::string(digits));
}

std::optional<int> match_expert_index(const FamilySpec& spec, TensorRole role, int layer,
                                      std::string_view name) {
    return ExpertNameMatcher(spec, role, layer).match(name);
}

std::string scale_inv_name(std::string_view weight_name) {
    return std::string(weight_name) + "_scale_inv";
}

std::string mxfp4_blocks_name(std::string_view weight_name) { return std::string(weight_name) + "_blocks"; }

std::string mxfp4_scales_name(std::string_view weight_name) { return std::string(weight_name) + "_scales"; }

}  // namespace sy
