// JSON / text forms of PlacementResult. Keys (stable, scripts read them): {"gpus", "method",
// "placement": [[gpu of expert e] per MoE layer], "cross_gpu_fraction",
// "baseline_cross_gpu_fraction", "max_over_mean_load", ...}.
#include "json_util.h"
#include "switchyard/analysis/placement.h"
#include "text_util.h"

namespace sy::analysis {

using json_util::json;

namespace {

json evaluation_json(const PlacementEvaluation& e) {
    return {{"cross_gpu_fraction", e.cross_gpu_fraction},
            {"cross_node_fraction", e.cross_node_fraction},
            {"hops_per_token", e.hops_per_token},
            {"max_over_mean_load", e.max_over_mean_load},
            {"max_over_mean_load_worst_layer", e.max_over_mean_load_worst},
            {"balancedness", e.balancedness},
            {"gpu_load", json_util::matrix(e.gpu_load)},
            {"dispatch", json_util::matrix(e.dispatch)}};
}

}  // namespace

std::string placement_to_json(const PlacementResult& r, int indent) {
    const PlacementEvaluation& e = r.evaluation;
    const PlacementEvaluation& b = r.baseline_evaluation;
    json j = {{"gpus", r.options.gpus},
              {"nodes", r.options.nodes},
              {"method", placement_method_name(r.options.method)},
              {"solver", r.solver},
              {"proven_optimal", r.proven_optimal},
              {"objective_hop_cost", r.objective},
              {"seconds", r.seconds},
              {"placement", json_util::matrix(r.placement.gpu_of_expert)},
              {"cross_gpu_fraction", e.cross_gpu_fraction},
              {"cross_node_fraction", e.cross_node_fraction},
              {"hops_per_token", e.hops_per_token},
              {"max_over_mean_load", e.max_over_mean_load},
              {"balancedness", e.balancedness},
              {"baseline_cross_gpu_fraction", b.cross_gpu_fraction},
              {"baseline_cross_node_fraction", b.cross_node_fraction},
              {"baseline_hops_per_token", b.hops_per_token},
              {"baseline_max_over_mean_load", b.max_over_mean_load},
              {"evaluation", evaluation_json(e)},
              {"baseline_evaluation", evaluation_json(b)}};
    if (!r.placement.replicas.empty()) {
        json replicas = json::array();
        for (const auto& layer : r.placement.replicas) replicas.push_back(json_util::matrix(layer));
        j["replicas"] = std::move(replicas);
    }
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string placement_summary(const PlacementResult& r) {
    using text_util::appendf;
    std::string out;
    appendf(out, "%s placement on %d GPU(s) / %d node(s): solver %s%s, %.2f s\n",
            placement_method_name(r.options.method).c_str(), r.options.gpus, r.options.nodes, r.solver.c_str(),
            r.proven_optimal ? " (optimal)" : "", r.seconds);
    appendf(out, "%-12s %10s %11s %10s %14s %13s\n", "", "cross-GPU", "cross-node", "hops/token", "load max/mean",
            "balancedness");
    for (int i = 0; i < 2; ++i) {
        const PlacementEvaluation& e = i == 0 ? r.evaluation : r.baseline_evaluation;
        appendf(out, "%-12s %9.2f%% %10.2f%% %10.3f %14.3f %13.3f\n", i == 0 ? "placement" : "contiguous",
                100 * e.cross_gpu_fraction, 100 * e.cross_node_fraction, e.hops_per_token, e.max_over_mean_load,
                e.balancedness);
    }
    appendf(out, "placement per MoE layer (GPU of expert 0, 1, ...):\n");
    for (size_t l = 0; l < r.placement.gpu_of_expert.size() && l < 8; ++l) {
        appendf(out, "  MoE %2zu:", l);
        const std::vector<int>& gpu = r.placement.gpu_of_expert[l];
        for (size_t e = 0; e < gpu.size() && e < 32; ++e) appendf(out, " %d", gpu[e]);
        appendf(out, gpu.size() > 32 ? " ...\n" : "\n");
    }
    if (r.placement.gpu_of_expert.size() > 8) appendf(out, "  ... (--json for all layers)\n");
    return out;
}

}  // namespace sy::analysis
