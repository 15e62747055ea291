#include "switchyard/analysis/stats_position.h"

#include <algorithm>

#include "switchyard/analysis/load_metrics.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {

PositionAccumulator::PositionAccumulator(const RoutingShape& shape, int bucket_tokens, int max_buckets)
    : m_shape(shape), m_width(bucket_tokens), m_max_buckets(max_buckets), m_counts(shape.moe_layers.size()) {
    SY_CHECK(bucket_tokens >= 1 && max_buckets >= 1, UsageError, "position buckets must be at least 1 token wide");
}

void PositionAccumulator::add(const RoutingChunk& chunk) {
    const int k = m_shape.top_k;
    // Buckets once per chunk, then one contiguous pass per layer (layer-major like the chunk).
    m_bucket.resize(static_cast<size_t>(chunk.n));
    for (int64_t t = 0; t < chunk.n; ++t) {
        const int b = static_cast<int>(std::min<int64_t>(chunk.pos[t] / m_width, m_max_buckets - 1));
        if (b >= static_cast<int>(m_tokens.size())) {
            m_tokens.resize(static_cast<size_t>(b) + 1, 0);
            for (int l = 0; l < m_shape.layer_count(); ++l) {
                m_counts[l].resize(static_cast<size_t>(b) + 1, std::vector<int64_t>(m_shape.num_experts[l], 0));
            }
        }
        ++m_tokens[b];
        m_bucket[t] = b;
    }
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const int16_t* rows = chunk.ids(m_shape, l, 0);
        auto& counts = m_counts[l];
        for (int64_t t = 0; t < chunk.n; ++t) {
            int64_t* row = counts[m_bucket[t]].data();
            for (int j = 0; j < k; ++j) ++row[rows[t * k + j]];
        }
    }
}

PositionStats PositionAccumulator::finish() const {
    PositionStats out;
    out.bucket_tokens = m_width;
    out.tokens = m_tokens;
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const int experts = m_shape.num_experts[l];
        PositionLayerStats s;
        s.layer = m_shape.moe_layers[l];
        std::vector<double> overall(static_cast<size_t>(experts), 0.0);
        for (const auto& row : m_counts[l]) {
            for (int e = 0; e < experts; ++e) overall[e] += static_cast<double>(row[e]);
        }
        for (size_t b = 0; b < m_counts[l].size(); ++b) {
            std::vector<double> row(m_counts[l][b].begin(), m_counts[l][b].end());
            const double slots = static_cast<double>(m_tokens[b]) * m_shape.top_k;
            s.divergence.push_back(total_variation(row, overall));
            for (double& v : row) v = slots > 0 ? v / slots : 0.0;
            s.fractions.push_back(std::move(row));
        }
        out.layers.push_back(std::move(s));
    }
    return out;
}

}  // namespace sy::analysis
