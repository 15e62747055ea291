#include "switchyard/analysis/load_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sy::analysis {

double entropy_bits(const std::vector<double>& weights) {
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    if (total <= 0) return 0;
    double h = 0;
    for (double w : weights) {
        if (w > 0) h -= (w / total) * std::log2(w / total);
    }
    return h;
}

double total_variation(const std::vector<double>& p, const std::vector<double>& q) {
    const double sp = std::accumulate(p.begin(), p.end(), 0.0);
    const double sq = std::accumulate(q.begin(), q.end(), 0.0);
    if (sp <= 0 || sq <= 0 || p.size() != q.size()) return 0;
    double tv = 0;
    for (size_t i = 0; i < p.size(); ++i) tv += std::abs(p[i] / sp - q[i] / sq);
    return 0.5 * tv;
}

namespace {

double gini(std::vector<double> x, double total) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double acc = 0;
    for (size_t i = 0; i < x.size(); ++i) acc += (2.0 * static_cast<double>(i + 1) - n - 1.0) * x[i];
    return acc / (n * total);
}

}  // namespace

LoadMetrics load_metrics(const std::vector<double>& counts) {
    LoadMetrics m;
    m.total = std::accumulate(counts.begin(), counts.end(), 0.0);
    if (counts.empty() || m.total <= 0) return m;
    const double n = static_cast<double>(counts.size());
    const double mean = m.total / n;
    double var = 0;
    for (double c : counts) var += (c - mean) * (c - mean);
    m.cv = std::sqrt(var / n) / mean;
    m.entropy_bits = entropy_bits(counts);
    m.entropy_normalized = counts.size() > 1 ? m.entropy_bits / std::log2(n) : 1.0;
    m.gini = gini(counts, m.total);
    m.max_over_mean = *std::max_element(counts.begin(), counts.end()) / mean;
    m.max_vio = m.max_over_mean - 1.0;
    return m;
}

LoadMetrics load_metrics(const std::vector<int64_t>& counts) {
    return load_metrics(std::vector<double>(counts.begin(), counts.end()));
}

}  // namespace sy::analysis
