#pragma once
// Domain x expert selection frequency and specialisation (analysis.md 2.3
// "domain selection frequency", 2.5 Mixtral Fig 7, 2.11 row 3).
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

struct DomainLayerStats {
    int layer = 0;                                   // model-layer index
    std::vector<std::vector<int64_t>> counts;        // [D][E_l] #{t in D : e in S[t,l]}
    std::vector<std::vector<double>> frequency;      // [D][E_l] counts / tokens[D]  (rows sum to k)
    // [D][E_l] (counts / (k T_D)) / (share of e over all labelled tokens); 0 where that is 0.
    std::vector<std::vector<double>> lift;
    // Specialisation of domain D at this layer: total variation between the domain's expert
    // distribution counts[D]/(k T_D) and the distribution over all labelled tokens (every domain
    // together; 0 = routes like everything else, 1 = disjoint experts).
    std::vector<double> specialisation;              // [D]
};

struct DomainStats {
    std::vector<std::string> names;                  // [D] caller's names ("domain <d>" if missing)
    std::vector<int64_t> tokens;                     // [D] tokens of each domain
    int64_t unlabelled_tokens = 0;                   // domain index -1 or no domain array
    std::vector<DomainLayerStats> layers;            // [Lm]
};

// Thread: one thread at a time. Domain indices may grow as chunks arrive.
class DomainAccumulator {
public:
    explicit DomainAccumulator(const RoutingShape& shape);
    void add(const RoutingChunk& chunk);
    // `names`: domain-name list the chunk's domain indices refer to.
    DomainStats finish(const std::vector<std::string>& names) const;

private:
    void grow(int domains);

    RoutingShape m_shape;
    std::vector<int64_t> m_tokens;                        // [D]
    int64_t m_unlabelled = 0;
    std::vector<std::vector<std::vector<int64_t>>> m_counts;   // [Lm][D][E_l]
};

}  // namespace sy::analysis
