#pragma once
// Routing by position in the document (OpenMoE Fig 9, analysis.md 2.1 item 2): expert
// distribution per position bucket [b*W, (b+1)*W), the last bucket open-ended.
#include <cstdint>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

struct PositionLayerStats {
    int layer = 0;                                  // model-layer index
    std::vector<std::vector<double>> fractions;     // [B][E_l] c_b[e] / (k T_b)
    // Total variation between each bucket's distribution and the layer's overall one.
    std::vector<double> divergence;                 // [B]
};

struct PositionStats {
    int bucket_tokens = 0;                          // W
    std::vector<int64_t> tokens;                    // [B] tokens per bucket
    std::vector<PositionLayerStats> layers;         // [Lm]
};

// Thread: one thread at a time.
class PositionAccumulator {
public:
    PositionAccumulator(const RoutingShape& shape, int bucket_tokens, int max_buckets);
    void add(const RoutingChunk& chunk);
    PositionStats finish() const;

private:
    RoutingShape m_shape;
    int m_width, m_max_buckets;
    std::vector<int64_t> m_tokens;                           // [B]
    std::vector<std::vector<std::vector<int64_t>>> m_counts;   // [Lm][B][E_l]
    std::vector<int> m_bucket;                               // [n] scratch: bucket of each token
};

}  // namespace sy::analysis
