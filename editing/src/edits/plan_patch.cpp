#include "switchyard/editing/plan_patch.h"

#include <algorithm>
#include <array>
#include <map>

#include "expert_math.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/expert_training.h"
#include "tensor_bytes.h"

namespace sy {
namespace {

// Dtype of a role's tensor in the checkpoint (per-expert name of expert 0, or the fused tensor).
DType role_dtype(const Model& model, TensorRole role, int layer) {
    const FamilySpec& spec = *model.description.family;
    TensorRole stored = role;
    if (model.layout == ExpertLayout::fused && (role == TensorRole::expert_gate || role == TensorRole::expert_up))
        stored = TensorRole::expert_gate_up;
    const int expert = role_is_per_expert(spec, stored, model.layout) ? 0 : -1;
    const std::string name = tensor_name(spec, stored, layer, expert, model.layout);
    // gpt-oss MXFP4 experts are stored as BF16 by any export that computes them (edit_export.h).
    if (stored_as_mxfp4(model.checkpoint, name)) return DType::bf16;
    return model.checkpoint.at(name).dtype;
}

std::vector<float> rounded(std::vector<float> values, DType dtype, int64_t rows, int64_t cols, const Model& model,
                           const std::string& what) {
    const auto block = model.description.fp8_block_size.value_or(std::array<int64_t, 2>{128, 128});
    round_to_storage(values, dtype, rows, cols, block[0], block[1], what);
    return values;
}

// An expert's weights (and biases) as `storage` holds them.
ExpertTensorsF32 rounded_expert(ExpertTensorsF32 w, DType storage, const Model& m) {
    const int64_t inter = m.description.expert_intermediate_size, hidden = m.description.hidden_size;
    w.gate = rounded(std::move(w.gate), storage, inter, hidden, m, "expert");
    w.up = rounded(std::move(w.up), storage, inter, hidden, m, "expert");
    w.down = rounded(std::move(w.down), storage, hidden, inter, m, "expert");
    if (!w.down_bias.empty()) {
        w.gate_bias = rounded(std::move(w.gate_bias), storage, 1, inter, m, "expert bias");
        w.up_bias = rounded(std::move(w.up_bias), storage, 1, inter, m, "expert bias");
        w.down_bias = rounded(std::move(w.down_bias), storage, 1, hidden, m, "expert bias");
    }
    return w;
}

}  // namespace

PlanPatch patch_for_plan(const Model& model, const EditPlan& plan, ExportDType dtype) {
    const ModelDescription& d = model.description;
    PlanPatch out;
    auto patch = std::make_shared<ModelPatch>();
    auto replaced = std::make_shared<std::map<std::pair<int, int>, PlannedExpert>>();
    std::map<int, DType> expert_dtype;
    const std::optional<TensorRole> bias_role = router_bias_role(*d.family);
    for (const LayerPlan& l : plan.layers) {
        if (l.unchanged()) continue;
        std::vector<bool> occupied(static_cast<std::size_t>(l.original_experts), false);
        LayerPatch lp;
        std::vector<float> router, bias;
        const DType router_dtype = converted_dtype(role_dtype(model, TensorRole::router, l.layer), dtype);
        for (const PlannedExpert& p : l.experts) {
            occupied[static_cast<std::size_t>(p.home)] = true;
            if (!p.is_copy() || p.copy_source() != p.home) {
                lp.replaced_experts.push_back(p.home);
                (*replaced)[{l.layer, p.home}] = p;
            }
            if (p.router_source != p.home) {
                if (p.router_source >= 0 && router.empty()) router = load_router_f32(model, l.layer);
                lp.router_rows[p.home] =
                    p.router_source >= 0
                        ? std::vector<float>(router.begin() + p.router_source * d.hidden_size,
                                             router.begin() + (p.router_source + 1) * d.hidden_size)
                        : rounded(p.router_row, router_dtype, 1, d.hidden_size, model, "router row");
            }
            if (bias_role && p.bias_source != p.home) {
                if (p.bias_source >= 0 && bias.empty()) bias = load_score_bias_f32(model, l.layer);
                const DType bias_dtype = converted_dtype(role_dtype(model, *bias_role, l.layer), dtype);
                lp.score_bias[p.home] = p.bias_source >= 0 ? bias[static_cast<std::size_t>(p.bias_source)]
                                                           : rounded({p.bias_value}, bias_dtype, 1, 1, model, "bias")[0];
            }
        }
        for (int e = 0; e < l.original_experts; ++e)
            if (!occupied[static_cast<std::size_t>(e)]) out.masks[l.layer].push_back(e);
        expert_dtype[l.layer] = converted_dtype(role_dtype(model, TensorRole::expert_down, l.layer), dtype);
        patch->layers[l.layer] = std::move(lp);
    }
    const Model* m = &model;
    patch->expert_weights = [m, replaced, expert_dtype](int layer, int expert) {
        const PlannedExpert& p = replaced->at({layer, expert});
        return rounded_expert(materialize_expert(*m, layer, p), expert_dtype.at(layer), *m);
    };
    out.patch = patch;
    return out;
}

PlanPatch patch_for_plan_then_trained(const Model& model, const EditPlan& plan, const Model& edited,
                                      const TrainingResult& result, ExportDType dtype) {
    const ModelDescription& d = model.description;
    const int64_t hidden = d.hidden_size;
    // The prefix export stores the plan's computed weights in the stored dtypes (keep); the
    // final export then converts every tensor it did not train to what `dtype` asks for.
    const PlanPatch structural = patch_for_plan(model, plan, ExportDType::keep);
    const std::shared_ptr<const ModelPatch> trained = patch_for_trained(edited, result, dtype);
    auto patch = std::make_shared<ModelPatch>(*structural.patch);
    const std::optional<TensorRole> bias_role = router_bias_role(*d.family);
    std::map<int, DType> expert_dtype;
    for (auto& [layer, lp] : patch->layers) {
        const DType router_dtype = converted_dtype(role_dtype(model, TensorRole::router, layer), dtype);
        for (auto& [expert, row] : lp.router_rows) row = rounded(std::move(row), router_dtype, 1, hidden, model, "router row");
        if (bias_role) {
            const DType bias_dtype = converted_dtype(role_dtype(model, *bias_role, layer), dtype);
            for (auto& [expert, value] : lp.score_bias) value = rounded({value}, bias_dtype, 1, 1, model, "bias")[0];
        }
        expert_dtype[layer] = converted_dtype(role_dtype(model, TensorRole::expert_down, layer), dtype);
    }
    // Trained tensors at the home slots of the experts they belong to in `edited`.
    auto trained_home = std::make_shared<std::map<std::pair<int, int>, int>>();   // (layer, home) -> index in `edited`
    for (const auto& [layer, tl] : trained->layers) {
        const LayerPlan& lp = plan.layer(layer);
        const auto home = [&](int expert) {
            SY_CHECK(expert >= 0 && expert < static_cast<int>(lp.experts.size()), UsageError,
                     "layer " + std::to_string(layer) + ": trained expert " + std::to_string(expert) + " of " +
                         std::to_string(lp.experts.size()) + " the stack's entries leave");
            return lp.experts[static_cast<std::size_t>(expert)].home;
        };
        LayerPatch& out = patch->layers[layer];
        for (const auto& [expert, row] : tl.router_rows) out.router_rows[home(expert)] = row;
        for (const auto& [expert, value] : tl.score_bias) out.score_bias[home(expert)] = value;
        for (int expert : tl.replaced_experts) {
            const int slot = home(expert);
            (*trained_home)[{layer, slot}] = expert;
            if (std::find(out.replaced_experts.begin(), out.replaced_experts.end(), slot) == out.replaced_experts.end())
                out.replaced_experts.push_back(slot);
        }
    }
    const Model* m = &model;
    const bool convert = dtype != ExportDType::keep;
    patch->expert_weights = [m, trained, trained_home, structural, expert_dtype, convert](int layer, int expert) {
        const auto it = trained_home->find({layer, expert});
        if (it != trained_home->end()) return trained->expert_weights(layer, it->second);
        ExpertTensorsF32 w = structural.patch->expert_weights(layer, expert);
        return convert ? rounded_expert(std::move(w), expert_dtype.at(layer), *m) : w;
    };
    return PlanPatch{structural.masks, patch};
}

}  // namespace sy
