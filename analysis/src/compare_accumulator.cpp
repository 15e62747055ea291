#include <algorithm>
#include <cmath>

#include "switchyard/analysis/compare.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {

namespace {

void check_same_shape(const RoutingShape& a, const RoutingShape& b) {
    SY_CHECK(a.moe_layers == b.moe_layers, UsageError, "compare: the traces have different MoE layers");
    SY_CHECK(a.num_experts == b.num_experts, UsageError, "compare: the traces have different expert counts");
    SY_CHECK(a.top_k == b.top_k, UsageError,
             "compare: top-k differs (" + std::to_string(a.top_k) + " vs " + std::to_string(b.top_k) + ")");
}

// |S_a ∩ S_b| for two k-lists of distinct ids.
int overlap(const int16_t* a, const int16_t* b, int k) {
    int n = 0;
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) n += a[i] == b[j];
    return n;
}

// Heap order: the top is the token to drop first (least changed, fewest first-choice changes,
// then latest).
bool kept_before(const ChangedToken& x, const ChangedToken& y) {
    if (x.changed != y.changed) return x.changed > y.changed;
    if (x.first_choice_changes != y.first_choice_changes) return x.first_choice_changes > y.first_choice_changes;
    return x.token < y.token;
}

}  // namespace

CompareAccumulator::CompareAccumulator(const RoutingShape& a, const RoutingShape& b, int most_changed)
    : m_shape(a), m_keep(most_changed) {
    validate_shape(a);
    check_same_shape(a, b);
    const size_t layers = a.moe_layers.size();
    m_overlap.assign(layers, 0.0);
    m_equal.assign(layers, 0.0);
    m_first.assign(layers, 0.0);
    for (int e : a.num_experts) {
        m_counts_a.emplace_back(static_cast<size_t>(e), 0);
        m_counts_b.emplace_back(static_cast<size_t>(e), 0);
    }
}

void CompareAccumulator::keep_changed(const ChangedToken& t) {
    if (m_keep <= 0 || (t.changed <= 0 && t.first_choice_changes == 0)) return;
    if (static_cast<int>(m_heap.size()) < m_keep) {
        m_heap.push_back(t);
        std::push_heap(m_heap.begin(), m_heap.end(), kept_before);
    } else if (kept_before(t, m_heap.front())) {
        std::pop_heap(m_heap.begin(), m_heap.end(), kept_before);
        m_heap.back() = t;
        std::push_heap(m_heap.begin(), m_heap.end(), kept_before);
    }
}

void CompareAccumulator::add(const RoutingChunk& a, const RoutingChunk& b) {
    SY_CHECK(a.first_token == b.first_token && a.n == b.n, UsageError, "compare: chunks cover different tokens");
    validate_chunk(m_shape, a);
    validate_chunk(m_shape, b);
    const int k = m_shape.top_k, layers = m_shape.layer_count();
    for (int64_t t = 0; t < a.n; ++t) {
        if (a.token_ids[t] != b.token_ids[t]) {
            throw UsageError("compare: the traces hold different tokens (token " + std::to_string(a.first_token + t) +
                             ": id " + std::to_string(a.token_ids[t]) + " vs " + std::to_string(b.token_ids[t]) +
                             "); use --datasets to compare traces of different data");
        }
        ChangedToken changed{a.first_token + t, a.token_ids[t], a.doc[t], a.pos[t], 0.0, 0};
        for (int l = 0; l < layers; ++l) {
            const int16_t* sa = a.ids(m_shape, l, t);
            const int16_t* sb = b.ids(m_shape, l, t);
            const int common = overlap(sa, sb, k);
            m_overlap[l] += static_cast<double>(common) / k;
            m_equal[l] += common == k;
            m_first[l] += sa[0] == sb[0];
            changed.first_choice_changes += sa[0] != sb[0];
            changed.changed += 1.0 - static_cast<double>(common) / k;
            for (int j = 0; j < k; ++j) {
                ++m_counts_a[l][sa[j]];
                ++m_counts_b[l][sb[j]];
            }
        }
        changed.changed /= layers;
        keep_changed(changed);
    }
    add_losses(a, b);
    m_tokens += a.n;
}

void CompareAccumulator::add_losses(const RoutingChunk& a, const RoutingChunk& b) {
    if (a.nll == nullptr || b.nll == nullptr) return;
    for (int64_t t = 0; t < a.n; ++t) {
        if (!std::isfinite(a.nll[t]) || !std::isfinite(b.nll[t])) continue;
        const std::size_t slot = a.domain != nullptr && a.domain[t] >= 0 ? static_cast<std::size_t>(a.domain[t]) + 1 : 0;
        if (slot >= m_losses.size()) m_losses.resize(slot + 1);
        ++m_losses[slot].tokens;
        m_losses[slot].a += a.nll[t];
        m_losses[slot].b += b.nll[t];
    }
}

std::vector<DomainLoss> loss_rows(const CompareResult& result) {
    if (result.all.tokens == 0) return {};
    std::vector<DomainLoss> rows = result.domains;
    rows.push_back(result.all);
    return rows;
}

CompareResult CompareAccumulator::finish() const {
    CompareResult r;
    r.shape = m_shape;
    r.tokens = m_tokens;
    const double tokens = static_cast<double>(m_tokens), slots = tokens * m_shape.top_k;
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        LayerAgreement g;
        g.layer = m_shape.moe_layers[l];
        g.counts_a = m_counts_a[l];
        g.counts_b = m_counts_b[l];
        if (m_tokens > 0) {
            g.topk_overlap = m_overlap[l] / tokens;
            g.topk_set_equal = m_equal[l] / tokens;
            g.first_choice = m_first[l] / tokens;
            for (size_t e = 0; e < g.counts_a.size(); ++e) {
                g.drift.push_back((g.counts_b[e] - g.counts_a[e]) / slots);
                g.load_tv += 0.5 * std::abs(g.drift.back());
            }
        }
        r.topk_overlap += g.topk_overlap / m_shape.layer_count();
        r.first_choice += g.first_choice / m_shape.layer_count();
        r.layers.push_back(std::move(g));
    }
    r.most_changed = m_heap;
    std::sort(r.most_changed.begin(), r.most_changed.end(), kept_before);
    auto loss = [](std::string name, int64_t tokens, double a, double b) {
        const double n = tokens > 0 ? static_cast<double>(tokens) : std::nan("");
        return DomainLoss{std::move(name), tokens, a / n, b / n};
    };
    LossSums all;
    for (std::size_t slot = 0; slot < m_losses.size(); ++slot) {
        const LossSums& s = m_losses[slot];
        all.tokens += s.tokens, all.a += s.a, all.b += s.b;
        if (s.tokens == 0) continue;
        const std::size_t d = slot - 1;
        std::string name = slot == 0 ? std::string() : d < m_domain_names.size() ? m_domain_names[d] : "domain " + std::to_string(d);
        r.domains.push_back(loss(name.empty() ? "(none)" : std::move(name), s.tokens, s.a, s.b));
    }
    // Domains in order of first appearance, records without one last.
    if (!r.domains.empty() && m_losses[0].tokens > 0) std::rotate(r.domains.begin(), r.domains.begin() + 1, r.domains.end());
    r.all = loss("all", all.tokens, all.a, all.b);
    return r;
}

}  // namespace sy::analysis
