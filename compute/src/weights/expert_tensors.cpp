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

torch::Tensor load_part(const WeightLoader& loader, int layer, int expert, ExpertPart part) {
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

ExpertTensorsF32 load_expert_f32(const Model& model, int layer, int expert) {
    return {load_expert_part_f32(model, layer, expert, ExpertPart::gate),
            load_expert_part_f32(model, layer, expert, ExpertPart::up),
            load_expert_part_f32(model, layer, expert, ExpertPart::down)};
}

std::vector<float> load_router_f32(const Model& model, int layer) {
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    return guard_torch("layer " + std::to_string(layer) + " router",
                       [&] { return host_values(loader.load(TensorRole::router, layer)); });
}

std::vector<float> load_score_bias_f32(const Model& model, int layer) {
    if (!has_tensor_role(*model.description.family, TensorRole::router_score_bias, model.layout)) return {};
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    return guard_torch("layer " + std::to_string(layer) + " correction bias",
                       [&] { return host_values(loader.load(TensorRole::router_score_bias, layer)); });
}

}  // namespace sy
