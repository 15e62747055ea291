#pragma once
// `switchyard compare`. Two traces of the same tokens (two checkpoints, dtypes
// or devices): per-layer routing agreement, per-expert load drift, the tokens whose routes
// changed most (OLMoE "router saturation", analysis.md 2.8; 2.11 row 10). Two traces of
// different data on one model: load and affinity deltas from their stats / affinity results.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/load_metrics.h"
#include "switchyard/analysis/routing_chunk.h"
#include "switchyard/analysis/stats_load.h"

namespace sy::analysis {

struct LayerAgreement {
    int layer = 0;                       // model-layer index
    double topk_overlap = 0;             // mean_t |S_a ∩ S_b| / k
    double topk_set_equal = 0;           // share of tokens with S_a == S_b (as sets)
    double first_choice = 0;             // share with the same first choice
    std::vector<int64_t> counts_a, counts_b;   // [E_l] c[l,e]
    std::vector<double> drift;           // [E_l] f_b - f_a (f = c / (k T))
    double load_tv = 0;                  // 0.5 sum |f_b - f_a|
};

struct ChangedToken {
    int64_t token = 0;                   // global token index
    int32_t token_id = 0, doc = 0, pos = 0;
    double changed = 0;                  // mean over layers of 1 - |S_a ∩ S_b| / k
    int first_choice_changes = 0;        // layers whose first choice differs
};

struct CompareResult {
    RoutingShape shape;
    int64_t tokens = 0;
    std::vector<LayerAgreement> layers;  // [Lm]
    double topk_overlap = 0;             // means over layers
    double first_choice = 0;
    // Tokens with any change, by `changed` descending, then first_choice_changes descending,
    // then token index.
    std::vector<ChangedToken> most_changed;
};

// Thread: one thread at a time. Both traces must have the same routing shape (UsageError).
class CompareAccumulator {
public:
    CompareAccumulator(const RoutingShape& a, const RoutingShape& b, int most_changed);
    // Same token range in both; token ids must match (UsageError naming the first difference).
    void add(const RoutingChunk& a, const RoutingChunk& b);
    CompareResult finish() const;

private:
    void keep_changed(const ChangedToken& t);

    RoutingShape m_shape;
    int m_keep;
    int64_t m_tokens = 0;
    std::vector<double> m_overlap, m_equal, m_first;             // [Lm] sums
    std::vector<std::vector<int64_t>> m_counts_a, m_counts_b;    // [Lm][E_l]
    std::vector<ChangedToken> m_heap;                            // min-heap of the kept tokens
};

// --- different data, same model ---
struct LoadDelta {
    int layer = 0;
    std::vector<double> fractions_a, fractions_b, delta;   // [E_l]; delta = b - a
    double tv = 0;                                         // 0.5 sum |delta|
    LoadMetrics metrics_a, metrics_b;
};
struct AffinityDelta {
    int from_layer = 0, to_layer = 0;
    std::vector<double> delta;           // [E_from, E_to] conditional_b - conditional_a
    double conditional_tv = 0;           // row TV, weighted by the rows' combined mass; rows empty
                                         // in either trace are skipped
    double max_abs_delta = 0;
    double mutual_information_a = 0, mutual_information_b = 0;
};
struct DatasetComparison {
    std::vector<LoadDelta> loads;
    std::vector<AffinityDelta> affinity;   // empty unless both affinity results are given
    std::string convention;
    int hops = 0;
};
// UsageError when the shapes (or the affinity convention / hops) differ.
DatasetComparison compare_loads(const std::vector<LayerLoad>& a, const std::vector<LayerLoad>& b);
void compare_affinity(const AffinityResult& a, const AffinityResult& b, DatasetComparison& out);

std::string compare_to_json(const CompareResult& result, const std::vector<std::string>& token_strings, int indent = 2);
std::string compare_summary(const CompareResult& result, const std::vector<std::string>& token_strings);
std::string dataset_comparison_to_json(const DatasetComparison& result, int indent = 2);
std::string dataset_comparison_summary(const DatasetComparison& result);

}  // namespace sy::analysis
