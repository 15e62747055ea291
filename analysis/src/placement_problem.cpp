#include "placement_internal.h"
#include "hungarian.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {

using namespace placement_detail;

std::string placement_method_name(PlacementMethod m) {
    switch (m) {
        case PlacementMethod::contiguous: return "contiguous";
        case PlacementMethod::affinity: return "affinity";
        case PlacementMethod::balanced: return "balanced";
        case PlacementMethod::eplb: return "eplb";
    }
    return "affinity";
}

PlacementMethod parse_placement_method(const std::string& s) {
    for (PlacementMethod m : {PlacementMethod::contiguous, PlacementMethod::affinity, PlacementMethod::balanced,
                              PlacementMethod::eplb}) {
        if (placement_method_name(m) == s) return m;
    }
    throw UsageError("unknown placement method '" + s + "' (expected affinity, balanced, eplb or contiguous)");
}

PlacementProblem placement_problem(const AffinityResult& a) {
    PlacementProblem p;
    p.shape = a.shape;
    p.convention = a.convention;
    p.tokens = a.tokens;
    for (int l = 0; l + 1 < a.shape.layer_count(); ++l) p.transitions.push_back(a.transition_counts(l));
    p.loads = a.loads;
    return p;
}

Placement contiguous_placement(const RoutingShape& shape, int gpus, int nodes) {
    check_divisible(shape, gpus, nodes);
    Placement pl;
    pl.gpus = gpus;
    pl.nodes = nodes;
    for (int e_count : shape.num_experts) {
        std::vector<int> gpu(static_cast<size_t>(e_count));
        for (int e = 0; e < e_count; ++e) gpu[e] = e / (e_count / gpus);
        pl.gpu_of_expert.push_back(std::move(gpu));
    }
    return pl;
}

double placement_cost(const PlacementProblem& p, const Placement& pl) {
    double cost = 0;
    for (int l = 0; l + 1 < p.shape.layer_count(); ++l) {
        const int from = p.shape.num_experts[l], to = p.shape.num_experts[l + 1];
        for (int i = 0; i < from; ++i) {
            const int gi = pl.gpu_of_expert[l][i];
            for (int j = 0; j < to; ++j) {
                const double w = weight(p, l, i, j);
                if (w != 0) cost += w * pl.hop_cost(gi, pl.gpu_of_expert[l + 1][j]);
            }
        }
    }
    return cost;
}

namespace placement_detail {

void check_divisible(const RoutingShape& shape, int gpus, int nodes) {
    SY_CHECK(gpus >= 1 && nodes >= 1 && gpus % nodes == 0, UsageError,
             "--gpus " + std::to_string(gpus) + " must be a positive multiple of --nodes " + std::to_string(nodes));
    for (int l = 0; l < shape.layer_count(); ++l) {
        SY_CHECK(shape.num_experts[l] % gpus == 0, UsageError,
                 layer_label(shape, l) + " has " + std::to_string(shape.num_experts[l]) +
                     " experts, not a multiple of --gpus " + std::to_string(gpus) +
                     " (every GPU holds the same number of experts)");
    }
}

namespace {

// in[j * G + h] += weight of transitions between expert j of layer l and experts of the
// neighbouring layer placed on GPU h.
void neighbour_mass(const PlacementProblem& p, const Placement& pl, int l, bool prev, std::vector<double>& mass) {
    const int experts = p.shape.num_experts[l], gpus = pl.gpus;
    if (prev) {
        for (int i = 0; i < p.shape.num_experts[l - 1]; ++i) {
            const int h = pl.gpu_of_expert[l - 1][i];
            for (int j = 0; j < experts; ++j) mass[static_cast<size_t>(j) * gpus + h] += weight(p, l - 1, i, j);
        }
    } else {
        for (int j = 0; j < experts; ++j)
            for (int q = 0; q < p.shape.num_experts[l + 1]; ++q)
                mass[static_cast<size_t>(j) * gpus + pl.gpu_of_expert[l + 1][q]] += weight(p, l, j, q);
    }
}

}  // namespace

std::vector<double> layer_cost(const PlacementProblem& p, const Placement& pl, int l, bool use_prev, bool use_next) {
    const int experts = p.shape.num_experts[l], gpus = pl.gpus;
    std::vector<double> mass(static_cast<size_t>(experts) * gpus, 0.0);
    if (use_prev && l > 0) neighbour_mass(p, pl, l, true, mass);
    if (use_next && l + 1 < p.shape.layer_count()) neighbour_mass(p, pl, l, false, mass);
    std::vector<double> cost(mass.size(), 0.0);
    for (int j = 0; j < experts; ++j)
        for (int g = 0; g < gpus; ++g)
            for (int h = 0; h < gpus; ++h)
                cost[static_cast<size_t>(j) * gpus + g] += mass[static_cast<size_t>(j) * gpus + h] * pl.hop_cost(h, g);
    return cost;
}

bool reassign_layer(const PlacementProblem& p, Placement& pl, int l, bool use_prev, bool use_next) {
    const int experts = p.shape.num_experts[l];
    const std::vector<double> cost = layer_cost(p, pl, l, use_prev, use_next);
    double before = 0, after = 0;
    for (int j = 0; j < experts; ++j) before += cost[static_cast<size_t>(j) * pl.gpus + pl.gpu_of_expert[l][j]];
    const std::vector<int> next = assign_with_capacity(cost, experts, pl.gpus, experts / pl.gpus);
    for (int j = 0; j < experts; ++j) after += cost[static_cast<size_t>(j) * pl.gpus + next[j]];
    if (after < before - 1e-9 * (1 + before)) {
        pl.gpu_of_expert[l] = next;
        return true;
    }
    return false;
}

}  // namespace placement_detail
}  // namespace sy::analysis
