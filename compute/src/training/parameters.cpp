// Naming, shapes and validation of trained tensors (training.h ParameterRef), from the checkpoint
// headers and the family table alone: what --plan and the refusals before loading need.
#include "training/parameters.h"

#include <set>

#include "switchyard/compute/training.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"
#include "weights/layer_tensors.h"

namespace sy {
namespace {

using Role = TensorRole;

bool is_expert_part(Role role) { return role == Role::expert_gate || role == Role::expert_up || role == Role::expert_down; }

std::string layer_text(int layer) { return "layer " + std::to_string(layer); }

// The checkpoint tensor holding `ref` (the fused tensor for a fused expert part).
const TensorInfo* stored_tensor(const Model& model, const ParameterRef& ref) {
    const FamilySpec& spec = *model.description.family;
    if (!is_expert_part(ref.role) || model.layout == ExpertLayout::per_expert)
        return model.checkpoint.find(tensor_name(spec, ref.role, ref.layer, ref.expert, model.layout));
    const Role fused = ref.role == Role::expert_down ? Role::expert_down : Role::expert_gate_up;
    return model.checkpoint.find(tensor_name(spec, fused, ref.layer, -1, model.layout));
}

void check_one(const Model& model, const ParameterRef& ref) {
    const ModelDescription& d = model.description;
    const std::string what = "cannot train " + parameter_name(ref);
    SY_CHECK(ref.layer >= 0 && ref.layer < d.num_layers, UsageError,
             what + ": the model has layers 0.." + std::to_string(d.num_layers - 1));
    if (is_expert_part(ref.role)) {
        SY_CHECK(d.is_moe_layer(ref.layer), UsageError, what + ": " + layer_text(ref.layer) + " is not a MoE layer");
        const int64_t experts = d.experts_in_layer(ref.layer);
        SY_CHECK(ref.expert >= 0 && ref.expert < experts, UsageError,
                 what + ": " + layer_text(ref.layer) + " has experts 0.." + std::to_string(experts - 1));
        // gpt-oss stores per-expert biases and an interleaved fused form; its edited export
        // cannot write experts back yet.
        SY_CHECK(!d.family->has_expert_biases(), UsageError,
                 what + ": " + d.model_type + " experts (with biases, interleaved gate/up) cannot be trained");
    } else {
        SY_CHECK(ref.expert == -1, UsageError, what + ": only routed-expert parts take an expert index");
        SY_CHECK(role_is_per_layer(*d.family, ref.role, model.layout), UsageError,
                 what + ": embeddings, lm_head and the final norm are not trained");
        const LayerTensorRoles roles = layer_tensor_roles(d, model.layout, ref.layer);
        bool used = false;
        for (Role role : roles.common) used |= role == ref.role;
        SY_CHECK(used, UsageError, what + ": " + layer_text(ref.layer) + " has no " + std::string(tensor_role_name(ref.role)));
    }
    const TensorInfo* info = stored_tensor(model, ref);
    SY_CHECK(info != nullptr, UsageError, what + ": the checkpoint stores it in a form that cannot be trained");
    SY_CHECK(info->dtype == DType::f32 || info->dtype == DType::bf16 || info->dtype == DType::f16 ||
                 info->dtype == DType::f8_e4m3,
             UsageError, what + ": " + info->name + " is stored as " + std::string(dtype_name(info->dtype)));
}

}  // namespace

std::string parameter_name(const ParameterRef& ref) {
    std::string text = layer_text(ref.layer);
    if (ref.expert >= 0) text += " expert " + std::to_string(ref.expert);
    return text + " " + std::string(tensor_role_name(ref.role));
}

std::vector<ParameterRef> expert_parameters(int layer, int expert) {
    return {{Role::expert_gate, layer, expert}, {Role::expert_up, layer, expert}, {Role::expert_down, layer, expert}};
}

std::vector<ParameterRef> dense_mlp_parameters(int layer) {
    return {{Role::ffn_gate, layer, -1}, {Role::ffn_up, layer, -1}, {Role::ffn_down, layer, -1}};
}

std::vector<ParameterRef> all_layer_parameters(const Model& model) {
    const ModelDescription& d = model.description;
    std::vector<ParameterRef> out;
    for (int l = 0; l < d.num_layers; ++l) {
        for (Role role : layer_tensor_roles(d, model.layout, l).common) out.push_back({role, l, -1});
        if (!d.is_moe_layer(l)) continue;
        for (int e = 0; e < d.experts_in_layer(l); ++e)
            for (const ParameterRef& ref : expert_parameters(l, e)) out.push_back(ref);
    }
    return out;
}

void check_parameters(const Model& model, const std::vector<ParameterRef>& parameters) {
    SY_CHECK(!parameters.empty(), UsageError, "nothing to train: the parameter set is empty");
    std::set<ParameterRef> seen;
    for (const ParameterRef& ref : parameters) {
        check_one(model, ref);
        SY_CHECK(seen.insert(ref).second, UsageError, parameter_name(ref) + " is listed twice");
    }
}

std::vector<int64_t> parameter_shape(const Model& model, const ParameterRef& ref) {
    const TensorInfo* info = stored_tensor(model, ref);
    SY_CHECK(info != nullptr, UsageError, "cannot train " + parameter_name(ref) + ": no such tensor");
    if (!is_expert_part(ref.role) || model.layout == ExpertLayout::per_expert) return info->shape;
    // Fused v5 form (formats.md §0.2): gate_up_proj [E, 2I, H] (gate rows, then up rows), down_proj [E, H, I].
    if (ref.role == Role::expert_down) return {info->shape.at(1), info->shape.at(2)};
    return {info->shape.at(1) / 2, info->shape.at(2)};
}

int64_t parameter_count(const Model& model, const std::vector<ParameterRef>& parameters) {
    int64_t total = 0;
    for (const ParameterRef& ref : parameters) {
        int64_t n = 1;
        for (int64_t d : parameter_shape(model, ref)) n *= d;
        total += n;
    }
    return total;
}

DType parameter_storage_dtype(const Model& model, const ParameterRef& ref) {
    const TensorInfo* info = stored_tensor(model, ref);
    SY_CHECK(info != nullptr, UsageError, "cannot train " + parameter_name(ref) + ": no such tensor");
    return info->dtype;
}

}  // namespace sy
