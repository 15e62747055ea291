#include "switchyard/compute/expert_tensors.h"

#include <torch/torch.h>

#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"
#include "torch_errors.h"
#include "weights/weight_loader.h"

namespace sy {
namespace {

std::vector<float> host_values(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU).to(torch::kFloat32).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

bool is_bias(ExpertPart part) {
    return part == ExpertPart::gate_bias || part == ExpertPart::up_bias || part == ExpertPart::down_bias;
}

// Biases are stored fused [E, 2I] / [E, H] (gpt-oss); the loader gives gate first, then up.
torch::Tensor load_bias(const WeightLoader& loader, int layer, int expert, ExpertPart part) {
    if (part == ExpertPart::down_bias) return loader.load_fused_slice(TensorRole::expert_down_bias, layer, expert);
    const torch::Tensor gate_up = loader.load_fused_slice(TensorRole::expert_gate_up_bias, layer, expert);
    const int64_t width = gate_up.size(0) / 2;
    return gate_up.narrow(0, part == ExpertPart::gate_bias ? 0 : width, width);
}

torch::Tensor load_part(const WeightLoader& loader, int layer, int expert, ExpertPart part) {
    if (is_bias(part)) return load_bias(loader, layer, expert, part);
    if (loader.model().layout == ExpertLayout::fused) {
        if (part == ExpertPart::down) return loader.load_fused_slice(TensorRole::expert_down, layer, expert);
        const torch::Tensor gate_up = loader.load_fused_slice(TensorRole::expert_gate_up, layer, expert);
        const int64_t width = gate_up.size(0) / 2;
        return gate_up.narrow(0, part == ExpertPart::gate ? 0 : width, width);
    }
    const TensorRole role = part == ExpertPart::gate ? TensorRole::expert_gate
                            : part == ExpertPart::up ? TensorRole::expert_up
                                                     : TensorRole::expert_down;
    return loader.load(role, layer, expert);
}

}  // namespace

std::vector<float> load_expert_part_f32(const Model& model, int layer, int expert, ExpertPart part) {
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    return guard_torch("layer " + std::to_string(layer) + " expert " + std::to_string(expert),
                       [&] { return host_values(load_part(loader, layer, expert, part)); });
}

std::vector<ExpertPart> expert_parts(const Model& model) {
    std::vector<ExpertPart> parts = {ExpertPart::gate, ExpertPart::up, ExpertPart::down};
    if (has_tensor_role(*model.description.family, TensorRole::expert_down_bias, model.layout))
        parts.insert(parts.end(), {ExpertPart::gate_bias, ExpertPart::up_bias, ExpertPart::down_bias});
    return parts;
}

ExpertTensorsF32 load_expert_f32(const Model& model, int layer, int expert) {
    ExpertTensorsF32 out{load_expert_part_f32(model, layer, expert, ExpertPart::gate),
                         load_expert_part_f32(model, layer, expert, ExpertPart::up),
                         load_expert_part_f32(model, layer, expert, ExpertPart::down),
                         {}, {}, {}};
    if (expert_parts(model).size() > 3) {
        out.gate_bias = load_expert_part_f32(model, layer, expert, ExpertPart::gate_bias);
        out.up_bias = load_expert_part_f32(model, layer, expert, ExpertPart::up_bias);
        out.down_bias = load_expert_part_f32(model, layer, expert, ExpertPart::down_bias);
    }
    return out;
}

std::vector<float> load_router_f32(const Model& model, int layer) {
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    return guard_torch("layer " + std::to_string(layer) + " router",
                       [&] { return host_values(loader.load(TensorRole::router, layer)); });
}

std::optional<TensorRole> router_bias_role(const FamilySpec& family) {
    if (has_tensor_role(family, TensorRole::router_score_bias)) return TensorRole::router_score_bias;
    if (has_tensor_role(family, TensorRole::router_bias)) return TensorRole::router_bias;
    return std::nullopt;
}

std::vector<float> load_score_bias_f32(const Model& model, int layer) {
    const std::optional<TensorRole> role = router_bias_role(*model.description.family);
    if (!role) return {};
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    return guard_torch("layer " + std::to_string(layer) + " router bias",
                       [&] { return host_values(loader.load(*role, layer)); });
}

}  // namespace sy
