// AffinityResult -> /affinity and PlacementResult -> /place of a result file
// ("-o OUT.h5"; layout in docs/hdf5-schema.md "Analysis result files").
#include "store_util.h"
#include "switchyard/analysis/result_files.h"

namespace sy::analysis {

using namespace store_util;

namespace {

void save_pair(ResultFile& out, const std::string& g, const AffinityPair& p) {
    const std::vector<uint64_t> dims{static_cast<uint64_t>(p.from_experts), static_cast<uint64_t>(p.to_experts)};
    out.attribute(g, "from_layer", p.from_layer);
    out.attribute(g, "to_layer", p.to_layer);
    out.attribute(g, "mutual_information", p.mutual_information);
    out.attribute(g, "entropy_from", p.entropy_from);
    out.attribute(g, "entropy_to", p.entropy_to);
    out.attribute(g, "row_max_mean", p.row_max_mean);
    out.attribute(g, "top_m", p.top_m);
    out.attribute(g, "top_m_mass", p.top_m_mass);
    out.write(g + "/counts", p.counts, dims);
    out.write(g + "/conditional", p.conditional, dims);
    if (!p.markov.empty()) {
        out.write(g + "/markov_prediction", p.markov, dims);
        out.attribute(g, "markov_gap_tv", p.markov_gap_tv);
        out.attribute(g, "markov_gap_tv_max", p.markov_gap_tv_max);
    }
}

void save_evaluation(ResultFile& out, const std::string& g, const PlacementEvaluation& e) {
    out.attribute(g, "transition_weight", e.transition_weight);
    out.attribute(g, "cross_gpu_fraction", e.cross_gpu_fraction);
    out.attribute(g, "cross_node_fraction", e.cross_node_fraction);
    out.attribute(g, "hops_per_token", e.hops_per_token);
    out.attribute(g, "max_over_mean_load", e.max_over_mean_load);
    out.attribute(g, "max_over_mean_load_worst_layer", e.max_over_mean_load_worst);
    out.attribute(g, "balancedness", e.balancedness);
    write_matrix(out, g + "/gpu_load", e.gpu_load);
    write_matrix(out, g + "/dispatch", e.dispatch);
}

// [Lm, E, R] GPUs holding a copy of each expert, primary first, -1 padded.
void save_replicas(ResultFile& out, const std::string& path, const Placement& p) {
    std::size_t experts = 0, copies = 0;
    for (const auto& layer : p.replicas) {
        experts = std::max(experts, layer.size());
        for (const auto& gpus : layer) copies = std::max(copies, gpus.size());
    }
    std::vector<int32_t> flat(p.replicas.size() * experts * copies, -1);
    for (std::size_t l = 0; l < p.replicas.size(); ++l)
        for (std::size_t e = 0; e < p.replicas[l].size(); ++e)
            for (std::size_t c = 0; c < p.replicas[l][e].size(); ++c)
                flat[(l * experts + e) * copies + c] = p.replicas[l][e][c];
    out.write(path, flat, {p.replicas.size(), experts, copies});
}

}  // namespace

void save_affinity(const AffinityResult& r, ResultFile& out) {
    const std::string root = "/affinity";
    out.attribute(root, "convention", convention_name(r.convention));
    out.attribute(root, "hops", r.hops);
    out.attribute(root, "tokens", r.tokens);
    out.attribute(root, "information_units", "bits");
    out.write(root + "/moe_layers", to_int32(r.shape.moe_layers));
    out.write(root + "/num_experts", to_int32(r.shape.num_experts));
    write_matrix(out, root + "/loads", r.loads);
    out.attribute(root + "/pairs", "count", static_cast<int64_t>(r.pairs.size()));
    for (const AffinityPair& p : r.pairs) save_pair(out, pair_group(root + "/pairs", p.from_layer, p.to_layer), p);
}

void save_placement(const PlacementResult& r, ResultFile& out) {
    const std::string root = "/place";
    out.attribute(root, "gpus", r.options.gpus);
    out.attribute(root, "nodes", r.options.nodes);
    out.attribute(root, "method", placement_method_name(r.options.method));
    out.attribute(root, "solver", r.solver);
    out.attribute(root, "proven_optimal", r.proven_optimal);
    out.attribute(root, "objective_hop_cost", r.objective);
    out.attribute(root, "seconds", r.seconds);
    write_matrix(out, root + "/placement", r.placement.gpu_of_expert, -1);
    write_matrix(out, root + "/baseline_placement", r.baseline.gpu_of_expert, -1);
    if (!r.placement.replicas.empty()) save_replicas(out, root + "/replicas", r.placement);
    save_evaluation(out, root + "/evaluation", r.evaluation);
    save_evaluation(out, root + "/baseline_evaluation", r.baseline_evaluation);
}

}  // namespace sy::analysis
