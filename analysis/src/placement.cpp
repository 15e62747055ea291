// place_experts: picks the method, always evaluates the contiguous baseline alongside.
#include "placement_internal.h"

namespace sy::analysis {

using namespace placement_detail;

namespace {

int64_t binaries(const RoutingShape& shape, int gpus) {
    int64_t n = 0;
    for (int e : shape.num_experts) n += static_cast<int64_t>(e) * gpus;
    return n;
}

// Affinity: heuristic first (it bounds the MIP's work and is the answer for large instances),
// then the MIP on small instances with the remaining time, unless the heuristic reached zero.
void place_affinity(const PlacementProblem& p, const PlacementOptions& o, PlacementResult& r, Progress& progress,
                    const CancelToken& cancel) {
    const Clock::time_point start = Clock::now();
    const bool try_mip = o.exact == ExactSolve::always ||
                         (o.exact == ExactSolve::automatic && binaries(p.shape, o.gpus) <= o.mip_max_binaries);
    const double heuristic_share = try_mip ? 0.25 : 1.0;
    const auto heuristic_deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.time_limit_s * heuristic_share));
    r.placement = affinity_heuristic(p, r.baseline, heuristic_deadline, o.seed, progress, cancel);
    r.solver = "heuristic";
    r.objective = placement_cost(p, r.placement);
    if (r.objective <= 0) {
        r.proven_optimal = true;   // no placement costs less than nothing
        return;
    }
    if (!try_mip || o.gpus == 1) return;
    const double left = o.time_limit_s - std::chrono::duration<double>(Clock::now() - start).count();
    bool optimal = false;
    progress.report(heuristic_share, "placement MIP (GLPK)");
    Placement mip = solve_mip(p, r.placement, std::max(0.5, left), cancel, optimal);
    const double cost = placement_cost(p, mip);
    if (cost <= r.objective) {
        r.placement = std::move(mip);
        r.objective = cost;
        r.solver = "glpk-mip";
        r.proven_optimal = optimal;
    }
}

}  // namespace

PlacementResult place_experts(const PlacementProblem& p, const PlacementOptions& o, Progress& progress,
                              const CancelToken& cancel) {
    const Clock::time_point start = Clock::now();
    PlacementResult r;
    r.options = o;
    r.baseline = contiguous_placement(p.shape, o.gpus, o.nodes);
    switch (o.method) {
        case PlacementMethod::contiguous:
            r.placement = r.baseline;
            r.solver = "contiguous";
            break;
        case PlacementMethod::affinity:
            place_affinity(p, o, r, progress, cancel);
            break;
        case PlacementMethod::balanced:
            r.placement = balanced_placement(p, o.gpus, o.nodes);
            r.solver = "greedy-lpt";
            break;
        case PlacementMethod::eplb:
            r.placement = eplb_placement(p, o.gpus, o.nodes, o.redundant_per_gpu);
            r.solver = "eplb";
            break;
    }
    if (o.method != PlacementMethod::affinity) r.objective = placement_cost(p, r.placement);
    r.evaluation = evaluate_placement(p, r.placement);
    r.baseline_evaluation = evaluate_placement(p, r.baseline);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    progress.report(1.0, "placement");
    return r;
}

}  // namespace sy::analysis
