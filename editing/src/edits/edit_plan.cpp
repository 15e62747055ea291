// Resolving edits into an EditPlan (edit_plan.h). Each edit works on the plan the earlier ones
// left: prune removes planned experts, merge folds planned experts into weighted sums of their
// original sources (composing neuron permutations), mask sets a correction bias or prunes.
#include "switchyard/editing/edit_plan.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "expert_math.h"
#include "switchyard/compute/expert_similarity.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

std::string layer_text(int layer) { return "layer " + std::to_string(layer); }

LayerPlan& layer_of(EditPlan& plan, int layer, const std::string& op) {
    for (LayerPlan& l : plan.layers)
        if (l.layer == layer) return l;
    std::string list;
    for (const LayerPlan& l : plan.layers) list += (list.empty() ? "" : ", ") + std::to_string(l.layer);
    throw UsageError(op + ": " + layer_text(layer) + " is not a MoE layer (MoE layers: " + list + ")");
}

void check_index(const LayerPlan& l, int expert, const std::string& op) {
    SY_CHECK(expert >= 0 && expert < static_cast<int>(l.experts.size()), UsageError,
             op + ": " + layer_text(l.layer) + " has experts 0.." + std::to_string(l.experts.size() - 1) + ", found " +
                 std::to_string(expert));
}

void sort_by_home(LayerPlan& l) {
    std::stable_sort(l.experts.begin(), l.experts.end(),
                     [](const PlannedExpert& a, const PlannedExpert& b) { return a.home < b.home; });
}

void remove_experts(LayerPlan& l, const std::vector<int>& experts, const std::string& op) {
    std::set<int> drop;
    for (int e : experts) {
        check_index(l, e, op);
        SY_CHECK(drop.insert(e).second, UsageError, op + ": " + layer_text(l.layer) + " expert " + std::to_string(e) + " listed twice");
    }
    std::vector<PlannedExpert> kept;
    for (std::size_t i = 0; i < l.experts.size(); ++i)
        if (!drop.count(static_cast<int>(i))) kept.push_back(std::move(l.experts[i]));
    l.experts = std::move(kept);
}

EditPlan apply_prune(EditPlan plan, const PruneEdit& edit) {
    for (const auto& [layer, experts] : edit.experts) remove_experts(layer_of(plan, layer, "prune"), experts, "prune");
    return plan;
}

// Neuron n of the aligned member is neuron p[n] of the member, i.e. q[p[n]] of each source.
std::vector<SourceTerm> permuted_terms(const PlannedExpert& member, const std::vector<int32_t>& p, double weight) {
    std::vector<SourceTerm> terms;
    for (const SourceTerm& t : member.terms) {
        SourceTerm out{t.expert, t.weight * weight, {}};
        if (!p.empty()) {
            out.permutation.resize(p.size());
            for (std::size_t n = 0; n < p.size(); ++n)
                out.permutation[n] = t.permutation.empty() ? p[n] : t.permutation[static_cast<std::size_t>(p[n])];
        } else {
            out.permutation = t.permutation;
        }
        terms.push_back(std::move(out));
    }
    return terms;
}

ExpertArrays arrays_of(const ExpertTensorsF32& e, const ModelDescription& d) {
    return {e.gate.data(), e.up.data(), e.down.data(), d.expert_intermediate_size, d.hidden_size};
}

void check_group(const LayerPlan& l, const MergeGroup& g, std::set<int>& used) {
    SY_CHECK(g.members.size() >= 2, UsageError, "merge: " + layer_text(l.layer) + ": a group needs two or more experts");
    SY_CHECK(g.weights.size() == g.members.size(), UsageError,
             "merge: " + layer_text(l.layer) + ": " + std::to_string(g.weights.size()) + " weights for " +
                 std::to_string(g.members.size()) + " members");
    double total = 0;
    for (std::size_t i = 0; i < g.members.size(); ++i) {
        check_index(l, g.members[i], "merge");
        SY_CHECK(used.insert(g.members[i]).second, UsageError,
                 "merge: " + layer_text(l.layer) + " expert " + std::to_string(g.members[i]) + " is in more than one group");
        SY_CHECK(std::isfinite(g.weights[i]) && g.weights[i] >= 0, UsageError,
                 "merge: " + layer_text(l.layer) + ": weights must be finite and >= 0");
        total += g.weights[i];
    }
    SY_CHECK(total > 0, UsageError, "merge: " + layer_text(l.layer) + ": the weights of a group sum to 0");
    SY_CHECK(std::find(g.members.begin(), g.members.end(), g.dominant) != g.members.end(), UsageError,
             "merge: " + layer_text(l.layer) + ": dominant expert " + std::to_string(g.dominant) + " is not a member of its group");
}

// The merged expert of one group (terms, origin); router and home are set by the caller.
PlannedExpert merge_group(const Model& model, const LayerPlan& l, const MergeGroup& g, bool align, Progress& progress,
                          const CancelToken& cancel) {
    double total = 0;
    for (double w : g.weights) total += w;
    const PlannedExpert& dominant = l.experts[static_cast<std::size_t>(g.dominant)];
    ExpertTensorsF32 dominant_weights;
    if (align) dominant_weights = materialize_expert(model, l.layer, dominant);
    PlannedExpert merged;
    for (std::size_t i = 0; i < g.members.size(); ++i) {
        cancel.throw_if_cancelled();
        const PlannedExpert& member = l.experts[static_cast<std::size_t>(g.members[i])];
        std::vector<int32_t> p;
        if (align && g.members[i] != g.dominant) {
            progress.report(double(i) / double(g.members.size()),
                            "merge: aligning " + layer_text(l.layer) + " expert " + std::to_string(g.members[i]) +
                                " to expert " + std::to_string(g.dominant));
            const ExpertTensorsF32 weights = materialize_expert(model, l.layer, member);
            p = align_experts(arrays_of(dominant_weights, model.description), arrays_of(weights, model.description)).permutation;
        }
        for (SourceTerm& t : permuted_terms(member, p, g.weights[i] / total)) merged.terms.push_back(std::move(t));
        merged.origin.insert(merged.origin.end(), member.origin.begin(), member.origin.end());
    }
    std::sort(merged.origin.begin(), merged.origin.end());
    return merged;
}

EditPlan apply_merge(const Model& model, EditPlan plan, const MergeEdit& edit, Progress& progress, const CancelToken& cancel) {
    for (const auto& [layer, groups] : edit.groups) {
        LayerPlan& l = layer_of(plan, layer, "merge");
        std::set<int> used;
        for (const MergeGroup& g : groups) check_group(l, g, used);
        const auto rows = edit.router_rows.find(layer);
        if (edit.router == MergeRouter::fitted && edit.layout == MergeLayout::collapse)
            SY_CHECK(rows != edit.router_rows.end() && rows->second.size() == groups.size(), UsageError,
                     "merge: " + layer_text(layer) + ": router \"fitted\" needs one fitted row per group");
        std::vector<PlannedExpert> merged;
        for (std::size_t gi = 0; gi < groups.size(); ++gi) {
            const MergeGroup& g = groups[gi];
            PlannedExpert m = merge_group(model, l, g, edit.align, progress, cancel);
            const PlannedExpert& dominant = l.experts[static_cast<std::size_t>(g.dominant)];
            m.home = dominant.home;
            m.router_source = dominant.router_source;
            m.router_row = dominant.router_row;
            m.bias_source = dominant.bias_source;
            m.bias_value = dominant.bias_value;
            if (edit.router == MergeRouter::fitted && edit.layout == MergeLayout::collapse) {
                const std::vector<float>& row = rows->second[gi];
                SY_CHECK(static_cast<int64_t>(row.size()) == model.description.hidden_size, UsageError,
                         "merge: " + layer_text(layer) + ": a fitted router row holds " + std::to_string(row.size()) +
                             " values, the hidden size is " + std::to_string(model.description.hidden_size));
                m.router_source = -1;
                m.router_row = row;
            }
            merged.push_back(std::move(m));
        }
        std::vector<PlannedExpert> next;
        for (std::size_t i = 0; i < l.experts.size(); ++i) {
            const int index = static_cast<int>(i);
            const MergeGroup* group = nullptr;
            std::size_t gi = 0;
            for (; gi < groups.size(); ++gi)
                if (std::count(groups[gi].members.begin(), groups[gi].members.end(), index)) {
                    group = &groups[gi];
                    break;
                }
            if (!group) {
                next.push_back(l.experts[i]);
            } else if (edit.layout == MergeLayout::duplicate) {
                // Every member slot keeps its own router row and bias and holds the merged weights.
                PlannedExpert copy = merged[gi];
                copy.home = l.experts[i].home;
                copy.router_source = l.experts[i].router_source;
                copy.router_row = l.experts[i].router_row;
                copy.bias_source = l.experts[i].bias_source;
                copy.bias_value = l.experts[i].bias_value;
                next.push_back(std::move(copy));
            } else if (index == group->dominant) {
                next.push_back(merged[gi]);
            }
        }
        l.experts = std::move(next);
        sort_by_home(l);
    }
    return plan;
}

EditPlan apply_mask(EditPlan plan, const MaskEdit& edit, const ModelDescription& d) {
    // A per-expert router bias of -1e9 keeps the expert from ever being chosen: exact for a
    // selection-only bias (editing.md §2.7), and for gpt-oss's logit bias too, since its gates
    // are a softmax over the chosen logits only.
    if (!router_bias_role(*d.family)) {
        plan.notes.push_back("mask: " + std::string(d.model_type) +
                             " routers have no per-expert bias, so the masked experts are removed (slicing a router "
                             "row is exactly a -inf mask there)");
        for (const auto& [layer, experts] : edit.experts) remove_experts(layer_of(plan, layer, "mask"), experts, "mask");
        return plan;
    }
    for (const auto& [layer, experts] : edit.experts) {
        LayerPlan& l = layer_of(plan, layer, "mask");
        for (int e : experts) {
            check_index(l, e, "mask");
            PlannedExpert& p = l.experts[static_cast<std::size_t>(e)];
            p.bias_source = -1;
            p.bias_value = mask_bias_value;
        }
    }
    return plan;
}

int64_t selectable(const LayerPlan& l) {
    return std::count_if(l.experts.begin(), l.experts.end(),
                         [](const PlannedExpert& p) { return !(p.bias_source < 0 && p.bias_value <= mask_bias_value); });
}

void check_router_groups(const ModelDescription& d, const LayerPlan& l) {
    if (!d.family->uses_expert_groups() || d.n_group <= 1) return;
    const int64_t group_size = l.original_experts / d.n_group;
    std::vector<int64_t> per_group(static_cast<std::size_t>(d.n_group), 0);
    for (const PlannedExpert& p : l.experts) ++per_group[static_cast<std::size_t>(p.home / group_size)];
    for (int64_t g = 1; g < d.n_group; ++g)
        SY_CHECK(per_group[static_cast<std::size_t>(g)] == per_group[0], UsageError,
                 layer_text(l.layer) + ": the router picks experts in " + std::to_string(d.n_group) +
                     " groups (n_group) of equal size; this edit leaves " + std::to_string(per_group[0]) + " experts in group 0 and " +
                     std::to_string(per_group[static_cast<std::size_t>(g)]) + " in group " + std::to_string(g) +
                     " (remove or merge the same number of experts from every group, within a group)");
    SY_CHECK(per_group[0] * d.topk_group >= d.top_k, UsageError,
             layer_text(l.layer) + ": " + std::to_string(d.topk_group) + " groups (topk_group) of " + std::to_string(per_group[0]) +
                 " experts cannot supply top_k = " + std::to_string(d.top_k));
}

}  // namespace

bool PlannedExpert::is_copy() const {
    return terms.size() == 1 && terms[0].weight == 1.0 && terms[0].permutation.empty();
}

int PlannedExpert::copy_source() const { return terms.at(0).expert; }

bool LayerPlan::unchanged() const {
    if (static_cast<int64_t>(experts.size()) != original_experts) return false;
    for (std::size_t i = 0; i < experts.size(); ++i) {
        const PlannedExpert& p = experts[i];
        const int self = static_cast<int>(i);
        if (!p.is_copy() || p.copy_source() != self || p.router_source != self || p.bias_source != self) return false;
    }
    return true;
}

const LayerPlan& EditPlan::layer(int model_layer) const {
    for (const LayerPlan& l : layers)
        if (l.layer == model_layer) return l;
    throw UsageError(layer_text(model_layer) + " is not a MoE layer");
}

int64_t EditPlan::expert_count() const { return layers.empty() ? 0 : static_cast<int64_t>(layers.front().experts.size()); }

EditPlan identity_plan(const ModelDescription& d) {
    EditPlan plan;
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
        LayerPlan l;
        l.layer = d.moe_layers[i];
        l.original_experts = d.num_experts[i];
        for (int e = 0; e < l.original_experts; ++e) {
            PlannedExpert p;
            p.terms = {SourceTerm{e, 1.0, {}}};
            p.home = p.router_source = p.bias_source = e;
            p.origin = {e};
            l.experts.push_back(std::move(p));
        }
        plan.layers.push_back(std::move(l));
    }
    return plan;
}

EditPlan apply_edit(const Model& model, EditPlan plan, const Edit& edit, Progress& progress, const CancelToken& cancel) {
    if (const auto* prune = std::get_if<PruneEdit>(&edit)) return apply_prune(std::move(plan), *prune);
    if (const auto* merge = std::get_if<MergeEdit>(&edit)) return apply_merge(model, std::move(plan), *merge, progress, cancel);
    if (const auto* mask = std::get_if<MaskEdit>(&edit)) return apply_mask(std::move(plan), *mask, model.description);
    if (training_entry_json(edit))
        throw UsageError("a " + edit_op_name(edit) + " entry trains: `switchyard apply` runs it after the entries before it, "
                         "not inside an expert edit");
    throw UsageError("an upcycle entry turns a dense model into an MoE one: `switchyard apply` runs it on its own, "
                     "not inside an expert edit");
}

EditPlan plan_edits(const Model& model, const std::vector<Edit>& edits, Progress& progress, const CancelToken& cancel) {
    SY_CHECK(!model.description.moe_layers.empty(), UsageError,
             model.checkpoint.dir().string() + ": " + model.description.model_type +
                 " is a dense model (no MoE layers): there are no experts to edit");
    EditPlan plan = identity_plan(model.description);
    for (const Edit& edit : edits) plan = apply_edit(model, std::move(plan), edit, progress, cancel);
    check_plan_exportable(model.description, plan);
    return plan;
}

void check_plan_exportable(const ModelDescription& d, const EditPlan& plan) {
    const int64_t first = plan.expert_count();
    for (const LayerPlan& l : plan.layers) {
        SY_CHECK(static_cast<int64_t>(l.experts.size()) == first, UsageError,
                 "a checkpoint config holds one expert count (" + std::string(d.family->expert_count_key) + "), but " +
                     layer_text(plan.layers.front().layer) + " would keep " + std::to_string(first) + " experts and " +
                     layer_text(l.layer) + " " + std::to_string(l.experts.size()) +
                     ": remove or merge the same number of experts in every MoE layer");
        SY_CHECK(selectable(l) >= d.top_k, UsageError,
                 layer_text(l.layer) + " would keep " + std::to_string(selectable(l)) +
                     " selectable experts, fewer than top_k = " + std::to_string(d.top_k) + " (num_experts_per_tok)");
        check_router_groups(d, l);
    }
}

}  // namespace sy
