#include "json_fields.h"

#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"

namespace sy::tok {

JsonPath JsonPath::field(std::string_view key) const {
    JsonPath child(*m_origin, m_path.empty() ? std::string(key) : m_path + "." + std::string(key));
    child.m_depth = m_depth + 1;
    if (child.m_depth > max_depth) fail("nested too deeply (more than " + std::to_string(max_depth) + " levels)");
    return child;
}

JsonPath JsonPath::index(std::size_t i) const {
    JsonPath child(*m_origin, m_path + "[" + std::to_string(i) + "]");
    child.m_depth = m_depth + 1;
    if (child.m_depth > max_depth) fail("nested too deeply (more than " + std::to_string(max_depth) + " levels)");
    return child;
}

void JsonPath::fail(const std::string& what) const {
    throw TokenizerError(*m_origin + ": " + (m_path.empty() ? "" : m_path + ": ") + what);
}

void require_object(const json& value, const JsonPath& at) {
    if (!value.is_object()) at.fail(std::string("expected an object, found ") + value.type_name());
}

void require_array(const json& value, const JsonPath& at) {
    if (!value.is_array()) at.fail(std::string("expected an array, found ") + value.type_name());
}

const json& require_field(const json& obj, std::string_view key, const JsonPath& at) {
    require_object(obj, at);
    const auto it = obj.find(key);
    if (it == obj.end()) at.field(key).fail("missing");
    return *it;
}

const json* optional_field(const json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string get_string(const json& obj, std::string_view key, const JsonPath& at) {
    const json& value = require_field(obj, key, at);
    if (!value.is_string()) at.field(key).fail(std::string("expected a string, found ") + value.type_name());
    return value.get<std::string>();
}

std::optional<std::string> get_optional_string(const json& obj, std::string_view key, const JsonPath& at) {
    const json* value = optional_field(obj, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) at.field(key).fail(std::string("expected a string, found ") + value->type_name());
    return value->get<std::string>();
}

bool get_bool(const json& obj, std::string_view key, bool fallback, const JsonPath& at) {
    const json* value = optional_field(obj, key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) at.field(key).fail(std::string("expected true/false, found ") + value->type_name());
    return value->get<bool>();
}

int64_t get_int(const json& obj, std::string_view key, const JsonPath& at) {
    const json& value = require_field(obj, key, at);
    if (!value.is_number_integer()) at.field(key).fail(std::string("expected an integer, found ") + value.type_name());
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        at.field(key).fail("integer out of range");
    }
    return value.get<int64_t>();
}

int64_t get_int_or(const json& obj, std::string_view key, int64_t fallback, const JsonPath& at) {
    return optional_field(obj, key) == nullptr ? fallback : get_int(obj, key, at);
}

int32_t as_token_id(const json& value, const JsonPath& at) {
    if (!value.is_number_integer()) at.fail(std::string("token id must be an integer, found ") + value.type_name());
    if (value.is_number_unsigned() ? value.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX)
                                   : (value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX)) {
        at.fail("token id " + value.dump() + " is outside [0, 2^31)");
    }
    return static_cast<int32_t>(value.get<int64_t>());
}

std::string component_type(const json& obj, const JsonPath& at) {
    require_object(obj, at);
    return get_string(obj, "type", at);
}

std::string quote_text(std::string_view text) {
    constexpr std::size_t limit = 60;
    if (text.size() <= limit) return "\"" + std::string(text) + "\"";
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole chars
    return "\"" + std::string(text.substr(0, cut)) + "...\"";
}

}  // namespace sy::tok
