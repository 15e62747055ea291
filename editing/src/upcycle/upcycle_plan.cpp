// Lists the upcycled checkpoint's tensors: exactly those core expects of the target config
// (expected_tensors, so the folder opens like any checkpoint of that family), each with the
// recipe that makes it. Names come from the family table through tensor_name(), by role.
#include <algorithm>
#include <map>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
#include "switchyard/core/tensor_names.h"
#include "upcycle_plan.h"

namespace sy {
namespace {

using Role = TensorRole;

struct Slot {
    Role role;
    int layer;
    int expert;
};

// Output name -> (role, layer, expert) for every name the target row can form.
std::map<std::string, Slot> target_slots(const FamilySpec& f, const ModelDescription& t) {
    std::map<std::string, Slot> slots;
    for (const TensorTemplate& entry : f.tensors) {
        if (entry.per_expert.empty()) continue;
        const bool per_layer = role_is_per_layer(f, entry.role);
        const bool per_expert = role_is_per_expert(f, entry.role, ExpertLayout::per_expert);
        const int layers = per_layer ? t.num_layers : 1;
        const int experts = per_expert ? static_cast<int>(t.num_experts.front()) : 1;
        for (int l = 0; l < layers; ++l)
            for (int e = 0; e < experts; ++e) {
                const int layer = per_layer ? l : -1, expert = per_expert ? e : -1;
                slots[tensor_name(f, entry.role, layer, expert)] = {entry.role, layer, expert};
            }
    }
    return slots;
}

Role ffn_role_of(Role role) {
    switch (role) {
        case Role::expert_gate: case Role::shared_gate: return Role::ffn_gate;
        case Role::expert_up: case Role::shared_up: return Role::ffn_up;
        default: return Role::ffn_down;
    }
}

bool is_attention_bias(Role role) {
    return role == Role::attn_q_bias || role == Role::attn_k_bias || role == Role::attn_v_bias;
}

class TensorPlanner {
public:
    TensorPlanner(const std::vector<const Model*>& sources, const UpcycleOptions& resolved)
        : m_sources(sources), m_dense(*sources.front()), m_o(resolved) {}

    PlannedTensor plan(const ExpectedTensor& expected, const Slot& slot) const {
        PlannedTensor t;
        t.decl = {expected.name, DType::f32, expected.shape};
        t.layer = slot.layer;
        t.expert = slot.expert;
        const FamilySpec& dense_family = *m_dense.description.family;
        switch (slot.role) {
            case Role::router:
                t.recipe = TensorRecipe::router;
                t.decl.dtype = ffn_dtype(slot.layer);
                return t;
            case Role::router_score_bias:   // selection-only bias, F32 on the Hub (formats.md §5.2)
                t.recipe = TensorRecipe::zeros;
                return t;
            case Role::shared_expert_gate:
                t.recipe = TensorRecipe::zeros;
                t.decl.dtype = ffn_dtype(slot.layer);
                return t;
            case Role::expert_gate: case Role::expert_up: case Role::expert_down:
                t.recipe = TensorRecipe::expert_slice;
                t.ffn_role = ffn_role_of(slot.role);
                t.source = source_of_expert(slot.expert, m_o.experts, m_sources.size());
                t.source_name = tensor_name(dense_family, t.ffn_role, slot.layer);
                t.decl.dtype = converted_dtype(m_dense.checkpoint.at(t.source_name).dtype, m_o.dtype);
                return t;
            case Role::shared_gate: case Role::shared_up: case Role::shared_down:
                return carried(std::move(t), tensor_name(dense_family, ffn_role_of(slot.role), slot.layer));
            default: break;
        }
        const std::string name = tensor_name(dense_family, slot.role, slot.layer);
        if (is_attention_bias(slot.role) && !m_dense.checkpoint.find(name)) {
            // The target always has q/k/v biases (Qwen2-MoE); zeros keep the attention unchanged.
            t.recipe = TensorRecipe::zeros;
            const std::string q = tensor_name(dense_family, Role::attn_q, slot.layer);
            t.decl.dtype = converted_dtype(m_dense.checkpoint.at(q).dtype, m_o.dtype);
            return t;
        }
        return carried(std::move(t), name);
    }

    // Tensors of the first source that the forward pass does not use (old rotary buffers, ...).
    std::vector<PlannedTensor> extras(const std::set<std::string>& planned) const {
        std::set<std::string> used;
        for (const ExpectedTensor& e : expected_tensors(m_dense.description, m_dense.layout)) used.insert(e.name);
        std::vector<PlannedTensor> out;
        for (const TensorInfo& info : m_dense.checkpoint.tensors()) {
            if (used.count(info.name) || planned.count(info.name)) continue;
            PlannedTensor t;
            t.decl = {info.name, converted_dtype(info.dtype, m_o.dtype), info.shape};
            t.source_name = info.name;
            out.push_back(std::move(t));
        }
        return out;
    }

private:
    DType ffn_dtype(int layer) const {
        const std::string gate = tensor_name(*m_dense.description.family, Role::ffn_gate, layer);
        return converted_dtype(m_dense.checkpoint.at(gate).dtype, m_o.dtype);
    }

    PlannedTensor carried(PlannedTensor t, const std::string& source_name) const {
        const TensorInfo* info = m_dense.checkpoint.find(source_name);
        SY_CHECK(info, CheckpointError,
                 m_dense.checkpoint.dir().string() + ": " + source_name + ": missing; " + t.decl.name + " is made from it");
        SY_CHECK(info->shape == t.decl.shape, ShapeMismatch,
                 m_dense.checkpoint.dir().string() + ": " + source_name + ": expected shape " +
                     shape_to_string(t.decl.shape) + " for " + t.decl.name + ", found " + shape_to_string(info->shape));
        t.recipe = TensorRecipe::carry;
        t.source_name = source_name;
        t.average = m_sources.size() > 1 && m_o.non_experts == NonExpertSource::average;
        t.decl.dtype = converted_dtype(info->dtype, m_o.dtype);
        return t;
    }

    const std::vector<const Model*>& m_sources;
    const Model& m_dense;
    const UpcycleOptions& m_o;
};

}  // namespace

UpcycleResult check_upcycle(const std::vector<const Model*>& sources, const UpcycleOptions& options) {
    return plan_upcycle(sources, options).summary;
}

UpcyclePlan plan_upcycle(const std::vector<const Model*>& sources, const UpcycleOptions& options) {
    UpcyclePlan plan;
    plan.summary = check_sources_and_options(sources, options);
    const UpcycleOptions& o = plan.summary.resolved;
    const Model& dense = *sources.front();
    plan.family = &find_family(o.family);
    plan.config = upcycle_config(dense, *plan.family, o);
    plan.target = parse_model_config(plan.config.dump(), "upcycled config.json");
    plan.dense_width = dense_ffn_width(dense.description);
    plan.expert_width = plan.dense_width / o.granularity;

    const auto slots = target_slots(*plan.family, plan.target);
    const TensorPlanner planner(sources, o);
    std::set<std::string> names;
    for (const ExpectedTensor& e : expected_tensors(plan.target, ExpertLayout::per_expert)) {
        plan.tensors.push_back(planner.plan(e, slots.at(e.name)));
        names.insert(e.name);
    }
    const auto extras = planner.extras(names);
    if (!extras.empty())
        plan.summary.notes.push_back("copied " + std::to_string(extras.size()) +
                                     " tensor(s) of the first source that the forward pass does not use, e.g. " +
                                     extras.front().decl.name);
    plan.tensors.insert(plan.tensors.end(), extras.begin(), extras.end());
    std::sort(plan.tensors.begin(), plan.tensors.end(),
              [](const PlannedTensor& a, const PlannedTensor& b) { return a.decl.name < b.decl.name; });
    return plan;
}

}  // namespace sy
