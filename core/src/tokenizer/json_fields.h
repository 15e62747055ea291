#pragma once
// Typed access to tokenizer.json values with error messages that name the file and the JSON
// path of the offending value, e.g.
//   tokenizer.json: pre_tokenizer.pretokenizers[1].behavior: "Isolate" is not one of ...
// Only the forward declaration of nlohmann::json is needed here (json_fwd.hpp): the parser
// itself stays in the .cpp files.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sy::tok {

using nlohmann::json;

class JsonPath {
public:
    JsonPath(const std::string& origin, std::string path) : m_origin(&origin), m_path(std::move(path)) {}
    // Nesting deeper than this (Sequence in Sequence ...) is refused instead of recursing on.
    static constexpr int max_depth = 64;
    JsonPath field(std::string_view key) const;
    JsonPath index(std::size_t i) const;
    const std::string& origin() const { return *m_origin; }
    const std::string& path() const { return m_path; }
    // Throws TokenizerError("<origin>: <path>: <what>").
    [[noreturn]] void fail(const std::string& what) const;

private:
    const std::string* m_origin;  // outlives every JsonPath built during one load
    std::string m_path;
    int m_depth = 0;
};

// `value` must be an object; returns obj[key] or fails with "missing".
const json& require_field(const json& obj, std::string_view key, const JsonPath& at);
// The member if present and not null, else nullptr.
const json* optional_field(const json& obj, std::string_view key);

void require_object(const json& value, const JsonPath& at);
void require_array(const json& value, const JsonPath& at);

std::string get_string(const json& obj, std::string_view key, const JsonPath& at);
std::optional<std::string> get_optional_string(const json& obj, std::string_view key, const JsonPath& at);
bool get_bool(const json& obj, std::string_view key, bool fallback, const JsonPath& at);
int64_t get_int(const json& obj, std::string_view key, const JsonPath& at);
int64_t get_int_or(const json& obj, std::string_view key, int64_t fallback, const JsonPath& at);
// A token id: integer in [0, 2^31).
int32_t as_token_id(const json& value, const JsonPath& at);

// The "type" tag of a component object.
std::string component_type(const json& obj, const JsonPath& at);

// Quotes a string for messages, cutting it at 60 bytes.
std::string quote_text(std::string_view text);

}  // namespace sy::tok
