#include "weights/model_patch_apply.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

using Role = TensorRole;

const LayerPatch* layer_patch(const WeightLoader& loader, int layer) {
    const ModelPatch* patch = loader.patch();
    if (!patch) return nullptr;
    const auto it = patch->layers.find(layer);
    return it == patch->layers.end() ? nullptr : &it->second;
}

torch::Tensor host_tensor(const std::vector<float>& values, std::vector<int64_t> shape, const std::string& what) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    SY_CHECK(count == static_cast<int64_t>(values.size()), ShapeMismatch,
             what + ": expected " + std::to_string(count) + " values, found " + std::to_string(values.size()));
    return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat32);
}

void patch_router(const LayerPatch& patch, int layer, LayerWeights& w) {
    if (patch.router_rows.empty()) return;
    torch::Tensor router = w.at(Role::router).clone();
    for (const auto& [expert, row] : patch.router_rows)
        router[expert].copy_(host_tensor(row, {router.size(1)}, "layer " + std::to_string(layer) + ": router row " +
                                                                     std::to_string(expert)));
    w.common[Role::router] = router;
}

void patch_bias(const LayerPatch& patch, const FamilySpec& family, LayerWeights& w) {
    if (patch.score_bias.empty()) return;
    const TensorRole role = router_bias_role(family).value();
    torch::Tensor bias = w.at(role).clone();
    for (const auto& [expert, value] : patch.score_bias) bias[expert].fill_(value);
    w.common[role] = bias;
}

}  // namespace

std::optional<ExpertWeights> patched_expert(const WeightLoader& loader, int layer, int expert) {
    const LayerPatch* patch = layer_patch(loader, layer);
    if (!patch || std::find(patch->replaced_experts.begin(), patch->replaced_experts.end(), expert) ==
                      patch->replaced_experts.end())
        return std::nullopt;
    const ModelDescription& d = loader.model().description;
    const int64_t inter = d.expert_intermediate_size, hidden = d.hidden_size;
    const ExpertTensorsF32 values = loader.patch()->expert_weights(layer, expert);
    const auto options = torch::TensorOptions().dtype(torch_compute_dtype(loader.dtype())).device(loader.device());
    const std::string what = "layer " + std::to_string(layer) + " expert " + std::to_string(expert);
    // to(..., copy=true): for f32 on the CPU a plain to() would alias `values`, which dies here.
    const auto tensor = [&](const std::vector<float>& v, std::vector<int64_t> shape, const char* part) {
        return host_tensor(v, std::move(shape), what + " " + part).to(options, false, true);
    };
    ExpertWeights out{tensor(values.gate, {inter, hidden}, "gate"), tensor(values.up, {inter, hidden}, "up"),
                      tensor(values.down, {hidden, inter}, "down"), {}, {}, {}};
    if (!values.down_bias.empty()) {
        out.gate_bias = tensor(values.gate_bias, {inter}, "gate bias");
        out.up_bias = tensor(values.up_bias, {inter}, "up bias");
        out.down_bias = tensor(values.down_bias, {hidden}, "down bias");
    }
    return out;
}

void apply_layer_patch(const WeightLoader& loader, LayerWeights& w) {
    const LayerPatch* patch = layer_patch(loader, w.layer);
    if (!patch) return;
    patch_router(*patch, w.layer, w);
    patch_bias(*patch, *loader.model().description.family, w);
    if (w.experts.empty()) return;   // streamed experts are patched as they are acquired
    for (int expert : patch->replaced_experts) {
        std::optional<ExpertWeights> replaced = patched_expert(loader, w.layer, expert);
        ExpertWeights& slot = w.experts.at(static_cast<std::size_t>(expert));
        if (w.stacked.defined()) {   // the experts are views into the stacked tensors: write through
            slot.gate.copy_(replaced->gate);
            slot.up.copy_(replaced->up);
            slot.down.copy_(replaced->down);
            for (auto [to, from] : {std::pair{&slot.gate_bias, &replaced->gate_bias}, std::pair{&slot.up_bias, &replaced->up_bias},
                                    std::pair{&slot.down_bias, &replaced->down_bias}})
                if (to->defined()) to->copy_(*from);
        } else {
            slot = std::move(*replaced);
        }
    }
}

void check_expert_mask(const ModelDescription& model, const ExpertMask& mask, const std::string& flag) {
    check_layer_experts(model, mask, flag);
    for (const auto& [layer, experts] : mask) {
        std::vector<int> unique(experts);
        std::sort(unique.begin(), unique.end());
        unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
        const int64_t kept = model.experts_in_layer(layer) - static_cast<int64_t>(unique.size());
        SY_CHECK(kept >= model.top_k, UsageError,
                 flag + ": layer " + std::to_string(layer) + " would keep " + std::to_string(kept) + " of " +
                     std::to_string(model.experts_in_layer(layer)) + " experts, fewer than top_k = " +
                     std::to_string(model.top_k));
    }
}

}  // namespace sy
