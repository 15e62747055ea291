#include "switchyard/analysis/stats_tokens.h"

#include <algorithm>
#include <queue>

#include "switchyard/core/errors.h"

namespace sy::analysis {

std::vector<int> default_token_layers(const RoutingShape& shape, int64_t vocab, int64_t budget_bytes) {
    const int layers = shape.layer_count();
    const int64_t per_layer = std::max<int64_t>(vocab, 1) * shape.max_experts() * 4;
    const int fit = static_cast<int>(std::clamp<int64_t>(budget_bytes / std::max<int64_t>(per_layer, 1), 1, layers));
    std::vector<int> out;
    if (fit == 1) return {0};
    for (int i = 0; i < fit; ++i) {
        const int l = static_cast<int>((static_cast<int64_t>(i) * (layers - 1)) / (fit - 1));
        if (out.empty() || out.back() != l) out.push_back(l);
    }
    return out;
}

TokenExpertAccumulator::TokenExpertAccumulator(const RoutingShape& shape, std::vector<int> moe_indices,
                                               int64_t vocab_hint, int64_t budget_bytes)
    : m_shape(shape), m_layers(std::move(moe_indices)) {
    if (m_layers.empty()) m_layers = default_token_layers(shape, vocab_hint, budget_bytes);
    for (int l : m_layers) {
        SY_CHECK(l >= 0 && l < shape.layer_count(), UsageError,
                 "token statistics: MoE layer index " + std::to_string(l) + " is out of range");
    }
    m_counts.resize(m_layers.size());
    for (int l : m_layers) m_expert_counts.emplace_back(static_cast<size_t>(shape.num_experts[l]), 0);
    grow(std::max<int64_t>(vocab_hint, 1));
}

void TokenExpertAccumulator::grow(int64_t vocab) {
    if (vocab <= m_vocab) return;
    m_occurrences.resize(static_cast<size_t>(vocab), 0);
    for (size_t i = 0; i < m_layers.size(); ++i) {
        m_counts[i].resize(static_cast<size_t>(vocab * m_shape.num_experts[m_layers[i]]), 0);
    }
    m_vocab = vocab;
}

void TokenExpertAccumulator::add(const RoutingChunk& chunk) {
    int32_t max_id = -1;
    for (int64_t t = 0; t < chunk.n; ++t) {
        SY_CHECK(chunk.token_ids[t] >= 0, ShapeMismatch,
                 "token " + std::to_string(chunk.first_token + t) + ": negative token id");
        max_id = std::max(max_id, chunk.token_ids[t]);
    }
    if (max_id >= m_vocab) grow(std::max<int64_t>(max_id + 1, m_vocab + m_vocab / 2));
    for (int64_t t = 0; t < chunk.n; ++t) ++m_occurrences[chunk.token_ids[t]];
    const int k = m_shape.top_k;
    for (size_t i = 0; i < m_layers.size(); ++i) {
        const int l = m_layers[i];
        const int experts = m_shape.num_experts[l];
        uint32_t* table = m_counts[i].data();
        int64_t* expert_counts = m_expert_counts[i].data();
        for (int64_t t = 0; t < chunk.n; ++t) {
            const int16_t* ids = chunk.ids(m_shape, l, t);
            uint32_t* row = table + static_cast<int64_t>(chunk.token_ids[t]) * experts;
            for (int j = 0; j < k; ++j) {
                ++row[ids[j]];
                ++expert_counts[ids[j]];
            }
        }
    }
    m_tokens += chunk.n;
}

namespace {

// Orders a min-heap so its top is the weakest of the kept tokens: lower count, then higher id.
struct Weaker {
    bool operator()(const TopToken& a, const TopToken& b) const {
        return a.count != b.count ? a.count > b.count : a.token_id < b.token_id;
    }
};

}  // namespace

TokenStats TokenExpertAccumulator::finish(int top_n, int64_t min_count) const {
    TokenStats out;
    out.top_n = top_n;
    out.min_count = min_count;
    const double tokens = static_cast<double>(m_tokens);
    for (size_t i = 0; i < m_layers.size(); ++i) {
        const int experts = m_shape.num_experts[m_layers[i]];
        TokenLayerStats s;
        s.layer = m_shape.moe_layers[m_layers[i]];
        std::vector<std::priority_queue<TopToken, std::vector<TopToken>, Weaker>> heaps(experts);
        double fav_sum = 0, occ_sum = 0;
        for (int64_t v = 0; v < m_vocab; ++v) {
            const int64_t n_v = m_occurrences[v];
            if (n_v < std::max<int64_t>(min_count, 1)) continue;
            ++s.distinct_tokens;
            const uint32_t* row = m_counts[i].data() + v * experts;
            uint32_t best = 0;
            for (int e = 0; e < experts; ++e) {
                best = std::max(best, row[e]);
                if (row[e] == 0 || top_n <= 0) continue;
                const double lift = (row[e] / static_cast<double>(n_v)) / (m_expert_counts[i][e] / tokens);
                heaps[e].push(TopToken{static_cast<int32_t>(v), row[e], n_v, lift});
                if (static_cast<int>(heaps[e].size()) > top_n) heaps[e].pop();
            }
            fav_sum += best;
            occ_sum += static_cast<double>(n_v);
        }
        s.vocabulary_specialisation = occ_sum > 0 ? fav_sum / occ_sum : 0.0;
        for (auto& heap : heaps) {
            std::vector<TopToken> top;
            for (; !heap.empty(); heap.pop()) top.push_back(heap.top());
            std::reverse(top.begin(), top.end());
            s.top_tokens.push_back(std::move(top));
        }
        out.layers.push_back(std::move(s));
    }
    return out;
}

}  // namespace sy::analysis
