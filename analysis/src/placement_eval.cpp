// Placement evaluator (analysis.md 2.11 row 9): cross-GPU / cross-node transition rates, hop
// cost per token, per-GPU load and the GPU x GPU dispatch matrix.
#include <algorithm>

#include "placement_internal.h"

namespace sy::analysis {

using namespace placement_detail;

namespace {

std::vector<int> copies_of(const Placement& pl, int l, int e) {
    if (!pl.replicas.empty() && !pl.replicas[l][e].empty()) return pl.replicas[l][e];
    return {pl.gpu_of_expert[l][e]};
}

// Destination copies for a token on GPU `from` going to an expert with copies `to`: the same
// GPU if it holds one, else the copies on the same node, else all copies.
std::vector<int> destinations(const Placement& pl, int from, const std::vector<int>& to) {
    if (std::find(to.begin(), to.end(), from) != to.end()) return {from};
    std::vector<int> same_node;
    for (int g : to) {
        if (pl.node_of(g) == pl.node_of(from)) same_node.push_back(g);
    }
    return same_node.empty() ? to : same_node;
}

void add_transition(const Placement& pl, double w, const std::vector<int>& src, const std::vector<int>& dst,
                    PlacementEvaluation& ev, double& cross_gpu, double& cross_node, double& hops) {
    const double per_src = w / static_cast<double>(src.size());
    for (int a : src) {
        const std::vector<int> dests = destinations(pl, a, dst);
        const double share = per_src / static_cast<double>(dests.size());
        for (int b : dests) {
            ev.dispatch[a][b] += share;
            const int cost = pl.hop_cost(a, b);
            hops += share * cost;
            if (cost > 0) cross_gpu += share;
            if (cost > 1) cross_node += share;
        }
    }
}

void evaluate_loads(const PlacementProblem& p, const Placement& pl, PlacementEvaluation& ev) {
    double sum_mean = 0, sum_max = 0, ratio_sum = 0;
    for (int l = 0; l < p.shape.layer_count(); ++l) {
        std::vector<double> load(static_cast<size_t>(pl.gpus), 0.0);
        for (int e = 0; e < p.shape.num_experts[l]; ++e) {
            const std::vector<int> copies = copies_of(pl, l, e);
            for (int g : copies) load[g] += p.loads[l][e] / static_cast<double>(copies.size());
        }
        double total = 0, top = 0;
        for (double v : load) {
            total += v;
            top = std::max(top, v);
        }
        const double mean = total / pl.gpus;
        sum_mean += mean;
        sum_max += top;
        const double ratio = mean > 0 ? top / mean : 0.0;
        ratio_sum += ratio;
        ev.max_over_mean_load_worst = std::max(ev.max_over_mean_load_worst, ratio);
        ev.gpu_load.push_back(std::move(load));
    }
    ev.max_over_mean_load = p.shape.layer_count() ? ratio_sum / p.shape.layer_count() : 0.0;
    ev.balancedness = sum_max > 0 ? sum_mean / sum_max : 0.0;
}

}  // namespace

PlacementEvaluation evaluate_placement(const PlacementProblem& p, const Placement& pl) {
    PlacementEvaluation ev;
    ev.dispatch.assign(static_cast<size_t>(pl.gpus), std::vector<double>(static_cast<size_t>(pl.gpus), 0.0));
    double cross_gpu = 0, cross_node = 0, hops = 0;
    for (int l = 0; l + 1 < p.shape.layer_count(); ++l) {
        for (int i = 0; i < p.shape.num_experts[l]; ++i) {
            const std::vector<int> src = copies_of(pl, l, i);
            for (int j = 0; j < p.shape.num_experts[l + 1]; ++j) {
                const double w = weight(p, l, i, j);
                if (w == 0) continue;
                ev.transition_weight += w;
                add_transition(pl, w, src, copies_of(pl, l + 1, j), ev, cross_gpu, cross_node, hops);
            }
        }
    }
    if (ev.transition_weight > 0) {
        ev.cross_gpu_fraction = cross_gpu / ev.transition_weight;
        ev.cross_node_fraction = cross_node / ev.transition_weight;
        // Weight per layer pair = weight per token's transition; hops summed over the Lm-1 pairs.
        ev.hops_per_token = hops / (ev.transition_weight / (p.shape.layer_count() - 1));
    }
    evaluate_loads(p, pl, ev);
    return ev;
}

}  // namespace sy::analysis
