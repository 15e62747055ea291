// Human-readable `switchyard stats` output.
#include <algorithm>

#include "json_util.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/analysis/text_views.h"
#include "text_util.h"

namespace sy::analysis {

using text_util::appendf;

namespace {

void load_table(std::string& out, const StatsResult& r) {
    appendf(out, "%6s %7s %8s %6s %6s %8s %7s", "layer", "experts", "entropy", "CV", "Gini", "max/mean", "MaxVio");
    if (r.has_router_scores) appendf(out, " %8s %9s %8s %8s", "r-entr", "topk-mass", "LBL-glob", "LBL-micro");
    appendf(out, " %15s %15s\n", "rep-first(rand)", "rep-any(rand)");
    for (size_t l = 0; l < r.loads.size(); ++l) {
        const LayerLoad& a = r.loads[l];
        appendf(out, "%6d %7zu %8.3f %6.3f %6.3f %8.3f %7.3f", a.layer, a.counts.size(), a.metrics.entropy_normalized,
                a.metrics.cv, a.metrics.gini, a.metrics.max_over_mean, a.metrics.max_vio);
        if (r.has_router_scores) {
            const LayerRouterScores& s = r.router[l];
            appendf(out, " %8.3f %4.3f/%4.2f %8.4f %8.4f", s.mean_entropy_normalized, s.topk_score_mass,
                    s.uniform_topk_mass, s.lbl_global, s.lbl_micro_mean);
        }
        const LayerRepetition& p = r.repetition[l];
        appendf(out, "   %5.1f%% (%4.1f%%)   %5.1f%% (%4.1f%%)\n", 100 * p.all.same_first_fraction(),
                100 * p.baseline_same_first, 100 * p.all.any_shared_fraction(), 100 * p.baseline_any_shared);
    }
    appendf(out, "entropy: load entropy / log2(E); r-entr: mean router entropy / log2(E); "
                 "LBL = E*sum(f*P), 1 = balanced\n");
}

void domain_table(std::string& out, const StatsResult& r) {
    const DomainStats& d = r.domains;
    if (d.names.empty()) return;
    appendf(out, "\nspecialisation per domain (total variation from all labelled tokens; 0 = none):\n%-20s %10s",
            "domain", "tokens");
    for (const auto& layer : d.layers) appendf(out, " %6s", ("L" + std::to_string(layer.layer)).c_str());
    appendf(out, "\n");
    for (size_t i = 0; i < d.names.size(); ++i) {
        appendf(out, "%-20.20s %10lld", d.names[i].c_str(), static_cast<long long>(d.tokens[i]));
        for (const auto& layer : d.layers) appendf(out, " %6.3f", layer.specialisation[i]);
        appendf(out, "\n");
    }
}

void token_table(std::string& out, const StatsResult& r, const std::vector<std::string>& strings) {
    constexpr size_t max_experts = 16, per_expert = 5;
    for (const TokenLayerStats& s : r.token_table.layers) {
        appendf(out, "\ntop tokens per expert, layer %d (count, lift; vocabulary specialisation %.3f):\n", s.layer,
                s.vocabulary_specialisation);
        for (size_t e = 0; e < std::min(max_experts, s.top_tokens.size()); ++e) {
            appendf(out, "  e%-3zu", e);
            for (size_t i = 0; i < std::min(per_expert, s.top_tokens[e].size()); ++i) {
                const TopToken& t = s.top_tokens[e][i];
                const std::string text = text_util::printable(json_util::token_text(strings, t.token_id));
                appendf(out, "  '%s'#%d(%lld, x%.1f)", text.c_str(), t.token_id, static_cast<long long>(t.count), t.lift);
            }
            appendf(out, "\n");
        }
        if (s.top_tokens.size() > max_experts) appendf(out, "  ... (%zu experts; --json lists all)\n", s.top_tokens.size());
    }
}

}  // namespace

std::string stats_summary(const StatsResult& r, const std::vector<std::string>& token_strings) {
    std::string out;
    appendf(out, "%lld tokens, %d MoE layers, top-%d%s\n", static_cast<long long>(r.tokens), r.shape.layer_count(),
            r.shape.top_k, r.has_router_scores ? "" : " (no router logits: LBL and router entropy skipped)");
    load_table(out, r);
    domain_table(out, r);
    token_table(out, r, token_strings);
    return out;
}

std::string top_tokens_summary(const StatsResult& r, const std::vector<std::string>& token_strings) {
    std::string out;
    token_table(out, r, token_strings);
    return out.empty() ? out : out.substr(1);   // without the blank line that separates sections
}

}  // namespace sy::analysis
