// Anchor layer grouping for the affinity heuristic: experts whose tokens come from and go to the
// same experts belong on one GPU, so group them by cosine similarity of their transition
// profiles (analysis.md 1.1 "Scaling note": a balanced, layered graph partition).
#include <algorithm>
#include <cmath>

#include "placement_internal.h"

namespace sy::analysis::placement_detail {

namespace {

// [E_a, F] L2-normalised profiles: outgoing shares to layer a+1, then incoming shares from a-1.
std::vector<std::vector<double>> profiles(const PlacementProblem& p, int a) {
    const int experts = p.shape.num_experts[a];
    std::vector<std::vector<double>> f(static_cast<size_t>(experts));
    if (a + 1 < p.shape.layer_count()) {
        for (int i = 0; i < experts; ++i)
            for (int j = 0; j < p.shape.num_experts[a + 1]; ++j) f[i].push_back(weight(p, a, i, j));
    }
    if (a > 0) {
        for (int i = 0; i < experts; ++i)
            for (int q = 0; q < p.shape.num_experts[a - 1]; ++q) f[i].push_back(weight(p, a - 1, q, i));
    }
    for (auto& row : f) {
        double norm = 0;
        for (double v : row) norm += v * v;
        if (norm > 0) {
            for (double& v : row) v /= std::sqrt(norm);
        }
    }
    return f;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

std::vector<int> similarity_groups(const PlacementProblem& p, int a, int gpus) {
    const int experts = p.shape.num_experts[a], cap = experts / gpus;
    const auto f = profiles(p, a);
    std::vector<std::vector<double>> sim(static_cast<size_t>(experts), std::vector<double>(experts, 0.0));
    for (int i = 0; i < experts; ++i)
        for (int j = i + 1; j < experts; ++j) sim[i][j] = sim[j][i] = dot(f[i], f[j]);
    std::vector<int> group(static_cast<size_t>(experts), -1);
    const std::vector<double>& load = p.loads[a];
    for (int g = 0; g < gpus; ++g) {
        std::vector<double> affinity(static_cast<size_t>(experts), 0.0);   // to the group so far
        for (int size = 0; size < cap; ++size) {
            int best = -1;
            for (int e = 0; e < experts; ++e) {
                if (group[e] >= 0) continue;
                // The first member is the heaviest free expert; then the most similar to the group.
                const bool better = best < 0 || affinity[e] > affinity[best] + 1e-12 ||
                                    (std::abs(affinity[e] - affinity[best]) <= 1e-12 && load[e] > load[best]);
                if (better) best = e;
            }
            group[best] = g;
            for (int e = 0; e < experts; ++e) affinity[e] += sim[e][best];
        }
    }
    return group;
}

}  // namespace sy::analysis::placement_detail
