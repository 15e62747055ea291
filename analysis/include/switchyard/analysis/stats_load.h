#pragma once
// Per-layer expert counts and load-imbalance metrics (analysis.md 0, 2.7).
#include <cstdint>
#include <vector>

#include "switchyard/analysis/load_metrics.h"
#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

struct LayerLoad {
    int layer = 0;                               // model-layer index
    int64_t tokens = 0;                          // T
    std::vector<int64_t> counts;                 // [E_l] c[l,e]: tokens with e among their k experts
    std::vector<int64_t> first_choice_counts;    // [E_l] tokens whose first choice is e
    std::vector<double> fractions;               // [E_l] f[l,e] = c / (k T); sums to 1
    LoadMetrics metrics;                         // over counts
    LoadMetrics first_choice_metrics;            // over first_choice_counts
};

// Thread: one thread at a time.
class LoadAccumulator {
public:
    explicit LoadAccumulator(const RoutingShape& shape);
    void add(const RoutingChunk& chunk);   // chunk already validated against the shape
    std::vector<LayerLoad> finish() const;

    // Running counts [Lm][E_l] (for other accumulators that need c without copying).
    const std::vector<std::vector<int64_t>>& counts() const { return m_counts; }

private:
    RoutingShape m_shape;
    int64_t m_tokens = 0;
    std::vector<std::vector<int64_t>> m_counts;         // [Lm][E_l]
    std::vector<std::vector<int64_t>> m_first_counts;   // [Lm][E_l]
};

}  // namespace sy::analysis
