#pragma once
// Load-imbalance metrics of one layer's expert counts (analysis.md 2.7). Pure functions.
#include <cstdint>
#include <vector>

namespace sy::analysis {

// Metrics of counts c[e] (e = 0..E-1). With mean = sum(c)/E:
//   entropy_bits      H(p), p = c / sum(c), in bits (0 log 0 = 0)
//   entropy_normalized H(p) / log2(E): 1 = perfectly even, 0 = one expert takes everything
//   cv                population std_e(c) / mean
//   gini              sum_i (2i - E - 1) x_(i) / (E sum x), x sorted ascending, i = 1..E
//   max_over_mean     max_e c / mean
//   max_vio           max_over_mean - 1 (DeepSeek's MaxVio, arXiv 2408.15664)
// All zero when sum(c) = 0.
struct LoadMetrics {
    double total = 0;
    double entropy_bits = 0;
    double entropy_normalized = 0;
    double cv = 0;
    double gini = 0;
    double max_over_mean = 0;
    double max_vio = 0;
};

LoadMetrics load_metrics(const std::vector<double>& counts);
LoadMetrics load_metrics(const std::vector<int64_t>& counts);

// Shannon entropy in bits of the distribution proportional to `weights` (need not sum to 1).
double entropy_bits(const std::vector<double>& weights);
// Total variation 0.5 * sum |p - q| between the normalisations of two weight vectors of equal
// size (0 when either sums to 0).
double total_variation(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace sy::analysis
