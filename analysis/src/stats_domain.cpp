#include "switchyard/analysis/stats_domain.h"

#include <algorithm>
#include <cmath>

namespace sy::analysis {

DomainAccumulator::DomainAccumulator(const RoutingShape& shape) : m_shape(shape), m_counts(shape.moe_layers.size()) {}

void DomainAccumulator::grow(int domains) {
    if (domains <= static_cast<int>(m_tokens.size())) return;
    m_tokens.resize(static_cast<size_t>(domains), 0);
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        m_counts[l].resize(static_cast<size_t>(domains), std::vector<int64_t>(m_shape.num_experts[l], 0));
    }
}

void DomainAccumulator::add(const RoutingChunk& chunk) {
    if (!chunk.domain) {
        m_unlabelled += chunk.n;
        return;
    }
    const int k = m_shape.top_k;
    // Tokens per domain once per chunk, then one contiguous pass per layer (layer-major like the chunk).
    for (int64_t t = 0; t < chunk.n; ++t) {
        const int d = chunk.domain[t];
        if (d < 0) {
            ++m_unlabelled;
            continue;
        }
        grow(d + 1);
        ++m_tokens[d];
    }
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const int16_t* rows = chunk.ids(m_shape, l, 0);
        auto& counts = m_counts[l];
        for (int64_t t = 0; t < chunk.n; ++t) {
            const int d = chunk.domain[t];
            if (d < 0) continue;
            int64_t* row = counts[d].data();
            for (int j = 0; j < k; ++j) ++row[rows[t * k + j]];
        }
    }
}

namespace {

DomainLayerStats layer_stats(const std::vector<std::vector<int64_t>>& counts, const std::vector<int64_t>& tokens,
                             int experts, int k) {
    DomainLayerStats s;
    s.counts = counts;
    std::vector<double> overall(static_cast<size_t>(experts), 0.0);
    double total = 0;
    for (const auto& row : counts) {
        for (int e = 0; e < experts; ++e) overall[e] += static_cast<double>(row[e]);
    }
    for (double v : overall) total += v;
    for (size_t d = 0; d < counts.size(); ++d) {
        const double td = static_cast<double>(tokens[d]);
        std::vector<double> freq(experts, 0.0), lift(experts, 0.0);
        double tv = 0;
        for (int e = 0; e < experts; ++e) {
            const double share = td > 0 ? counts[d][e] / (k * td) : 0.0;
            const double base = total > 0 ? overall[e] / total : 0.0;
            freq[e] = td > 0 ? counts[d][e] / td : 0.0;
            lift[e] = base > 0 ? share / base : 0.0;
            tv += std::abs(share - base);
        }
        s.frequency.push_back(std::move(freq));
        s.lift.push_back(std::move(lift));
        s.specialisation.push_back(td > 0 ? 0.5 * tv : 0.0);
    }
    return s;
}

}  // namespace

DomainStats DomainAccumulator::finish(const std::vector<std::string>& names) const {
    DomainStats out;
    out.tokens = m_tokens;
    out.unlabelled_tokens = m_unlabelled;
    const size_t domains = std::max(m_tokens.size(), names.size());
    out.tokens.resize(domains, 0);
    for (size_t d = 0; d < domains; ++d) {
        out.names.push_back(d < names.size() ? names[d] : "domain " + std::to_string(d));
    }
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        auto counts = m_counts[l];
        counts.resize(domains, std::vector<int64_t>(m_shape.num_experts[l], 0));
        DomainLayerStats s = layer_stats(counts, out.tokens, m_shape.num_experts[l], m_shape.top_k);
        s.layer = m_shape.moe_layers[l];
        out.layers.push_back(std::move(s));
    }
    return out;
}

}  // namespace sy::analysis
