#pragma once
// Token-id specialisation: top tokens per expert with count and lift over the token's base rate
// (OpenMoE Table 9 / Fig 10, OLMoE vocabulary specialisation; analysis.md 2.1 item 3, 2.8).
//
// Memory: a dense [V, E_l] uint32 table per tracked MoE layer, so it is bounded by the vocabulary,
// never by the trace length. Layers tracked: the caller's list, or (empty list) every layer when
// V * sum E_l * 4 bytes fits `budget_bytes`, else as many evenly spaced layers as fit (first and
// last always; at least one).
#include <cstdint>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

struct TopToken {
    int32_t token_id = 0;
    int64_t count = 0;     // c[v,e]: occurrences of v routed to e (any of the k slots)
    int64_t occurrences = 0;   // n_v: occurrences of v in the trace
    // P(e in S | v) / P(e in S) = (c[v,e] / n_v) / (c_e / T).
    double lift = 0;
};

struct TokenLayerStats {
    int layer = 0;                                   // model-layer index
    std::vector<std::vector<TopToken>> top_tokens;   // [E_l][<= top_n], by count descending
    // Occurrence-weighted mean, over tokens with n_v >= min_count, of max_e c[v,e] / n_v: how
    // often a token goes to its favourite expert (k/E_l when routing ignores the token id).
    double vocabulary_specialisation = 0;
    int64_t distinct_tokens = 0;                     // ids seen at least min_count times
};

struct TokenStats {
    int top_n = 0;
    int64_t min_count = 0;
    std::vector<TokenLayerStats> layers;             // tracked layers only, in MoE order
};

// Thread: one thread at a time.
class TokenExpertAccumulator {
public:
    // moe_indices: positions in shape.moe_layers to track (empty: automatic, see above).
    // vocab_hint: expected vocabulary size V (the table grows if a larger id shows up).
    TokenExpertAccumulator(const RoutingShape& shape, std::vector<int> moe_indices, int64_t vocab_hint,
                           int64_t budget_bytes);
    void add(const RoutingChunk& chunk);
    TokenStats finish(int top_n, int64_t min_count) const;
    const std::vector<int>& tracked_layers() const { return m_layers; }

private:
    void grow(int64_t vocab);

    RoutingShape m_shape;
    std::vector<int> m_layers;                        // tracked MoE indices
    int64_t m_vocab = 0;
    int64_t m_tokens = 0;
    std::vector<int64_t> m_occurrences;               // [V]
    std::vector<std::vector<uint32_t>> m_counts;      // per tracked layer [V, E_l]
    std::vector<std::vector<int64_t>> m_expert_counts;   // per tracked layer [E_l]
};

// The automatic layer choice described above (exposed for tests and the CLI's message).
std::vector<int> default_token_layers(const RoutingShape& shape, int64_t vocab, int64_t budget_bytes);

}  // namespace sy::analysis
