#pragma once
// `switchyard stats`: every per-layer routing statistic, accumulated over a
// trace streamed chunk by chunk. Memory is independent of the trace length (the token table is
// bounded by the vocabulary, see stats_tokens.h; LBL keeps one double per window per layer).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"
#include "switchyard/analysis/stats_domain.h"
#include "switchyard/analysis/stats_load.h"
#include "switchyard/analysis/stats_position.h"
#include "switchyard/analysis/stats_repetition.h"
#include "switchyard/analysis/stats_router.h"
#include "switchyard/analysis/stats_tokens.h"

namespace sy::analysis {

struct StatsOptions {
    int64_t window_tokens = 4096;          // micro-batch window of the LBL (--window)
    ScoreFunction score = ScoreFunction::softmax;
    std::vector<std::string> domain_names; // names of the chunk's domain indices
    int64_t vocab_size = 0;                // V hint for the token table (0: grown on demand)
    std::vector<int> token_layers;         // MoE indices for top tokens; empty = automatic
    int64_t token_table_budget_bytes = int64_t(256) << 20;
    int top_tokens = 10;                   // tokens listed per expert
    int64_t min_token_count = 1;           // tokens seen fewer times are not listed
    int position_bucket_tokens = 256;
    int max_position_buckets = 16;
};

struct StatsResult {
    RoutingShape shape;
    int64_t tokens = 0;
    int64_t window_tokens = 0;
    bool has_router_scores = false;                 // router logits were present
    std::vector<LayerLoad> loads;                   // [Lm]
    std::vector<LayerRouterScores> router;          // [Lm] (empty without logits)
    DomainStats domains;
    TokenStats token_table;
    std::vector<LayerRepetition> repetition;        // [Lm]
    PositionStats positions;
};

// Thread: one thread at a time. add() validates each chunk (ShapeMismatch on bad ids); chunks
// must come in increasing token order, and may be of any size.
class StatsAccumulator {
public:
    StatsAccumulator(const RoutingShape& shape, const StatsOptions& options);
    ~StatsAccumulator();
    void add(const RoutingChunk& chunk);
    StatsResult finish() const;
    int64_t tokens() const { return m_tokens; }
    // Names of the chunk's domain indices when they are only known after the scan.
    void set_domain_names(std::vector<std::string> names) { m_options.domain_names = std::move(names); }

private:
    RoutingShape m_shape;
    StatsOptions m_options;
    int64_t m_tokens = 0;
    std::unique_ptr<LoadAccumulator> m_load;
    std::unique_ptr<RouterScoreAccumulator> m_router;
    std::unique_ptr<DomainAccumulator> m_domain;
    std::unique_ptr<TokenExpertAccumulator> m_token;
    std::unique_ptr<RepetitionAccumulator> m_repetition;
    std::unique_ptr<PositionAccumulator> m_position;
};

// JSON text; keys mirror the fields above (stats_json.cpp). token_strings: the trace's
// vocabulary for decoding top tokens (ids are always included; strings only where given).
std::string stats_to_json(const StatsResult& result, const std::vector<std::string>& token_strings, int indent = 2);
// Human-readable summary: one table row per layer, then domains, repetition, top tokens.
std::string stats_summary(const StatsResult& result, const std::vector<std::string>& token_strings);

}  // namespace sy::analysis
