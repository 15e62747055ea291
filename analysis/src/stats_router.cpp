#include "switchyard/analysis/stats_router.h"

#include <algorithm>
#include <cmath>

#include "switchyard/core/errors.h"

namespace sy::analysis {

void router_probabilities(const float* logits, int experts, ScoreFunction fn, double* probs) {
    double total = 0;
    if (fn == ScoreFunction::softmax) {
        double top = -INFINITY;
        for (int e = 0; e < experts; ++e) top = std::max(top, static_cast<double>(logits[e]));
        for (int e = 0; e < experts; ++e) total += probs[e] = std::exp(static_cast<double>(logits[e]) - top);
    } else {
        for (int e = 0; e < experts; ++e) total += probs[e] = 1.0 / (1.0 + std::exp(-static_cast<double>(logits[e])));
    }
    for (int e = 0; e < experts; ++e) probs[e] /= total;
}

RouterScoreAccumulator::RouterScoreAccumulator(const RoutingShape& shape, ScoreFunction fn, int64_t window_tokens)
    : m_shape(shape), m_fn(fn), m_window(window_tokens) {
    SY_CHECK(window_tokens >= 1, UsageError, "--window must be at least 1 token");
    for (int e : shape.num_experts) {
        LayerState s;
        s.prob_sum.assign(static_cast<size_t>(e), 0.0);
        s.count.assign(static_cast<size_t>(e), 0);
        s.window_prob_sum.assign(static_cast<size_t>(e), 0.0);
        s.window_count.assign(static_cast<size_t>(e), 0);
        m_layers.push_back(std::move(s));
    }
}

// E * sum_e f_e P_e of the open window, f_e = c_e / (k T_w), P_e = mean prob over the window.
double RouterScoreAccumulator::window_lbl(const LayerState& s, int k) {
    const double tokens = static_cast<double>(s.window_tokens);
    double acc = 0;
    for (size_t e = 0; e < s.window_count.size(); ++e) {
        acc += (static_cast<double>(s.window_count[e]) / (k * tokens)) * (s.window_prob_sum[e] / tokens);
    }
    return static_cast<double>(s.window_count.size()) * acc;
}

void RouterScoreAccumulator::close_windows() {
    for (LayerState& s : m_layers) {
        if (s.window_tokens == 0) continue;
        s.lbl_windows.push_back(window_lbl(s, m_shape.top_k));
        std::fill(s.window_prob_sum.begin(), s.window_prob_sum.end(), 0.0);
        std::fill(s.window_count.begin(), s.window_count.end(), 0);
        s.window_tokens = 0;
    }
}

void RouterScoreAccumulator::add_token(int l, const float* logits, const int16_t* ids, std::vector<double>& probs) {
    LayerState& s = m_layers[l];
    const int experts = m_shape.num_experts[l];
    router_probabilities(logits, experts, m_fn, probs.data());
    double h = 0;
    for (int e = 0; e < experts; ++e) {
        if (probs[e] > 0) h -= probs[e] * std::log2(probs[e]);
        s.prob_sum[e] += probs[e];
        s.window_prob_sum[e] += probs[e];
    }
    double mass = 0;
    for (int j = 0; j < m_shape.top_k; ++j) {
        mass += probs[ids[j]];
        ++s.count[ids[j]];
        ++s.window_count[ids[j]];
    }
    s.entropy_sum += h;
    s.mass_sum += mass;
    ++s.window_tokens;
}

void RouterScoreAccumulator::add(const RoutingChunk& chunk) {
    if (!chunk.router_logits || chunk.n == 0) return;
    SY_CHECK(chunk.first_token >= m_next_token, UsageError,
             "router statistics need chunks in increasing token order");
    std::vector<double> probs(static_cast<size_t>(m_shape.max_experts()));
    for (int64_t t = 0; t < chunk.n; ++t) {
        const int64_t window = (chunk.first_token + t) / m_window;
        if (window != m_current_window) {
            close_windows();
            m_current_window = window;
        }
        for (int l = 0; l < m_shape.layer_count(); ++l) {
            add_token(l, chunk.logits(m_shape, l, t), chunk.ids(m_shape, l, t), probs);
        }
    }
    m_tokens += chunk.n;
    m_next_token = chunk.first_token + chunk.n;
}

std::vector<LayerRouterScores> RouterScoreAccumulator::finish() const {
    RouterScoreAccumulator closed = *this;   // finish() is const: close the open window on a copy
    closed.close_windows();
    std::vector<LayerRouterScores> out;
    const double tokens = static_cast<double>(m_tokens);
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const LayerState& s = closed.m_layers[l];
        const int experts = m_shape.num_experts[l];
        LayerRouterScores r;
        r.layer = m_shape.moe_layers[l];
        r.tokens = m_tokens;
        r.uniform_topk_mass = static_cast<double>(m_shape.top_k) / experts;
        r.lbl_windows = s.lbl_windows;
        if (m_tokens > 0) {
            r.mean_entropy_bits = s.entropy_sum / tokens;
            r.mean_entropy_normalized = experts > 1 ? r.mean_entropy_bits / std::log2(experts) : 0.0;
            r.topk_score_mass = s.mass_sum / tokens;
            double lbl = 0;
            for (int e = 0; e < experts; ++e) {
                r.mean_probs.push_back(s.prob_sum[e] / tokens);
                lbl += (static_cast<double>(s.count[e]) / (m_shape.top_k * tokens)) * r.mean_probs.back();
            }
            r.lbl_global = experts * lbl;
        }
        double micro = 0;
        for (double v : r.lbl_windows) micro += v;
        r.lbl_micro_mean = r.lbl_windows.empty() ? 0.0 : micro / static_cast<double>(r.lbl_windows.size());
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace sy::analysis
