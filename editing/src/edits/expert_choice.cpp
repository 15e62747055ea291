#include "switchyard/editing/expert_choice.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "switchyard/core/errors.h"
#include "switchyard/core/model_config.h"

namespace sy {
namespace {

constexpr double k_neg_inf = -std::numeric_limits<double>::infinity();

double or_lowest(double value) { return std::isnan(value) ? k_neg_inf : value; }

// Experts per router group (1 group of E when the router has no group limit).
int64_t router_groups(const ModelDescription& d) {
    return d.family->uses_expert_groups() && d.n_group > 1 ? d.n_group : 1;
}

std::vector<int> lowest(const std::vector<double>& score, const std::vector<int>& candidates, int64_t n) {
    std::vector<int> order(candidates);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[size_t(a)] < score[size_t(b)]; });
    order.resize(static_cast<std::size_t>(n));
    std::sort(order.begin(), order.end());
    return order;
}

std::vector<double> random_scores(int64_t experts, uint64_t seed, int layer) {
    // mt19937_64 output is fixed by the standard (unlike its distributions): the same seed picks
    // the same experts on every platform.
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(layer));
    std::vector<double> out;
    for (int64_t e = 0; e < experts; ++e) out.push_back(static_cast<double>(rng() >> 11));
    return out;
}

double frequency_of(const LayerExpertScores* s, int e) { return s ? s->frequency[static_cast<std::size_t>(e)] : 0.0; }

MergeGroup make_group(std::vector<int> members, const LayerExpertScores* s, MergeWeights weights) {
    MergeGroup g;
    g.members = std::move(members);
    g.dominant = g.members.front();
    for (int e : g.members)
        if (frequency_of(s, e) > frequency_of(s, g.dominant)) g.dominant = e;
    double total = 0;
    for (int e : g.members) total += frequency_of(s, e);
    for (int e : g.members)
        g.weights.push_back(weights == MergeWeights::frequency && s && total > 0 ? frequency_of(s, e) / total
                                                                                 : 1.0 / double(g.members.size()));
    return g;
}

double distance(const std::vector<double>& means, int64_t hidden, int a, int b) {
    double sum = 0;
    for (int64_t h = 0; h < hidden; ++h) {
        const double d = means[size_t(a * hidden + h)] - means[size_t(b * hidden + h)];
        sum += d * d;
    }
    return std::sqrt(sum);
}

// Average linkage (HC-SMoE's default): the distance of two clusters is the mean pairwise
// distance of their members; merge the closest pair until `clusters` remain.
std::vector<std::vector<int>> average_linkage(const std::vector<int>& experts, const std::vector<double>& means,
                                              int64_t hidden, int64_t clusters) {
    std::vector<std::vector<int>> groups;
    for (int e : experts) groups.push_back({e});
    while (static_cast<int64_t>(groups.size()) > clusters) {
        double best = std::numeric_limits<double>::infinity();
        std::size_t bi = 0, bj = 1;
        for (std::size_t i = 0; i < groups.size(); ++i)
            for (std::size_t j = i + 1; j < groups.size(); ++j) {
                double sum = 0;
                for (int a : groups[i])
                    for (int b : groups[j]) sum += distance(means, hidden, a, b);
                const double mean = sum / double(groups[i].size() * groups[j].size());
                if (mean < best) best = mean, bi = i, bj = j;
            }
        groups[bi].insert(groups[bi].end(), groups[bj].begin(), groups[bj].end());
        std::sort(groups[bi].begin(), groups[bi].end());
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(bj));
    }
    return groups;
}

// MC-SMoE grouping: the `clusters` most frequent experts are centres; each other expert joins
// the centre whose router-logit column is most similar (cosine from the Gram matrix).
std::vector<std::vector<int>> dominant_grouping(const std::vector<int>& experts, const LayerExpertScores& s, int64_t clusters) {
    std::vector<int> order(experts);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return s.frequency[size_t(a)] > s.frequency[size_t(b)]; });
    std::vector<std::vector<int>> groups;
    for (int64_t c = 0; c < clusters; ++c) groups.push_back({order[size_t(c)]});
    const int64_t e_count = s.experts;
    auto gram = [&](int i, int j) { return s.router_logit_gram[size_t(i * e_count + j)]; };
    for (std::size_t k = static_cast<std::size_t>(clusters); k < order.size(); ++k) {
        const int e = order[k];
        std::size_t best = 0;
        double best_cos = -std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < groups.size(); ++c) {
            const int centre = groups[c].front();
            const double denom = std::sqrt(gram(e, e) * gram(centre, centre));
            const double cos = denom > 0 ? gram(e, centre) / denom : -1.0;
            if (cos > best_cos) best_cos = cos, best = c;
        }
        groups[best].push_back(e);
    }
    for (auto& g : groups) std::sort(g.begin(), g.end());
    return groups;
}

int64_t checked_removal(const ModelDescription& d, int64_t experts, const PruneChoice& c) {
    int64_t removed = 0;
    if (c.keep > 0) {
        SY_CHECK(c.keep < experts, UsageError,
                 "--keep " + std::to_string(c.keep) + ": the model has " + std::to_string(experts) + " experts per layer");
        removed = experts - c.keep;
    } else {
        SY_CHECK(c.ratio > 0 && c.ratio < 1, UsageError,
                 "--ratio must lie strictly between 0 and 1 (the fraction of each layer's experts removed), got " +
                     std::to_string(c.ratio));
        removed = static_cast<int64_t>(std::floor(double(experts) * c.ratio));
        SY_CHECK(removed > 0, UsageError,
                 "--ratio " + std::to_string(c.ratio) + " of " + std::to_string(experts) + " experts removes none (rounded down)");
    }
    SY_CHECK(experts - removed >= d.top_k, UsageError,
             "pruning " + std::to_string(removed) + " of " + std::to_string(experts) + " experts leaves fewer than top_k = " +
                 std::to_string(d.top_k));
    const int64_t groups = router_groups(d);
    SY_CHECK(removed % groups == 0, UsageError,
             "the router chooses among " + std::to_string(groups) + " expert groups (n_group) of equal size; removing " +
                 std::to_string(removed) + " experts cannot keep them equal: remove a multiple of " + std::to_string(groups));
    return removed;
}

}  // namespace

PruneMethod parse_prune_method(const std::string& text) {
    if (text == "reap") return PruneMethod::reap;
    if (text == "frequency") return PruneMethod::frequency;
    if (text == "ean") return PruneMethod::ean;
    if (text == "random") return PruneMethod::random;
    throw UsageError("--method " + text + ": expected reap, frequency, ean or random");
}

std::string prune_method_name(PruneMethod m) {
    switch (m) {
        case PruneMethod::reap: return "reap";
        case PruneMethod::frequency: return "frequency";
        case PruneMethod::ean: return "ean";
        case PruneMethod::random: return "random";
    }
    return "";
}

MergeMethod parse_merge_method(const std::string& text) {
    if (text == "hc-smoe") return MergeMethod::hc_smoe;
    if (text == "m-smoe") return MergeMethod::m_smoe;
    throw UsageError("--method " + text + ": expected hc-smoe or m-smoe");
}

std::string merge_method_name(MergeMethod m) { return m == MergeMethod::hc_smoe ? "hc-smoe" : "m-smoe"; }

MergeWeights parse_merge_weights(const std::string& text) {
    if (text == "frequency") return MergeWeights::frequency;
    if (text == "uniform") return MergeWeights::uniform;
    throw UsageError("--weights " + text + ": expected frequency or uniform");
}

std::vector<double> saliency(const LayerExpertScores& s, PruneMethod method) {
    std::vector<double> out;
    for (int64_t e = 0; e < s.experts; ++e) {
        const auto i = static_cast<std::size_t>(e);
        switch (method) {
            case PruneMethod::reap: out.push_back(or_lowest(s.reap[i])); break;
            case PruneMethod::ean: out.push_back(or_lowest(s.ean[i])); break;
            case PruneMethod::frequency: out.push_back(static_cast<double>(s.count[i])); break;
            case PruneMethod::random: out.push_back(0); break;
        }
    }
    return out;
}

void check_prune_choice(const ModelDescription& d, const PruneChoice& c) {
    for (int64_t experts : d.num_experts) checked_removal(d, experts, c);
}

void check_merge_keep(const ModelDescription& d, int64_t keep) {
    const int64_t groups = router_groups(d);
    for (int64_t experts : d.num_experts) {
        SY_CHECK(keep >= d.top_k && keep < experts, UsageError,
                 "--keep " + std::to_string(keep) + ": must be at least top_k = " + std::to_string(d.top_k) +
                     " and below the " + std::to_string(experts) + " experts per layer");
        SY_CHECK(keep % groups == 0, UsageError,
                 "--keep " + std::to_string(keep) + ": the router chooses among " + std::to_string(groups) +
                     " expert groups of equal size; keep a multiple of " + std::to_string(groups));
    }
}

ExpertsByLayer choose_pruned_experts(const ModelDescription& d, const ExpertScores* scores, const PruneChoice& c) {
    SY_CHECK(scores || c.method == PruneMethod::random, UsageError,
             "--method " + prune_method_name(c.method) + " needs calibration scores: give --data FILE or --scores SCORES.h5");
    ExpertsByLayer out;
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
        const int layer = d.moe_layers[i];
        const int64_t experts = d.num_experts[i];
        const int64_t removed = checked_removal(d, experts, c);
        const std::vector<double> score = c.method == PruneMethod::random ? random_scores(experts, c.seed, layer)
                                                                          : saliency(scores->layer(layer), c.method);
        const int64_t groups = router_groups(d), group_size = experts / groups;
        std::vector<int>& list = out[layer];
        for (int64_t g = 0; g < groups; ++g) {
            std::vector<int> candidates(static_cast<std::size_t>(group_size));
            std::iota(candidates.begin(), candidates.end(), static_cast<int>(g * group_size));
            for (int e : lowest(score, candidates, removed / groups)) list.push_back(e);
        }
        std::sort(list.begin(), list.end());
    }
    return out;
}

std::vector<MergeGroup> weigh_groups(const std::vector<std::vector<int>>& groups, const LayerExpertScores* s,
                                     MergeWeights weights) {
    std::vector<MergeGroup> out;
    for (const auto& members : groups) out.push_back(make_group(members, s, weights));
    return out;
}

std::map<int, std::vector<MergeGroup>> choose_merge_groups(const ModelDescription& d, const ExpertScores& scores,
                                                           MergeMethod method, int64_t keep, MergeWeights weights) {
    SY_CHECK(method != MergeMethod::hc_smoe || scores.output_tokens > 0, UsageError,
             "--method hc-smoe clusters the experts' mean outputs: the scores have none (score with --outputs N, or give --data)");
    check_merge_keep(d, keep);
    std::map<int, std::vector<MergeGroup>> out;
    const int64_t groups = router_groups(d);
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
        const int layer = d.moe_layers[i];
        const int64_t experts = d.num_experts[i];
        const LayerExpertScores& s = scores.layer(layer);
        const int64_t group_size = experts / groups;
        for (int64_t g = 0; g < groups; ++g) {
            std::vector<int> members(static_cast<std::size_t>(group_size));
            std::iota(members.begin(), members.end(), static_cast<int>(g * group_size));
            const auto clusters = method == MergeMethod::hc_smoe
                                      ? average_linkage(members, s.output_mean, scores.hidden_size, keep / groups)
                                      : dominant_grouping(members, s, keep / groups);
            for (const auto& cluster : clusters)
                if (cluster.size() >= 2) out[layer].push_back(make_group(cluster, &s, weights));
        }
    }
    return out;
}

}  // namespace sy
