// Derived affinity metrics: pure functions of count matrices (analysis.md 1.1 "Strength
// summaries" and "Multi-hop").
#include <algorithm>
#include <cmath>
#include <functional>

#include "switchyard/analysis/affinity.h"

namespace sy::analysis {

std::vector<double> row_normalize(const std::vector<double>& counts, int rows, int cols) {
    std::vector<double> out(counts.size(), 0.0);
    for (int i = 0; i < rows; ++i) {
        const double* row = counts.data() + static_cast<size_t>(i) * cols;
        double sum = 0;
        for (int j = 0; j < cols; ++j) sum += row[j];
        if (sum <= 0) continue;
        for (int j = 0; j < cols; ++j) out[static_cast<size_t>(i) * cols + j] = row[j] / sum;
    }
    return out;
}

namespace {

// Entropy in bits of a marginal given as unnormalised weights summing to `total`.
double marginal_entropy(const std::vector<double>& w, double total) {
    double h = 0;
    for (double v : w) {
        if (v > 0) h -= (v / total) * std::log2(v / total);
    }
    return h;
}

// Sum of the m largest entries of a row.
double top_sum(const double* row, int cols, int m) {
    std::vector<double> v(row, row + cols);
    m = std::min(m, cols);
    std::partial_sort(v.begin(), v.begin() + m, v.end(), std::greater<double>());
    double s = 0;
    for (int i = 0; i < m; ++i) s += v[i];
    return s;
}

void information(AffinityPair& p, const std::vector<double>& row_sum, const std::vector<double>& col_sum,
                 double total) {
    p.entropy_from = marginal_entropy(row_sum, total);
    p.entropy_to = marginal_entropy(col_sum, total);
    double mi = 0;
    for (int i = 0; i < p.from_experts; ++i) {
        for (int j = 0; j < p.to_experts; ++j) {
            const double n = p.count(i, j);
            if (n > 0) mi += (n / total) * std::log2(n * total / (row_sum[i] * col_sum[j]));
        }
    }
    p.mutual_information = std::max(0.0, mi);   // rounding can leave -1e-16
}

}  // namespace

void derive_pair_metrics(AffinityPair& p, int top_m) {
    const int rows = p.from_experts, cols = p.to_experts;
    p.conditional = row_normalize(p.counts, rows, cols);
    p.top_m = top_m;
    std::vector<double> row_sum(rows, 0.0), col_sum(cols, 0.0);
    double total = 0;
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            row_sum[i] += p.count(i, j);
            col_sum[j] += p.count(i, j);
        }
        total += row_sum[i];
    }
    if (total <= 0) return;
    information(p, row_sum, col_sum, total);
    p.row_max_mean = p.top_m_mass = 0;
    for (int i = 0; i < rows; ++i) {
        const double* a = p.conditional.data() + static_cast<size_t>(i) * cols;
        p.row_max_mean += row_sum[i] / total * *std::max_element(a, a + cols);
        p.top_m_mass += row_sum[i] / total * top_sum(a, cols, top_m);
    }
}

namespace {

// One-hop conditional with empty rows replaced by the column marginal (see affinity.h).
std::vector<double> step_matrix(const std::vector<double>& counts, int rows, int cols) {
    std::vector<double> a = row_normalize(counts, rows, cols);
    std::vector<double> marginal(cols, 0.0);
    double total = 0;
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) marginal[j] += counts[static_cast<size_t>(i) * cols + j];
    for (double v : marginal) total += v;
    for (int i = 0; i < rows; ++i) {
        double sum = 0;
        for (int j = 0; j < cols; ++j) sum += counts[static_cast<size_t>(i) * cols + j];
        if (sum > 0 || total <= 0) continue;
        for (int j = 0; j < cols; ++j) a[static_cast<size_t>(i) * cols + j] = marginal[j] / total;
    }
    return a;
}

}  // namespace

std::vector<double> markov_prediction(const std::vector<const std::vector<double>*>& one_hop_counts,
                                      const std::vector<int>& experts) {
    const int rows = experts.front();
    std::vector<double> m;   // [rows, experts[s]]
    for (size_t s = 0; s < one_hop_counts.size(); ++s) {
        const int inner = experts[s], cols = experts[s + 1];
        const std::vector<double> a = step_matrix(*one_hop_counts[s], inner, cols);
        if (s == 0) {
            m = a;
            continue;
        }
        std::vector<double> next(static_cast<size_t>(rows) * cols, 0.0);
        for (int i = 0; i < rows; ++i)
            for (int q = 0; q < inner; ++q) {
                const double w = m[static_cast<size_t>(i) * inner + q];
                if (w == 0) continue;
                double* out = next.data() + static_cast<size_t>(i) * cols;
                const double* step = a.data() + static_cast<size_t>(q) * cols;
                for (int j = 0; j < cols; ++j) out[j] += w * step[j];
            }
        m = std::move(next);
    }
    return m;
}

void row_total_variation(const std::vector<double>& measured, const std::vector<double>& predicted,
                         const std::vector<double>& counts, int rows, int cols, double& mean_out, double& max_out) {
    mean_out = max_out = 0;
    double total = 0, weighted = 0;
    for (int i = 0; i < rows; ++i) {
        double mass = 0, tv = 0;
        for (int j = 0; j < cols; ++j) {
            const size_t at = static_cast<size_t>(i) * cols + j;
            mass += counts[at];
            tv += std::abs(measured[at] - predicted[at]);
        }
        if (mass <= 0) continue;
        tv *= 0.5;
        total += mass;
        weighted += mass * tv;
        max_out = std::max(max_out, tv);
    }
    mean_out = total > 0 ? weighted / total : 0.0;
}

}  // namespace sy::analysis
