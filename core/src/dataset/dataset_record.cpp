// JSONL record parsing: `text` or `input_ids`, optional `domain`.
#include "dataset_record.h"

#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

using nlohmann::json;

std::vector<int32_t> parse_input_ids(const json& ids, const std::string& source, int64_t vocab_size) {
    SY_CHECK(ids.is_array(), UsageError, source + ": \"input_ids\" must be an array of integers");
    std::vector<int32_t> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const json& id = ids[i];
        const std::string where = source + ": input_ids[" + std::to_string(i) + "]";
        SY_CHECK(id.is_number_integer(), UsageError, where + ": expected an integer, got " + id.dump());
        const int64_t value = id.get<int64_t>();
        SY_CHECK(value >= 0 && value <= INT32_MAX, UsageError,
                 where + " = " + std::to_string(value) + " is negative or too large");
        SY_CHECK(vocab_size <= 0 || value < vocab_size, UsageError,
                 where + " = " + std::to_string(value) + " is outside the model's vocabulary (size " +
                     std::to_string(vocab_size) + ")");
        out.push_back(static_cast<int32_t>(value));
    }
    return out;
}

}  // namespace

DataRecord parse_data_record(std::string_view line, const std::string& source, int64_t vocab_size) {
    json value;
    try {
        value = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
        throw UsageError(source + ": invalid JSON (" + std::string(e.what()) + ")");
    }
    SY_CHECK(value.is_object(), UsageError, source + ": expected a JSON object per line");
    DataRecord record;
    if (auto it = value.find("domain"); it != value.end() && !it->is_null()) {
        SY_CHECK(it->is_string(), UsageError, source + ": \"domain\" must be a string");
        record.domain = it->get<std::string>();
    }
    if (auto it = value.find("input_ids"); it != value.end() && !it->is_null()) {
        record.input_ids = parse_input_ids(*it, source, vocab_size);
        record.has_input_ids = true;
        return record;
    }
    auto it = value.find("text");
    SY_CHECK(it != value.end() && !it->is_null(), UsageError,
             source + ": record has neither \"text\" nor \"input_ids\"");
    SY_CHECK(it->is_string(), UsageError, source + ": \"text\" must be a string");
    record.text = it->get<std::string>();
    return record;
}

}  // namespace sy
