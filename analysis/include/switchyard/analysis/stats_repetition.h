#pragma once
// Consecutive-token repetition (Mixtral Table 5; analysis.md 2.5): over pairs of consecutive
// tokens of one document (same doc, pos + 1), the fraction whose first choice is the same and the
// fraction sharing at least one of their k experts, with the random-routing baselines 1/E and
// 1 - C(E-k, k) / C(E, k). Pairs that straddle two chunks count when the chunks are contiguous.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

struct RepetitionCounts {
    int64_t pairs = 0;
    int64_t same_first = 0;
    int64_t any_shared = 0;
    double same_first_fraction() const { return pairs ? double(same_first) / double(pairs) : 0.0; }
    double any_shared_fraction() const { return pairs ? double(any_shared) / double(pairs) : 0.0; }
};

struct LayerRepetition {
    int layer = 0;                          // model-layer index
    RepetitionCounts all;
    std::vector<RepetitionCounts> by_domain;   // [D] pairs whose second token has domain d
    double baseline_same_first = 0;         // 1 / E_l
    double baseline_any_shared = 0;         // 1 - C(E_l - k, k) / C(E_l, k)
};

// 1 - C(E-k, k) / C(E, k): probability that two independent uniform k-subsets of E intersect.
double random_overlap_probability(int experts, int k);

// Thread: one thread at a time. Chunks in increasing token order.
class RepetitionAccumulator {
public:
    explicit RepetitionAccumulator(const RoutingShape& shape);
    void add(const RoutingChunk& chunk);
    std::vector<LayerRepetition> finish() const;

private:
    void count_pair(int l, const int16_t* prev, const int16_t* cur, int domain);
    void remember_last(const RoutingChunk& chunk);

    RoutingShape m_shape;
    std::vector<RepetitionCounts> m_all;                   // [Lm]
    std::vector<std::vector<RepetitionCounts>> m_domain;   // [Lm][D]
    // Last token of the previous chunk: its global index, doc, pos, and [Lm, k] ids.
    int64_t m_last_token = -1;
    int32_t m_last_doc = 0, m_last_pos = 0;
    std::vector<int16_t> m_last_ids;
    std::vector<uint8_t> m_follows;   // [n] scratch: token t continues token t-1's document
};

}  // namespace sy::analysis
