// JSON and text forms of AffinityResult. JSON shape (documented in README's `affinity`):
// {"convention", "hops", "pairs": [{"from_layer", "to_layer", "counts", "conditional",
//  "mutual_information", ...}]} with model-layer indices.
#include "json_util.h"
#include "switchyard/analysis/affinity.h"
#include "text_util.h"

namespace sy::analysis {

using json_util::json;

namespace {

// [rows][cols] nested arrays; integers unless the counts are weighted.
json nested(const std::vector<double>& m, int rows, int cols, bool integral) {
    json out = json::array();
    for (int i = 0; i < rows; ++i) {
        json row = json::array();
        for (int j = 0; j < cols; ++j) {
            const double v = m[static_cast<size_t>(i) * cols + j];
            if (integral) row.push_back(static_cast<int64_t>(v));
            else row.push_back(v);
        }
        out.push_back(std::move(row));
    }
    return out;
}

json pair_json(const AffinityResult& r, const AffinityPair& p) {
    const bool integral = r.convention != AffinityConvention::weighted;
    json j = {{"from_layer", p.from_layer},
              {"to_layer", p.to_layer},
              {"from_moe_index", p.from_moe},
              {"to_moe_index", p.to_moe},
              {"counts", nested(p.counts, p.from_experts, p.to_experts, integral)},
              {"conditional", nested(p.conditional, p.from_experts, p.to_experts, false)},
              {"mutual_information", p.mutual_information},
              {"entropy_to", p.entropy_to},
              {"entropy_from", p.entropy_from},
              {"row_max_mean", p.row_max_mean},
              {"top_m", p.top_m},
              {"top_m_mass", p.top_m_mass}};
    if (!p.markov.empty()) {
        j["markov_prediction"] = nested(p.markov, p.from_experts, p.to_experts, false);
        j["markov_gap_tv"] = p.markov_gap_tv;
        j["markov_gap_tv_max"] = p.markov_gap_tv_max;
    }
    return j;
}

}  // namespace

std::string affinity_to_json(const AffinityResult& r, int indent) {
    json pairs = json::array();
    for (const AffinityPair& p : r.pairs) pairs.push_back(pair_json(r, p));
    json j = {{"convention", convention_name(r.convention)},
              {"hops", r.hops},
              {"tokens", r.tokens},
              {"information_units", "bits"},
              {"markov_gap", "total variation, row-weighted mean"},
              {"pairs", std::move(pairs)}};
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string affinity_summary(const AffinityResult& r) {
    using text_util::appendf;
    std::string out;
    appendf(out, "%lld tokens, convention %s, %d hop(s): P(expert j at layer l+h | expert i at layer l)\n",
            static_cast<long long>(r.tokens), convention_name(r.convention).c_str(), r.hops);
    appendf(out, "%6s %6s %9s %9s %7s %8s %10s", "from", "to", "MI(bits)", "H(to)", "MI/H", "row-max",
            ("top-" + std::to_string(r.pairs.empty() ? 1 : r.pairs[0].top_m) + "-mass").c_str());
    if (r.hops > 1) appendf(out, " %10s", "markov-TV");
    appendf(out, "\n");
    for (const AffinityPair& p : r.pairs) {
        appendf(out, "%6d %6d %9.4f %9.4f %7.3f %8.3f %10.3f", p.from_layer, p.to_layer, p.mutual_information,
                p.entropy_to, p.entropy_to > 0 ? p.mutual_information / p.entropy_to : 0.0, p.row_max_mean,
                p.top_m_mass);
        if (r.hops > 1) appendf(out, " %10.4f", p.markov_gap_tv);
        appendf(out, "\n");
    }
    appendf(out, "row-max / top-m mass: token-weighted mean over source experts; markov-TV: total variation "
                 "between measured h-hop rows and chained one-hop prediction (--json for matrices)\n");
    return out;
}

}  // namespace sy::analysis
