#pragma once
// Private pieces shared by the placement sources.
#include <chrono>
#include <cstdint>
#include <vector>

#include "switchyard/analysis/placement.h"

namespace sy::analysis::placement_detail {

using Clock = std::chrono::steady_clock;

// Throws UsageError unless every E_l is a multiple of G and G of N.
void check_divisible(const RoutingShape& shape, int gpus, int nodes);

// Transition weight w(i at l, j at l+1).
inline double weight(const PlacementProblem& p, int l, int i, int j) {
    return p.transitions[l][static_cast<size_t>(i) * p.shape.num_experts[l + 1] + j];
}

// [E_l, G] cost of putting each expert of layer l on each GPU, given the placement of layers
// l-1 and l+1 (either may be absent at the ends; `use_prev` / `use_next` pick the sides).
std::vector<double> layer_cost(const PlacementProblem& p, const Placement& pl, int l, bool use_prev, bool use_next);

// Re-places layer l optimally given the chosen neighbours; returns true if the cost dropped.
bool reassign_layer(const PlacementProblem& p, Placement& pl, int l, bool use_prev, bool use_next);

// ExFlow-style affinity heuristic: seeded restarts + exact per-layer descent until `deadline`.
// `start`: a placement to improve first (e.g. contiguous), so the result never costs more.
Placement affinity_heuristic(const PlacementProblem& p, const Placement& start, Clock::time_point deadline,
                             uint64_t seed, Progress& progress, const CancelToken& cancel);

// Balanced grouping of layer `a`'s experts by similarity of their transition rows (neighbour
// layers on both sides), mapped to GPUs 0..G-1 (anchor of a restart).
std::vector<int> similarity_groups(const PlacementProblem& p, int a, int gpus);

// Exact MIP through GLPK, warm-started from `start`. Returns the best placement found (start when
// the solver finds nothing better); `optimal` says whether GLPK proved optimality in time.
Placement solve_mip(const PlacementProblem& p, const Placement& start, double time_limit_s, const CancelToken& cancel,
                    bool& optimal);

}  // namespace sy::analysis::placement_detail
