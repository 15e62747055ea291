#pragma once
// The four tokenizer.json component kinds (normalizer, pre-tokenizer, post-processor, decoder)
// are each built from a table {"type" tag -> factory}; this is that table's lookup and the
// shared "Sequence" builder, so an unsupported tag gets the same message in every kind.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "json_fields.h"

namespace sy::tok {

template <typename Component>
struct ComponentEntry {
    std::string_view type;
    std::unique_ptr<Component> (*make)(const json&, const JsonPath&);
};

// Builds the component `spec` describes from `registry`; null spec means "none" (nullptr).
// `kind` names the component in the message, e.g. "pre-tokenizer".
template <typename Component, std::size_t N>
std::unique_ptr<Component> make_from_registry(const ComponentEntry<Component> (&registry)[N], std::string_view kind,
                                              const json& spec, const JsonPath& at) {
    if (spec.is_null()) return nullptr;
    const std::string type = component_type(spec, at);
    std::string supported;
    for (const ComponentEntry<Component>& entry : registry) {
        if (entry.type == type) return entry.make(spec, at);
        supported += (supported.empty() ? "" : ", ") + std::string(entry.type);
    }
    at.field("type").fail(std::string(kind) + " " + quote_text(type) + " is not supported (supported: " + supported + ")");
}

// The steps of a "Sequence" component: spec[list_key] is an array of components built by
// `make_step`; steps that build to nullptr (no-ops) are dropped.
template <typename Component>
std::vector<std::unique_ptr<Component>> sequence_steps(const json& spec, std::string_view list_key, const JsonPath& at,
                                                       std::unique_ptr<Component> (*make_step)(const json&, const JsonPath&)) {
    const json& list = require_field(spec, list_key, at);
    const JsonPath list_at = at.field(list_key);
    require_array(list, list_at);
    std::vector<std::unique_ptr<Component>> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (auto step = make_step(list[i], list_at.index(i))) steps.push_back(std::move(step));
    }
    return steps;
}

}  // namespace sy::tok
