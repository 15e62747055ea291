#pragma once
// Compares a run's routing and outputs with a fixture's goldens and reports the worst errors.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runner_fixtures.h"

namespace sy::test {

struct RoutingStats {
    int64_t pairs = 0;                 // token-layer pairs
    int64_t identical_sets = 0;
    int64_t clear_mismatches = 0;      // set differs although golden gap k/k+1 > gap_threshold
    int64_t order_mismatches = 0;      // order differs although our scores are > 1e-4 apart
    double max_logit_error = 0;        // router logits
    double mean_logit_error = 0;       // router logits, mean absolute error
    double max_weight_error = 0;       // gate weights, over tokens whose sets are identical
    double identical_fraction() const { return pairs ? double(identical_sets) / double(pairs) : 1.0; }
};

struct OutputStats {
    double max_logit_error = 0;        // final logits (random families) or last_logits
    double mean_logit_error = 0;       // same, mean absolute error
    double max_nll_error = 0;          // per token (trained fixtures)
    double mean_nll = 0;               // ours, over tokens with a target
};

// Gap between the k-th and (k+1)-th largest softmax probability of golden router logits.
inline double golden_gap(const float* logits, int64_t experts, int64_t k) {
    std::vector<double> p(logits, logits + experts);
    const double top = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (double& v : p) sum += (v = std::exp(v - top));
    std::sort(p.begin(), p.end(), std::greater<>());
    return k < experts ? (p[k - 1] - p[k]) / sum : 1.0;
}

inline void compare_token(const RecordedLayer& ours, const GoldenTensor& ids, const GoldenTensor& weights,
                          int64_t base, int64_t n, RoutingStats& s, bool& identical) {
    const int64_t k = ours.top_k;
    std::vector<int64_t> a(ours.ids.begin() + n * k, ours.ids.begin() + (n + 1) * k);
    std::vector<int64_t> b(ids.i64.begin() + base + n * k, ids.i64.begin() + base + (n + 1) * k);
    for (int64_t j = 0; j + 1 < k; ++j) {
        const float gap = ours.selection[n * ours.experts + a[j]] - ours.selection[n * ours.experts + a[j + 1]];
        if (gap > 1e-4f && a[j] != b[j]) ++s.order_mismatches;
    }
    std::vector<int64_t> sorted_a = a, sorted_b = b;
    std::sort(sorted_a.begin(), sorted_a.end()), std::sort(sorted_b.begin(), sorted_b.end());
    identical = sorted_a == sorted_b;
    if (!identical) return;   // weights of a different set are renormalised differently
    for (int64_t j = 0; j < k; ++j) {
        const auto slot = std::find(a.begin(), a.end(), b[j]) - a.begin();
        const double err = std::abs(ours.weights[n * k + slot] - weights.f32[base + n * k + j]);
        s.max_weight_error = std::max(s.max_weight_error, err);
    }
}

inline RoutingStats compare_routing(const std::vector<RecordedLayer>& layers, const Goldens& g, double gap_threshold) {
    RoutingStats s;
    double error_sum = 0;
    int64_t error_count = 0;
    const GoldenTensor &logits = g.at("router_logits"), &ids = g.at("topk_ids"), &weights = g.at("topk_weights");
    for (const RecordedLayer& ours : layers) {
        const int64_t n_tokens = ours.tokens, e = ours.experts, k = ours.top_k;
        const int64_t logit_base = ours.moe_index * n_tokens * e, id_base = ours.moe_index * n_tokens * k;
        for (int64_t i = 0; i < n_tokens * e; ++i) {
            const double err = std::abs(ours.logits[i] - logits.f32[logit_base + i]);
            s.max_logit_error = std::max(s.max_logit_error, err);
            error_sum += err, ++error_count;
        }
        for (int64_t n = 0; n < n_tokens; ++n) {
            bool identical = false;
            compare_token(ours, ids, weights, id_base, n, s, identical);
            ++s.pairs;
            s.identical_sets += identical;
            if (!identical && golden_gap(logits.f32.data() + logit_base + n * e, e, k) > gap_threshold) ++s.clear_mismatches;
        }
    }
    s.mean_logit_error = error_count ? error_sum / double(error_count) : 0.0;
    return s;
}

// Max absolute difference; adds to `sum` / `count` for a mean.
inline double max_abs_diff(const float* a, const float* b, int64_t count, double& sum, int64_t& counted) {
    double worst = 0;
    for (int64_t i = 0; i < count; ++i) {
        const double err = std::abs(a[i] - b[i]);
        worst = std::max(worst, err), sum += err;
    }
    counted += count;
    return worst;
}

inline OutputStats compare_outputs(const BatchOutput& out, const Goldens& g) {
    OutputStats s;
    const GoldenTensor& ids = g.at("input_ids");
    const int64_t rows = ids.shape[0], t = ids.shape[1], v = out.vocab_size;
    double error_sum = 0;
    int64_t error_count = 0;
    if (g.has("logits"))
        s.max_logit_error = max_abs_diff(out.logits.data(), g.at("logits").f32.data(), rows * t * v, error_sum, error_count);
    double sum = 0;
    int64_t count = 0;
    for (int64_t b = 0; b < rows; ++b) {
        for (int64_t p = 0; p + 1 < t; ++p) {
            const float nll = out.nll[b * t + p];
            sum += nll, ++count;
            if (g.has("nll")) s.max_nll_error = std::max(s.max_nll_error, double(std::abs(nll - g.at("nll").f32[b * (t - 1) + p])));
        }
        if (g.has("last_logits"))
            s.max_logit_error = std::max(s.max_logit_error, max_abs_diff(out.logits.data() + (b * t + t - 1) * v,
                                                                         g.at("last_logits").f32.data() + b * v, v,
                                                                         error_sum, error_count));
    }
    s.mean_nll = sum / double(count);
    s.mean_logit_error = error_count ? error_sum / double(error_count) : 0.0;
    return s;
}

}  // namespace sy::test
