#include "similarity_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <vector>

namespace sy::cli {
namespace {

nlohmann::json matrix_json(const std::vector<double>& values, int64_t n) {
    if (values.empty()) return nullptr;
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < n; ++i) {
        nlohmann::json row = nlohmann::json::array();
        for (int64_t j = 0; j < n; ++j) {
            const double v = values[static_cast<std::size_t>(i * n + j)];
            row.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

void append(std::string& out, const char* text) { out += text; }

void append_matrix(std::string& out, const std::string& title, const std::vector<double>& values, int64_t n) {
    if (values.empty()) return;
    char cell[32];
    out += "\n" + title + "\n      ";
    for (int64_t j = 0; j < n; ++j) {
        std::snprintf(cell, sizeof cell, " %6s", ("e" + std::to_string(j)).c_str());
        append(out, cell);
    }
    out += "\n";
    for (int64_t i = 0; i < n; ++i) {
        std::snprintf(cell, sizeof cell, "%6s", ("e" + std::to_string(i)).c_str());
        append(out, cell);
        for (int64_t j = 0; j < n; ++j) {
            std::snprintf(cell, sizeof cell, " %6.3f", values[static_cast<std::size_t>(i * n + j)]);
            append(out, cell);
        }
        out += "\n";
    }
}

// The pairs a merge would look at first: highest output similarity (aligned weights without).
void append_closest_pairs(std::string& out, const ExpertSimilarity& r) {
    const std::vector<double>& key = !r.outputs.empty() ? r.outputs : !r.weights_aligned.empty() ? r.weights_aligned
                                                                                                  : r.weights_unaligned;
    std::vector<std::tuple<double, int64_t, int64_t>> pairs;
    for (int64_t i = 0; i < r.experts; ++i)
        for (int64_t j = i + 1; j < r.experts; ++j) {
            const double v = key[static_cast<std::size_t>(i * r.experts + j)];
            if (std::isfinite(v)) pairs.emplace_back(v, i, j);
        }
    std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    pairs.resize(std::min<std::size_t>(pairs.size(), 5));
    out += "\nclosest pairs        router  weights  aligned  outputs\n";
    auto at = [&](const std::vector<double>& m, int64_t i, int64_t j) {
        return m.empty() ? std::nan("") : m[static_cast<std::size_t>(i * r.experts + j)];
    };
    char line[128];
    for (const auto& [v, i, j] : pairs) {
        (void)v;
        std::snprintf(line, sizeof line, "  e%-4lld e%-4lld     %8.4f %8.4f %8.4f %8.4f\n", static_cast<long long>(i),
                      static_cast<long long>(j), at(r.router, i, j), at(r.weights_unaligned, i, j),
                      at(r.weights_aligned, i, j), at(r.outputs, i, j));
        out += line;
    }
}

}  // namespace

nlohmann::json similarity_json(const ExpertSimilarity& r) {
    return {{"layer", r.layer},
            {"moe_index", r.moe_index},
            {"experts", r.experts},
            {"intermediate_size", r.intermediate_size},
            {"hidden_size", r.hidden_size},
            {"shared_experts", r.shared_experts},
            {"tokens", r.tokens},
            {"router", matrix_json(r.router, r.experts)},
            {"weights_unaligned", matrix_json(r.weights_unaligned, r.experts)},
            {"weights_aligned", matrix_json(r.weights_aligned, r.experts)},
            {"outputs", matrix_json(r.outputs, r.experts)}};
}

std::string similarity_table(const ExpertSimilarity& r) {
    char head[256];
    std::snprintf(head, sizeof head, "layer %d (MoE layer #%d): %lld routed experts, I=%lld, H=%lld", r.layer,
                  r.moe_index, static_cast<long long>(r.experts), static_cast<long long>(r.intermediate_size),
                  static_cast<long long>(r.hidden_size));
    std::string out = head;
    if (r.shared_experts > 0) out += ", " + std::to_string(r.shared_experts) + " shared expert(s) not compared";
    out += "\n";
    append_matrix(out, "router rows (cosine)", r.router, r.experts);
    append_matrix(out, "weights as stored (cosine of [gate; up; down^T])", r.weights_unaligned, r.experts);
    append_matrix(out, "weights after neuron alignment (Hungarian matching)", r.weights_aligned, r.experts);
    append_matrix(out, "outputs on " + std::to_string(r.tokens) + " tokens (cosine)", r.outputs, r.experts);
    if (r.experts > 1) append_closest_pairs(out, r);
    return out;
}

}  // namespace sy::cli
