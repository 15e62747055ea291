#pragma once
// A router row for a collapsed merge group, fitted on calibration data (editing.md §1.6 option
// 4): after collapsing, the group has one logit where it had |G|. The row r minimises
// sum_t (r . x_t - z_G(x_t))^2 + lambda |r|^2 over the MoE-block inputs x_t of the original
// model, with z_G the logit that reproduces the group's combined routing:
//   softmax routers: z_G = log sum_{e in G} exp(z_e)  (the group's softmax mass is then exact);
//   sigmoid routers: z_G = logit(min(sum_{e in G} sigmoid(z_e), 1 - 1e-6)).
// lambda = 1e-6 * trace(X^T X) / H keeps the normal equations well conditioned. No torch here.
#include <map>
#include <vector>

#include "switchyard/compute/trace_job.h"

namespace sy {

// groups: model layer -> groups of expert indices. Returns model layer -> one row [H] per group.
// Throws UsageError for a dense layer, an unknown expert or data without tokens.
std::map<int, std::vector<std::vector<float>>> fit_group_router_rows(
    const Model& model, const EvalOptions& options, const std::map<int, std::vector<std::vector<int>>>& groups,
    Progress& progress, const CancelToken& cancel);

}  // namespace sy
