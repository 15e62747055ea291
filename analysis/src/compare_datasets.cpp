// Different data on one model: load and affinity deltas.
#include <algorithm>
#include <cmath>

#include "switchyard/analysis/compare.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {

DatasetComparison compare_loads(const std::vector<LayerLoad>& a, const std::vector<LayerLoad>& b) {
    SY_CHECK(a.size() == b.size(), UsageError, "compare: the traces have different numbers of MoE layers");
    DatasetComparison out;
    for (size_t l = 0; l < a.size(); ++l) {
        SY_CHECK(a[l].layer == b[l].layer && a[l].counts.size() == b[l].counts.size(), UsageError,
                 "compare: MoE layer " + std::to_string(l) + " differs between the traces");
        LoadDelta d;
        d.layer = a[l].layer;
        d.fractions_a = a[l].fractions;
        d.fractions_b = b[l].fractions;
        for (size_t e = 0; e < d.fractions_a.size(); ++e) {
            d.delta.push_back(d.fractions_b[e] - d.fractions_a[e]);
            d.tv += 0.5 * std::abs(d.delta.back());
        }
        d.metrics_a = a[l].metrics;
        d.metrics_b = b[l].metrics;
        out.loads.push_back(std::move(d));
    }
    return out;
}

namespace {

AffinityDelta pair_delta(const AffinityPair& a, const AffinityPair& b) {
    AffinityDelta d;
    d.from_layer = a.from_layer;
    d.to_layer = a.to_layer;
    d.mutual_information_a = a.mutual_information;
    d.mutual_information_b = b.mutual_information;
    double mass_total = 0, weighted = 0;
    for (int i = 0; i < a.from_experts; ++i) {
        double mass_a = 0, mass_b = 0, tv = 0;
        for (int j = 0; j < a.to_experts; ++j) {
            const double delta = b.prob(i, j) - a.prob(i, j);
            d.delta.push_back(delta);
            d.max_abs_delta = std::max(d.max_abs_delta, std::abs(delta));
            mass_a += a.count(i, j);
            mass_b += b.count(i, j);
            tv += 0.5 * std::abs(delta);
        }
        if (mass_a <= 0 || mass_b <= 0) continue;
        // Weight: the row's count in both traces together.
        const double mass = mass_a + mass_b;
        mass_total += mass;
        weighted += mass * tv;
    }
    d.conditional_tv = mass_total > 0 ? weighted / mass_total : 0.0;
    return d;
}

}  // namespace

void compare_affinity(const AffinityResult& a, const AffinityResult& b, DatasetComparison& out) {
    SY_CHECK(a.convention == b.convention && a.hops == b.hops, UsageError,
             "compare: affinity results use different conventions or hops");
    SY_CHECK(a.pairs.size() == b.pairs.size(), UsageError, "compare: the traces have different MoE layers");
    out.convention = convention_name(a.convention);
    out.hops = a.hops;
    for (size_t p = 0; p < a.pairs.size(); ++p) {
        SY_CHECK(a.pairs[p].from_experts == b.pairs[p].from_experts && a.pairs[p].to_experts == b.pairs[p].to_experts,
                 UsageError, "compare: expert counts differ between the traces");
        out.affinity.push_back(pair_delta(a.pairs[p], b.pairs[p]));
    }
}

}  // namespace sy::analysis
