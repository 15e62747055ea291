#pragma once
// Inter-layer expert affinity (ExFlow, analysis.md 1.1): counts N[i,j] of tokens
// at expert i of MoE layer l and expert j of MoE layer l+h, the conditional matrix
// A_{l,h}[i,j] = P(expert j at l+h | expert i at l), the Markov prediction from chained one-hop
// matrices, mutual information, and top-m row mass.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

// How top-k > 1 selections become expert pairs (analysis.md 1.1 "For top-k>1 models").
enum class AffinityConvention {
    first,       // first choice at l -> first choice at l+h: one pair per token (ExFlow)
    all_pairs,   // every (i in S_l, j in S_{l+h}): k*k pairs per token, each counted 1
    weighted,    // every pair, counted g[t,l,i] * g[t,l+h,j] (final gate weights)
};
std::string convention_name(AffinityConvention c);        // "first", "all-pairs", "weighted"
AffinityConvention parse_convention(const std::string& s);   // UsageError on anything else

struct AffinityOptions {
    AffinityConvention convention = AffinityConvention::first;
    int hops = 1;    // h >= 1
    int top_m = 1;   // m of the top-m row mass (m = experts per GPU is the placement-relevant one)
};

struct AffinityPair {
    int from_moe = 0, to_moe = 0;        // MoE indices (to_moe = from_moe + hops)
    int from_layer = 0, to_layer = 0;    // model-layer indices
    int from_experts = 0, to_experts = 0;
    std::vector<double> counts;          // [from_experts, to_experts] row-major N[i,j]
    // [from_experts, to_experts] N[i,j] / sum_j N[i,j]; rows with no tokens are all zero. For
    // all-pairs / weighted this is the share of expert-i tokens' (weighted) slots at to_layer
    // that go to j, so every non-empty row sums to 1 under all conventions.
    std::vector<double> conditional;
    double mutual_information = 0;       // I(e_l; e_l+h) in bits, from the joint N / sum N
    double entropy_to = 0;               // H(e_l+h) in bits (column marginal of the joint)
    double entropy_from = 0;             // H(e_l) in bits (row marginal)
    double row_max_mean = 0;             // sum_i pi_i max_j A[i,j], pi = row mass share
    int top_m = 0;
    double top_m_mass = 0;               // sum_i pi_i (sum of the m largest A[i,:])
    // hops > 1 only: Markov prediction M = A_l A_l+1 ... A_l+h-1 (one-hop conditionals; an
    // empty row of a one-hop matrix is replaced by that step's column marginal), and the gap to
    // the measured A_{l,h} as total variation 0.5 sum_j |A[i,j] - M[i,j]|: pi-weighted mean over
    // rows and the maximum over non-empty rows.
    std::vector<double> markov;          // [from_experts, to_experts] or empty
    double markov_gap_tv = 0;
    double markov_gap_tv_max = 0;

    double count(int i, int j) const { return counts[static_cast<size_t>(i) * to_experts + j]; }
    double prob(int i, int j) const { return conditional[static_cast<size_t>(i) * to_experts + j]; }
};

struct AffinityResult {
    RoutingShape shape;
    AffinityConvention convention = AffinityConvention::first;
    int hops = 1;
    int64_t tokens = 0;
    std::vector<AffinityPair> pairs;                   // (l, l+hops) for l = 0 .. Lm-1-hops
    std::vector<std::vector<double>> one_hop_counts;   // [Lm-1][E_l * E_l+1]; filled when hops > 1
    std::vector<std::vector<double>> loads;            // [Lm][E_l] c[l,e] over all k slots

    // One-hop counts of MoE layers (l, l+1), whichever member holds them.
    const std::vector<double>& transition_counts(int l) const;
};

// Thread: one thread at a time. Chunks in any order and of any size.
class AffinityAccumulator {
public:
    AffinityAccumulator(const RoutingShape& shape, const AffinityOptions& options);
    void add(const RoutingChunk& chunk);   // validates the chunk
    AffinityResult finish() const;

private:
    void add_pairs(const RoutingChunk& chunk, int from, int to, std::vector<double>& counts) const;

    RoutingShape m_shape;
    AffinityOptions m_options;
    int64_t m_tokens = 0;
    std::vector<std::vector<double>> m_hop;       // [Lm-h][E_l * E_l+h]
    std::vector<std::vector<double>> m_one_hop;   // [Lm-1] when hops > 1
    std::vector<std::vector<double>> m_loads;     // [Lm][E_l]
};

// --- pure helpers (affinity_metrics.cpp) ---
// Row-normalised [rows, cols] counts (empty rows stay zero).
std::vector<double> row_normalize(const std::vector<double>& counts, int rows, int cols);
// Fills the derived fields of `pair` from its counts (conditional, MI, entropies, row mass).
void derive_pair_metrics(AffinityPair& pair, int top_m);
// Markov prediction A_0 A_1 ... A_{s-1} from s one-hop count matrices, matrix q being
// [experts[q], experts[q+1]] (experts has s+1 entries); result [experts[0], experts[s]].
std::vector<double> markov_prediction(const std::vector<const std::vector<double>*>& one_hop_counts,
                                      const std::vector<int>& experts);
// Row-weighted mean and max total variation between two [rows, cols] conditional matrices,
// weights = row sums of `counts`.
void row_total_variation(const std::vector<double>& measured, const std::vector<double>& predicted,
                         const std::vector<double>& counts, int rows, int cols, double& mean_out, double& max_out);

std::string affinity_to_json(const AffinityResult& result, int indent = 2);
std::string affinity_summary(const AffinityResult& result);

}  // namespace sy::analysis
