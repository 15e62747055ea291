#pragma once
// Private helpers of the result-file writers (*_store.cpp): nested vectors flattened row-major
// with their shape, group names of layers and layer pairs.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/load_metrics.h"
#include "switchyard/core/result_store.h"

namespace sy::analysis::store_util {

// [rows][cols] -> row-major values; ragged rows are padded with `pad` to the longest.
template <typename T>
void write_matrix(ResultFile& out, const std::string& path, const std::vector<std::vector<T>>& m, T pad = T()) {
    std::size_t cols = 0;
    for (const auto& row : m) cols = std::max(cols, row.size());
    std::vector<T> flat;
    flat.reserve(m.size() * cols);
    for (const auto& row : m) {
        flat.insert(flat.end(), row.begin(), row.end());
        flat.insert(flat.end(), cols - row.size(), pad);
    }
    out.write(path, flat, {m.size(), cols});
}

inline std::string layer_group(const std::string& root, int model_layer) {
    return root + "/layer_" + std::to_string(model_layer);
}
inline std::string pair_group(const std::string& root, int from_layer, int to_layer) {
    return root + "/" + std::to_string(from_layer) + "_" + std::to_string(to_layer);
}

// The --json metric names as attributes (json_util::put_metrics).
inline void put_metrics(ResultFile& out, const std::string& object, const LoadMetrics& m, const std::string& prefix = "") {
    out.attribute(object, prefix + "load_entropy_bits", m.entropy_bits);
    out.attribute(object, prefix + "load_entropy_normalized", m.entropy_normalized);
    out.attribute(object, prefix + "cv", m.cv);
    out.attribute(object, prefix + "gini", m.gini);
    out.attribute(object, prefix + "max_over_mean", m.max_over_mean);
    out.attribute(object, prefix + "max_vio", m.max_vio);
}

template <typename From>
std::vector<int32_t> to_int32(const std::vector<From>& v) {
    return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace sy::analysis::store_util
