#include "switchyard/analysis/stats_repetition.h"

#include <algorithm>

namespace sy::analysis {

double random_overlap_probability(int experts, int k) {
    if (2 * k > experts) return 1.0;   // two k-subsets of fewer than 2k experts always meet
    double disjoint = 1.0;             // C(E-k, k) / C(E, k) = prod_i (E-k-i) / (E-i)
    for (int i = 0; i < k; ++i) disjoint *= static_cast<double>(experts - k - i) / (experts - i);
    return 1.0 - disjoint;
}

RepetitionAccumulator::RepetitionAccumulator(const RoutingShape& shape)
    : m_shape(shape), m_all(shape.moe_layers.size()), m_domain(shape.moe_layers.size()) {}

void RepetitionAccumulator::count_pair(int l, const int16_t* prev, const int16_t* cur, int domain) {
    const int k = m_shape.top_k;
    bool shared = false;
    for (int a = 0; a < k && !shared; ++a) {
        for (int b = 0; b < k; ++b) {
            if (prev[a] == cur[b]) {
                shared = true;
                break;
            }
        }
    }
    const bool same = prev[0] == cur[0];
    RepetitionCounts& all = m_all[l];
    ++all.pairs;
    all.same_first += same;
    all.any_shared += shared;
    if (domain < 0) return;
    RepetitionCounts& d = m_domain[l][domain];
    ++d.pairs;
    d.same_first += same;
    d.any_shared += shared;
}

void RepetitionAccumulator::remember_last(const RoutingChunk& chunk) {
    const int64_t t = chunk.n - 1;
    m_last_token = chunk.first_token + t;
    m_last_doc = chunk.doc[t];
    m_last_pos = chunk.pos[t];
    m_last_ids.clear();
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const int16_t* ids = chunk.ids(m_shape, l, t);
        m_last_ids.insert(m_last_ids.end(), ids, ids + m_shape.top_k);
    }
}

void RepetitionAccumulator::add(const RoutingChunk& chunk) {
    if (chunk.n == 0) return;
    const int k = m_shape.top_k;
    const bool carry = m_last_token >= 0 && m_last_token + 1 == chunk.first_token && chunk.doc[0] == m_last_doc &&
                       chunk.pos[0] == m_last_pos + 1;
    // Which tokens continue their predecessor once per chunk; then one contiguous pass per layer
    // over its [n, k] rows. The token-major order (all layers per token) strides n*k rows apart
    // per layer, and count_pair was the hottest symbol of `stats` on the 1 GB synthetic trace
    // (perf; bench/README.md, "Routing analysis at scale").
    m_follows.resize(static_cast<size_t>(chunk.n));
    int max_domain = -1;
    for (int64_t t = 0; t < chunk.n; ++t) {
        m_follows[t] = t > 0 ? chunk.doc[t] == chunk.doc[t - 1] && chunk.pos[t] == chunk.pos[t - 1] + 1 : carry;
        if (chunk.domain) max_domain = std::max(max_domain, chunk.domain[t]);
    }
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        if (max_domain >= static_cast<int>(m_domain[l].size())) m_domain[l].resize(static_cast<size_t>(max_domain) + 1);
        const int16_t* rows = chunk.ids(m_shape, l, 0);
        for (int64_t t = 0; t < chunk.n; ++t) {
            if (!m_follows[t]) continue;
            const int16_t* prev = t > 0 ? rows + (t - 1) * k : m_last_ids.data() + l * k;
            count_pair(l, prev, rows + t * k, chunk.domain ? chunk.domain[t] : -1);
        }
    }
    remember_last(chunk);
}

std::vector<LayerRepetition> RepetitionAccumulator::finish() const {
    std::vector<LayerRepetition> out;
    size_t domains = 0;
    for (const auto& d : m_domain) domains = std::max(domains, d.size());
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        LayerRepetition r;
        r.layer = m_shape.moe_layers[l];
        r.all = m_all[l];
        r.by_domain = m_domain[l];
        r.by_domain.resize(domains);
        r.baseline_same_first = 1.0 / m_shape.num_experts[l];
        r.baseline_any_shared = random_overlap_probability(m_shape.num_experts[l], m_shape.top_k);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace sy::analysis
