// Expert placement: planted chains and clusters must give zero-crossing placements; the MIP
// must match brute force on a tiny instance; the evaluator must match hand-computed figures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <numeric>
#include <random>

#include "planted_trace.h"
#include "switchyard/analysis/placement.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {
namespace {

PlacementProblem problem_of(const testing::Trace& tr, AffinityConvention c = AffinityConvention::first) {
    AffinityAccumulator acc(tr.shape, {c, 1, 1});
    acc.add(tr.buffer.view());
    return placement_problem(acc.finish());
}

PlacementResult place(const PlacementProblem& p, int gpus, PlacementMethod method, ExactSolve exact,
                      int nodes = 1, double time_limit = 5) {
    PlacementOptions o;
    o.gpus = gpus;
    o.nodes = nodes;
    o.method = method;
    o.exact = exact;
    o.time_limit_s = time_limit;
    NullProgress progress;
    CancelToken cancel;
    return place_experts(p, o, progress, cancel);
}

// Tokens walk clusters of E/G experts: at MoE layer l a token of path c is in cluster
// perm_l(c) and takes a random member of it; members are scattered expert ids, so the
// contiguous placement crosses GPUs a lot while one cluster per GPU crosses never.
testing::Trace planted_clusters(int layers, int experts, int gpus, int64_t n, uint64_t seed, double noise = 0) {
    std::mt19937_64 rng(seed);
    const int size = experts / gpus;
    std::vector<std::vector<int>> ids(static_cast<size_t>(layers)), cluster_of_path(static_cast<size_t>(layers));
    for (int l = 0; l < layers; ++l) {
        ids[l].resize(static_cast<size_t>(experts));
        std::iota(ids[l].begin(), ids[l].end(), 0);
        std::shuffle(ids[l].begin(), ids[l].end(), rng);
        cluster_of_path[l].resize(static_cast<size_t>(gpus));
        std::iota(cluster_of_path[l].begin(), cluster_of_path[l].end(), 0);
        std::shuffle(cluster_of_path[l].begin(), cluster_of_path[l].end(), rng);
    }
    std::vector<int> moe_layers(static_cast<size_t>(layers)), num(static_cast<size_t>(layers), experts);
    std::iota(moe_layers.begin(), moe_layers.end(), 0);
    testing::Trace tr = testing::empty_trace(moe_layers, num, 1, n);
    for (int64_t t = 0; t < n; ++t) {
        const int path = static_cast<int>(rng() % static_cast<uint64_t>(gpus));
        for (int l = 0; l < layers; ++l) {
            const int member = static_cast<int>(rng() % static_cast<uint64_t>(size));
            int16_t& id = testing::id_at(tr, l, t, 0);
            id = static_cast<int16_t>(ids[l][cluster_of_path[l][path] * size + member]);
            if (static_cast<double>(rng() % 1000) < 1000 * noise) id = static_cast<int16_t>(rng() % experts);
        }
    }
    return tr;
}

TEST(Placement, PlantedChainsGiveZeroCrossings) {
    const std::vector<std::vector<int>> chains = {{0, 3, 5, 1}, {2, 2, 7, 3}, {4, 6, 1, 5}, {6, 0, 3, 7}};
    const PlacementProblem p = problem_of(testing::planted_chains(chains, 8, 2, 400));
    const PlacementResult r = place(p, 4, PlacementMethod::affinity, ExactSolve::automatic);
    EXPECT_EQ(r.evaluation.cross_gpu_fraction, 0.0);
    EXPECT_EQ(r.objective, 0.0);
    EXPECT_TRUE(r.proven_optimal);
    EXPECT_GT(r.baseline_evaluation.cross_gpu_fraction, 0.5);
    for (const auto& layer : r.placement.gpu_of_expert) {
        std::vector<int> per_gpu(4, 0);
        for (int g : layer) ++per_gpu[g];
        EXPECT_EQ(per_gpu, (std::vector<int>{2, 2, 2, 2}));
    }
    for (const auto& c : chains)
        for (int l = 0; l < 3; ++l) EXPECT_EQ(r.placement.gpu_of_expert[l][c[l]], r.placement.gpu_of_expert[l + 1][c[l + 1]]);
}

TEST(Placement, PlantedClustersOnOneAndTwoNodes) {
    const PlacementProblem p = problem_of(planted_clusters(6, 16, 4, 4000, 7));
    const PlacementResult heuristic = place(p, 4, PlacementMethod::affinity, ExactSolve::never);
    EXPECT_EQ(heuristic.evaluation.cross_gpu_fraction, 0.0);
    EXPECT_EQ(heuristic.solver, "heuristic");
    EXPECT_GT(heuristic.baseline_evaluation.cross_gpu_fraction, 0.5);
    const PlacementResult two_nodes = place(p, 4, PlacementMethod::affinity, ExactSolve::never, 2);
    EXPECT_EQ(two_nodes.evaluation.cross_node_fraction, 0.0);
    EXPECT_EQ(two_nodes.evaluation.hops_per_token, 0.0);
}

TEST(Placement, NoisyClustersStayMostlyLocal) {
    // 10% of routing decisions random: about 10% * 3/4 of transitions must cross at best.
    const PlacementProblem p = problem_of(planted_clusters(8, 32, 4, 5000, 9, 0.1));
    const PlacementResult r = place(p, 4, PlacementMethod::affinity, ExactSolve::never);
    EXPECT_LT(r.evaluation.cross_gpu_fraction, 0.2);
    EXPECT_LT(r.evaluation.cross_gpu_fraction, r.baseline_evaluation.cross_gpu_fraction / 3);
    EXPECT_LE(r.objective, placement_cost(p, r.baseline));
    std::printf("noisy clusters: cross-GPU %.4f (contiguous %.4f)\n", r.evaluation.cross_gpu_fraction,
                r.baseline_evaluation.cross_gpu_fraction);
}

TEST(Placement, MipMatchesBruteForceOnTinyInstance) {
    // 3 MoE layers x 4 experts on 2 GPUs, random transition weights.
    PlacementProblem p;
    p.shape.moe_layers = {0, 1, 2};
    p.shape.num_experts = {4, 4, 4};
    p.shape.top_k = 1;
    std::mt19937_64 rng(3);
    for (int l = 0; l < 2; ++l) {
        std::vector<double> w(16);
        for (double& v : w) v = static_cast<double>(rng() % 10);
        p.transitions.push_back(w);
    }
    p.loads.assign(3, std::vector<double>(4, 1.0));
    // Brute force: each layer puts one of the 6 pairs of experts on GPU 0.
    std::vector<std::vector<int>> splits;
    for (int a = 0; a < 4; ++a)
        for (int b = a + 1; b < 4; ++b) {
            std::vector<int> s(4, 1);
            s[a] = s[b] = 0;
            splits.push_back(s);
        }
    double best = 1e300;
    Placement pl = contiguous_placement(p.shape, 2, 1);
    for (const auto& s0 : splits)
        for (const auto& s1 : splits)
            for (const auto& s2 : splits) {
                pl.gpu_of_expert = {s0, s1, s2};
                best = std::min(best, placement_cost(p, pl));
            }
    const PlacementResult mip = place(p, 2, PlacementMethod::affinity, ExactSolve::always);
    EXPECT_DOUBLE_EQ(mip.objective, best);
    EXPECT_DOUBLE_EQ(placement_cost(p, mip.placement), best);
    EXPECT_EQ(mip.solver, best > 0 ? "glpk-mip" : "heuristic");
    EXPECT_TRUE(mip.proven_optimal);
    const PlacementResult heuristic = place(p, 2, PlacementMethod::affinity, ExactSolve::never);
    EXPECT_GE(heuristic.objective, best);
}

TEST(Placement, MipMatchesBruteForceWithNodes) {
    // 3 MoE layers x 4 experts, one per GPU, 2 nodes x 2 GPUs: hop costs 0 / 1 / 2.
    PlacementProblem p;
    p.shape.moe_layers = {0, 1, 2};
    p.shape.num_experts = {4, 4, 4};
    p.shape.top_k = 1;
    std::mt19937_64 rng(4);
    for (int l = 0; l < 2; ++l) {
        std::vector<double> w(16);
        for (double& v : w) v = static_cast<double>(rng() % 10);
        p.transitions.push_back(w);
    }
    p.loads.assign(3, std::vector<double>(4, 1.0));
    std::vector<std::vector<int>> perms;
    std::vector<int> perm = {0, 1, 2, 3};
    do perms.push_back(perm);
    while (std::next_permutation(perm.begin(), perm.end()));
    double best = 1e300;
    Placement pl = contiguous_placement(p.shape, 4, 2);
    for (const auto& a : perms)
        for (const auto& b : perms)
            for (const auto& c : perms) {
                pl.gpu_of_expert = {a, b, c};
                best = std::min(best, placement_cost(p, pl));
            }
    const PlacementResult mip = place(p, 4, PlacementMethod::affinity, ExactSolve::always, 2);
    EXPECT_DOUBLE_EQ(mip.objective, best);
    EXPECT_TRUE(mip.proven_optimal);
}

TEST(Placement, EvaluatorHopCostsAndDispatch) {
    // 2 layers x 4 experts, 4 GPUs on 2 nodes, expert e on GPU e. From expert 0: 2 tokens stay,
    // 1 goes to GPU 1 (same node, cost 1), 1 to GPU 2 (other node, cost 2).
    PlacementProblem p;
    p.shape.moe_layers = {0, 1};
    p.shape.num_experts = {4, 4};
    p.shape.top_k = 1;
    p.transitions = {std::vector<double>(16, 0.0)};
    p.transitions[0][0] = 2;
    p.transitions[0][1] = 1;
    p.transitions[0][2] = 1;
    p.loads = {{4, 0, 0, 0}, {2, 1, 1, 0}};
    const PlacementEvaluation e = evaluate_placement(p, contiguous_placement(p.shape, 4, 2));
    EXPECT_DOUBLE_EQ(e.cross_gpu_fraction, 0.5);
    EXPECT_DOUBLE_EQ(e.cross_node_fraction, 0.25);
    EXPECT_DOUBLE_EQ(e.hops_per_token, 0.75);
    EXPECT_DOUBLE_EQ(e.dispatch[0][0], 2);
    EXPECT_DOUBLE_EQ(e.dispatch[0][1], 1);
    EXPECT_DOUBLE_EQ(e.dispatch[0][2], 1);
    EXPECT_DOUBLE_EQ(e.gpu_load[1][0], 2);
    EXPECT_DOUBLE_EQ(e.max_over_mean_load_worst, 4.0);   // layer 0: 4 / 1
    EXPECT_DOUBLE_EQ(e.max_over_mean_load, (4.0 + 2.0) / 2);
    EXPECT_DOUBLE_EQ(e.balancedness, 2.0 / 6.0);         // (1 + 1) / (4 + 2)
}

PlacementProblem load_problem(std::vector<double> loads) {
    PlacementProblem p;
    p.shape.moe_layers = {0};
    p.shape.num_experts = {static_cast<int>(loads.size())};
    p.shape.top_k = 1;
    p.loads = {std::move(loads)};
    return p;
}

TEST(Placement, BalancedEvensTokenLoad) {
    const PlacementProblem p = load_problem({10, 9, 1, 2});
    const PlacementResult r = place(p, 2, PlacementMethod::balanced, ExactSolve::never);
    EXPECT_NEAR(r.baseline_evaluation.max_over_mean_load, 19.0 / 11.0, 1e-12);
    EXPECT_DOUBLE_EQ(r.evaluation.max_over_mean_load, 1.0);
    EXPECT_EQ(r.placement.gpu_of_expert[0], (std::vector<int>{0, 1, 0, 1}));
}

TEST(Placement, EplbReplicatesHotExperts) {
    const PlacementProblem p = load_problem({100, 1, 1, 2});
    const PlacementResult balanced = place(p, 2, PlacementMethod::balanced, ExactSolve::never);
    const PlacementResult eplb = place(p, 2, PlacementMethod::eplb, ExactSolve::never);
    ASSERT_EQ(eplb.placement.replicas.size(), 1u);
    EXPECT_EQ(eplb.placement.replicas[0][0].size(), 3u);   // 2 redundant slots both go to expert 0
    EXPECT_LT(eplb.evaluation.max_over_mean_load, balanced.evaluation.max_over_mean_load);
    EXPECT_NEAR(eplb.evaluation.gpu_load[0][0] + eplb.evaluation.gpu_load[0][1], 104, 1e-9);
    const auto j = nlohmann::json::parse(placement_to_json(eplb));
    EXPECT_EQ(j["method"], "eplb");
    EXPECT_EQ(j["gpus"], 2);
    EXPECT_TRUE(j.contains("replicas"));
    EXPECT_TRUE(j.contains("baseline_cross_gpu_fraction"));
    EXPECT_EQ(j["placement"].size(), 1u);
}

TEST(Placement, ReplicatedEvaluationKeepsTransitionWeight) {
    const PlacementProblem p = problem_of(planted_clusters(3, 8, 2, 500, 5));
    const PlacementResult r = place(p, 2, PlacementMethod::eplb, ExactSolve::never);
    double sum = 0;
    for (const auto& row : r.evaluation.dispatch)
        for (double v : row) sum += v;
    EXPECT_NEAR(sum, r.evaluation.transition_weight, 1e-9);
    EXPECT_NEAR(r.evaluation.transition_weight, 2 * 500, 1e-9);
}

TEST(Placement, RejectsIndivisibleExpertCounts) {
    const PlacementProblem p = load_problem({1, 2, 3, 4});
    EXPECT_THROW(place(p, 3, PlacementMethod::balanced, ExactSolve::never), UsageError);
    EXPECT_THROW(place(p, 4, PlacementMethod::balanced, ExactSolve::never, 3), UsageError);
    EXPECT_THROW(parse_placement_method("random"), UsageError);
}

// The heuristic's scale target: 256 experts x 60 MoE layers on 8 GPUs.
TEST(PlacementIntegration, LargeClusteredInstanceReachesZeroCrossings) {
    const PlacementProblem p = problem_of(planted_clusters(60, 256, 8, 20000, 11));
    const PlacementResult r = place(p, 8, PlacementMethod::affinity, ExactSolve::automatic, 1, 60);
    EXPECT_EQ(r.solver, "heuristic");
    EXPECT_EQ(r.evaluation.cross_gpu_fraction, 0.0);
    EXPECT_GT(r.baseline_evaluation.cross_gpu_fraction, 0.8);
    std::printf("256 experts x 60 layers: %.2f s\n", r.seconds);
}

}  // namespace
}  // namespace sy::analysis
