#include "switchyard/analysis/affinity.h"

#include "switchyard/core/errors.h"

namespace sy::analysis {

std::string convention_name(AffinityConvention c) {
    switch (c) {
        case AffinityConvention::first: return "first";
        case AffinityConvention::all_pairs: return "all-pairs";
        case AffinityConvention::weighted: return "weighted";
    }
    return "first";
}

AffinityConvention parse_convention(const std::string& s) {
    if (s == "first") return AffinityConvention::first;
    if (s == "all-pairs") return AffinityConvention::all_pairs;
    if (s == "weighted") return AffinityConvention::weighted;
    throw UsageError("unknown affinity convention '" + s + "' (expected first, all-pairs or weighted)");
}

const std::vector<double>& AffinityResult::transition_counts(int l) const {
    if (hops == 1) return pairs.at(static_cast<size_t>(l)).counts;
    return one_hop_counts.at(static_cast<size_t>(l));
}

AffinityAccumulator::AffinityAccumulator(const RoutingShape& shape, const AffinityOptions& options)
    : m_shape(shape), m_options(options) {
    validate_shape(shape);
    const int layers = shape.layer_count();
    SY_CHECK(options.hops >= 1 && options.hops < layers, UsageError,
             "--hops " + std::to_string(options.hops) + " needs hops in [1, " + std::to_string(layers - 1) +
                 "] for a trace with " + std::to_string(layers) + " MoE layers");
    SY_CHECK(options.top_m >= 1, UsageError, "--top-m must be at least 1");
    const auto& e = shape.num_experts;
    for (int l = 0; l + options.hops < layers; ++l) m_hop.emplace_back(static_cast<size_t>(e[l]) * e[l + options.hops], 0.0);
    if (options.hops > 1) {
        for (int l = 0; l + 1 < layers; ++l) m_one_hop.emplace_back(static_cast<size_t>(e[l]) * e[l + 1], 0.0);
    }
    for (int l = 0; l < layers; ++l) m_loads.emplace_back(static_cast<size_t>(e[l]), 0.0);
}

void AffinityAccumulator::add_pairs(const RoutingChunk& chunk, int from, int to, std::vector<double>& counts) const {
    const int k = m_shape.top_k;
    const int cols = m_shape.num_experts[to];
    double* n = counts.data();
    const int16_t* a = chunk.ids(m_shape, from, 0);
    const int16_t* b = chunk.ids(m_shape, to, 0);
    switch (m_options.convention) {
        case AffinityConvention::first:
            for (int64_t t = 0; t < chunk.n; ++t) n[a[t * k] * cols + b[t * k]] += 1.0;
            break;
        case AffinityConvention::all_pairs:
            for (int64_t t = 0; t < chunk.n; ++t) {
                for (int i = 0; i < k; ++i)
                    for (int j = 0; j < k; ++j) n[a[t * k + i] * cols + b[t * k + j]] += 1.0;
            }
            break;
        case AffinityConvention::weighted: {
            const float* ga = chunk.weights(m_shape, from, 0);
            const float* gb = chunk.weights(m_shape, to, 0);
            for (int64_t t = 0; t < chunk.n; ++t) {
                for (int i = 0; i < k; ++i)
                    for (int j = 0; j < k; ++j)
                        n[a[t * k + i] * cols + b[t * k + j]] +=
                            static_cast<double>(ga[t * k + i]) * static_cast<double>(gb[t * k + j]);
            }
            break;
        }
    }
}

void AffinityAccumulator::add(const RoutingChunk& chunk) {
    validate_chunk(m_shape, chunk);
    for (size_t l = 0; l < m_hop.size(); ++l) {
        add_pairs(chunk, static_cast<int>(l), static_cast<int>(l) + m_options.hops, m_hop[l]);
    }
    for (size_t l = 0; l < m_one_hop.size(); ++l) {
        add_pairs(chunk, static_cast<int>(l), static_cast<int>(l) + 1, m_one_hop[l]);
    }
    const int k = m_shape.top_k;
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const int16_t* ids = chunk.ids(m_shape, l, 0);
        for (int64_t i = 0; i < chunk.n * k; ++i) m_loads[l][ids[i]] += 1.0;
    }
    m_tokens += chunk.n;
}

AffinityResult AffinityAccumulator::finish() const {
    AffinityResult r;
    r.shape = m_shape;
    r.convention = m_options.convention;
    r.hops = m_options.hops;
    r.tokens = m_tokens;
    r.one_hop_counts = m_one_hop;
    r.loads = m_loads;
    for (size_t l = 0; l < m_hop.size(); ++l) {
        AffinityPair p;
        p.from_moe = static_cast<int>(l);
        p.to_moe = p.from_moe + r.hops;
        p.from_layer = m_shape.moe_layers[p.from_moe];
        p.to_layer = m_shape.moe_layers[p.to_moe];
        p.from_experts = m_shape.num_experts[p.from_moe];
        p.to_experts = m_shape.num_experts[p.to_moe];
        p.counts = m_hop[l];
        derive_pair_metrics(p, m_options.top_m);
        if (r.hops > 1) {
            std::vector<const std::vector<double>*> chain;
            std::vector<int> experts;
            for (int s = p.from_moe; s <= p.to_moe; ++s) experts.push_back(m_shape.num_experts[s]);
            for (int s = p.from_moe; s < p.to_moe; ++s) chain.push_back(&m_one_hop[s]);
            p.markov = markov_prediction(chain, experts);
            row_total_variation(p.conditional, p.markov, p.counts, p.from_experts, p.to_experts, p.markov_gap_tv,
                                p.markov_gap_tv_max);
        }
        r.pairs.push_back(std::move(p));
    }
    return r;
}

}  // namespace sy::analysis
