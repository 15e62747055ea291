#pragma once
// Expert -> GPU placement per MoE layer (analysis.md 1.1 ExFlow, 1.3 MoETuner,
// 4.6 EPLB) and its evaluation on a trace's layer-to-layer transitions.
//
// Cost model (ExFlow "context-coherent" EP, analysis.md 1.1): a token sits on the GPU of its
// expert at MoE layer l and moves to the GPU of its expert at l+1; the move costs 0 on the same
// GPU, 1 across GPUs of one node, 2 across nodes. Transitions are the one-hop counts of an
// AffinityResult, so the affinity convention (first / all-pairs / weighted) decides what a
// "transition" is. Every GPU holds the same number of experts per layer (E_l / G; eplb adds the
// same number of replica slots to every GPU).
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/routing_chunk.h"
#include "switchyard/core/progress.h"

namespace sy::analysis {

enum class PlacementMethod {
    contiguous,   // expert e -> GPU floor(e / (E/G)) (the baseline; ExFlow's "vanilla")
    affinity,     // minimise weighted transition cost (exact MIP when small, else heuristic)
    balanced,     // even token load per GPU: EPLB balanced_packing (greedy LPT with a slot cap)
    eplb,         // EPLB global policy: replicate hot experts, then balanced packing of replicas
};
std::string placement_method_name(PlacementMethod m);
PlacementMethod parse_placement_method(const std::string& s);   // UsageError otherwise

enum class ExactSolve { automatic, always, never };

struct PlacementOptions {
    int gpus = 1;                 // G; every E_l must be a multiple of G
    int nodes = 1;                // N; G must be a multiple of N; node(g) = g / (G / N)
    PlacementMethod method = PlacementMethod::affinity;
    double time_limit_s = 10;     // affinity: wall-clock budget for MIP + heuristic restarts
    ExactSolve exact = ExactSolve::automatic;
    int64_t mip_max_binaries = 1024;   // automatic: MIP only when sum_l E_l * G <= this
    int redundant_per_gpu = 1;    // eplb: replica slots added to every GPU per layer
    uint64_t seed = 1;            // heuristic restarts
};

struct Placement {
    int gpus = 1, nodes = 1;
    std::vector<std::vector<int>> gpu_of_expert;            // [Lm][E_l] (primary copy)
    // [Lm][E_l] -> GPUs holding a copy, primary first; empty when nothing is replicated.
    std::vector<std::vector<std::vector<int>>> replicas;

    int node_of(int gpu) const { return gpu / (gpus / nodes); }
    int hop_cost(int from_gpu, int to_gpu) const {   // 0 same GPU, 1 same node, 2 across nodes
        return from_gpu == to_gpu ? 0 : node_of(from_gpu) == node_of(to_gpu) ? 1 : 2;
    }
};

// What the optimisers and the evaluator need, independent of how it was measured.
struct PlacementProblem {
    RoutingShape shape;
    AffinityConvention convention = AffinityConvention::first;
    int64_t tokens = 0;
    std::vector<std::vector<double>> transitions;   // [Lm-1][E_l * E_l+1] one-hop weights
    std::vector<std::vector<double>> loads;         // [Lm][E_l] token slots per expert
};
PlacementProblem placement_problem(const AffinityResult& affinity);

struct PlacementEvaluation {
    double transition_weight = 0;      // sum of all one-hop weights
    double cross_gpu_fraction = 0;     // share of transitions that change GPU
    double cross_node_fraction = 0;    // share that change node
    double hops_per_token = 0;         // sum of hop costs per token over the forward pass
    double max_over_mean_load = 0;     // mean over layers of max_g load / mean_g load
    double max_over_mean_load_worst = 0;   // the worst layer's
    double balancedness = 0;           // vLLM EPLB: sum_l mean_g load / sum_l max_g load
    std::vector<std::vector<double>> gpu_load;   // [Lm][G] token slots (replicas split evenly)
    std::vector<std::vector<double>> dispatch;   // [G][G] transition weight from GPU a to GPU b
                                                 // summed over layer pairs (diagonal = stays)
};
// Replicas: a token on a copy of expert i (copies equally likely) goes to a copy of j on the
// same GPU if there is one, else on the same node, else any copy (locality-aware routing,
// GRACE-MoE; analysis.md 1.4).
PlacementEvaluation evaluate_placement(const PlacementProblem& problem, const Placement& placement);

struct PlacementResult {
    PlacementOptions options;
    Placement placement;
    Placement baseline;                  // contiguous
    PlacementEvaluation evaluation;
    PlacementEvaluation baseline_evaluation;
    std::string solver;                  // "contiguous", "glpk-mip", "heuristic", "greedy-lpt", "eplb"
    bool proven_optimal = false;         // affinity: the MIP proved it (or zero cost was reached)
    double objective = 0;                // affinity: weighted hop cost sum_l sum_ij w_ij cost
    double seconds = 0;
};

// Throws UsageError when E_l % G != 0 or G % N != 0. Polls `cancel` between layers / restarts.
// Thread: any, but the exact MIP uses GLPK, whose environment is per process: run one affinity
// placement at a time.
PlacementResult place_experts(const PlacementProblem& problem, const PlacementOptions& options, Progress& progress,
                              const CancelToken& cancel);

// Building blocks (also used by tests).
Placement contiguous_placement(const RoutingShape& shape, int gpus, int nodes);
Placement balanced_placement(const PlacementProblem& problem, int gpus, int nodes);
Placement eplb_placement(const PlacementProblem& problem, int gpus, int nodes, int redundant_per_gpu);
// Weighted hop cost sum_l sum_ij w_ij hop_cost(pi_l(i), pi_l+1(j)) of primary copies.
double placement_cost(const PlacementProblem& problem, const Placement& placement);

std::string placement_to_json(const PlacementResult& result, int indent = 2);
std::string placement_summary(const PlacementResult& result);

}  // namespace sy::analysis
