// Text views of whole matrices for terminals and docs/analysis.md: the
// domain x expert table per layer (Mixtral's domain-assignment figure, analysis.md 2.5) and the
// affinity heat map (ExFlow's conditional-probability heat map, analysis.md 1.1). ASCII only, so
// the output pastes into Markdown unchanged.
#include <algorithm>

#include "switchyard/analysis/text_views.h"
#include "text_util.h"

namespace sy::analysis {

using text_util::appendf;

namespace {

// One shade per tenth of `scale`: ' ' (0) ... '@' (>= 0.9 scale).
char shade(double value, double scale) {
    static const char ramp[] = " .:-=+*#%@";
    const int i = scale > 0 ? static_cast<int>(value / scale * 10) : 0;
    return ramp[std::clamp(i, 0, 9)];
}

void expert_header(std::string& out, const char* corner, int experts) {
    appendf(out, "%-14s", corner);
    for (int e = 0; e < experts; ++e) appendf(out, " %5s", ("e" + std::to_string(e)).c_str());
    appendf(out, "\n");
}

}  // namespace

std::string domain_expert_tables(const StatsResult& r) {
    std::string out;
    const DomainStats& d = r.domains;
    if (d.names.empty()) return "no domains in this trace (records without \"domain\")\n";
    const double k = std::max(1, r.shape.top_k);
    appendf(out, "share of each domain's routing slots per expert, %% (k = %d slots per token; uniform = %.1f%%);\n"
                 "shade: share / (2 x uniform), '@' = twice uniform or more\n",
            r.shape.top_k, 100.0 / std::max(1, r.shape.max_experts()));
    for (std::size_t l = 0; l < d.layers.size(); ++l) {
        const DomainLayerStats& s = d.layers[l];
        const int experts = static_cast<int>(r.loads[l].counts.size());
        const double uniform = 1.0 / experts;
        appendf(out, "\nlayer %d\n", s.layer);
        expert_header(out, "domain", experts);
        for (std::size_t i = 0; i < d.names.size(); ++i) {
            appendf(out, "%-14.14s", d.names[i].c_str());
            for (int e = 0; e < experts; ++e) {
                const double share = s.frequency[i][e] / k;
                appendf(out, " %4.1f%c", 100 * share, shade(share, 2 * uniform));
            }
            appendf(out, "   (%lld tokens, specialisation %.3f)\n", static_cast<long long>(d.tokens[i]),
                    s.specialisation[i]);
        }
        appendf(out, "%-14s", "all");
        for (int e = 0; e < experts; ++e) {
            const double share = r.loads[l].fractions[e];
            appendf(out, " %4.1f%c", 100 * share, shade(share, 2 * uniform));
        }
        appendf(out, "\n");
    }
    return out;
}

std::string affinity_heatmaps(const AffinityResult& r) {
    std::string out;
    appendf(out, "P(expert j at the later layer | expert i at the earlier layer), %%; convention %s;\n"
                 "shade: probability, ' ' = 0 ... '@' >= 90%%; [n] = tokens (weight) leaving expert i\n",
            convention_name(r.convention).c_str());
    for (const AffinityPair& p : r.pairs) {
        appendf(out, "\nlayer %d -> layer %d   (MI %.3f of H %.3f bits)\n", p.from_layer, p.to_layer,
                p.mutual_information, p.entropy_to);
        expert_header(out, "from \\ to", p.to_experts);
        for (int i = 0; i < p.from_experts; ++i) {
            double row = 0;
            for (int j = 0; j < p.to_experts; ++j) row += p.count(i, j);
            appendf(out, "e%-3d %9s", i, ("[" + std::to_string(static_cast<long long>(row + 0.5)) + "]").c_str());
            for (int j = 0; j < p.to_experts; ++j) appendf(out, " %4.0f%c", 100 * p.prob(i, j), shade(p.prob(i, j), 1.0));
            appendf(out, "\n");
        }
    }
    return out;
}

}  // namespace sy::analysis
