// Which experts a surgery trains, from one calibration pass (ExpertScores): UOE's affinity
// ranking and ESFT's per-layer selection (expert_training.h).
#include <algorithm>
#include <numeric>

#include "switchyard/core/errors.h"
#include "switchyard/editing/expert_training.h"

namespace sy {
namespace {

bool higher(const RankedExpert& a, const RankedExpert& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.layer != b.layer ? a.layer < b.layer : a.expert < b.expert;
}

}  // namespace

std::vector<RankedExpert> rank_by_affinity(const ExpertScores& scores) {
    std::vector<RankedExpert> out;
    for (const LayerExpertScores& l : scores.layers)
        for (int64_t e = 0; e < l.experts; ++e)
            out.push_back({l.layer, static_cast<int>(e), l.mean_prob.at(static_cast<std::size_t>(e))});
    std::sort(out.begin(), out.end(), higher);
    return out;
}

EsftScore parse_esft_score(const std::string& text) {
    if (text == "esft-gate") return EsftScore::gate;
    if (text == "esft-token") return EsftScore::token;
    throw UsageError("unknown ESFT score \"" + text + "\" (esft-gate or esft-token)");
}

// ESFT-Gate's average gate score (editing.md §4.1) is the gate mass over the tokens; ESFT-Token's
// token selection ratio is the share of top-k slots. Both are normalised within the layer: the
// released scorer normalised across layers, which editing.md §4.1 notes and corrects.
std::vector<RankedExpert> esft_select(const ExpertScores& scores, EsftScore score, double threshold) {
    SY_CHECK(threshold > 0 && threshold <= 1, UsageError,
             "--threshold must lie in (0, 1], found " + std::to_string(threshold));
    std::vector<RankedExpert> out;
    for (const LayerExpertScores& l : scores.layers) {
        std::vector<RankedExpert> layer;
        for (int64_t e = 0; e < l.experts; ++e) {
            const std::size_t i = static_cast<std::size_t>(e);
            layer.push_back({l.layer, static_cast<int>(e), score == EsftScore::gate ? l.gate_mass.at(i) : l.frequency.at(i)});
        }
        const double total = std::accumulate(layer.begin(), layer.end(), 0.0,
                                             [](double s, const RankedExpert& r) { return s + r.score; });
        if (total <= 0) continue;   // no token reached the layer
        for (RankedExpert& r : layer) r.score /= total;
        std::sort(layer.begin(), layer.end(), higher);
        double reached = 0;
        for (const RankedExpert& r : layer) {
            out.push_back(r);
            reached += r.score;
            if (reached >= threshold - 1e-12) break;
        }
    }
    return out;
}

}  // namespace sy
