#include "switchyard/analysis/stats_load.h"

namespace sy::analysis {

LoadAccumulator::LoadAccumulator(const RoutingShape& shape) : m_shape(shape) {
    for (int e : shape.num_experts) {
        m_counts.emplace_back(static_cast<size_t>(e), 0);
        m_first_counts.emplace_back(static_cast<size_t>(e), 0);
        m_gate_mass.emplace_back(static_cast<size_t>(e), 0.0);
    }
}

void LoadAccumulator::add(const RoutingChunk& chunk) {
    const int k = m_shape.top_k;
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        int64_t* counts = m_counts[l].data();
        int64_t* first = m_first_counts[l].data();
        double* mass = m_gate_mass[l].data();
        const int16_t* ids = chunk.ids(m_shape, l, 0);
        const float* weights = chunk.weights(m_shape, l, 0);
        for (int64_t t = 0; t < chunk.n; ++t, ids += k, weights += k) {
            ++first[ids[0]];
            for (int j = 0; j < k; ++j) {
                ++counts[ids[j]];
                mass[ids[j]] += weights[j];
            }
        }
    }
    m_tokens += chunk.n;
}

std::vector<LayerLoad> LoadAccumulator::finish() const {
    std::vector<LayerLoad> out;
    const double slots = static_cast<double>(m_tokens) * m_shape.top_k;
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        LayerLoad load;
        load.layer = m_shape.moe_layers[l];
        load.tokens = m_tokens;
        load.counts = m_counts[l];
        load.first_choice_counts = m_first_counts[l];
        load.gate_mass = m_gate_mass[l];
        for (int64_t c : load.counts) load.fractions.push_back(slots > 0 ? static_cast<double>(c) / slots : 0.0);
        load.metrics = load_metrics(load.counts);
        load.first_choice_metrics = load_metrics(load.first_choice_counts);
        out.push_back(std::move(load));
    }
    return out;
}

}  // namespace sy::analysis
