#pragma once
// Private JSON helpers for the analysis reports (nlohmann stays out of public headers).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "switchyard/analysis/load_metrics.h"

namespace sy::analysis::json_util {

using nlohmann::json;

// Matrix [rows][cols] of numbers as nested arrays.
template <typename T>
json matrix(const std::vector<std::vector<T>>& m) {
    json out = json::array();
    for (const auto& row : m) out.push_back(row);
    return out;
}

inline void put_metrics(json& j, const LoadMetrics& m, const std::string& prefix = "") {
    j[prefix + "load_entropy_bits"] = m.entropy_bits;
    j[prefix + "load_entropy_normalized"] = m.entropy_normalized;
    j[prefix + "cv"] = m.cv;
    j[prefix + "gini"] = m.gini;
    j[prefix + "max_over_mean"] = m.max_over_mean;
    j[prefix + "max_vio"] = m.max_vio;
}

// Token string for JSON / summaries; "" when the vocabulary is not given or too short.
inline std::string token_text(const std::vector<std::string>& strings, int32_t id) {
    return id >= 0 && static_cast<size_t>(id) < strings.size() ? strings[static_cast<size_t>(id)] : std::string();
}

}  // namespace sy::analysis::json_util
