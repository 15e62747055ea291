#include "layer_weights.h"

#include <torch/torch.h>

#include <stdexcept>

#include "layer_tensors.h"

namespace sy {
namespace {

using Role = TensorRole;

// Fused v5 layout: gate_up_proj[e] holds gate rows first, then up rows (formats.md §0.2).
ExpertWeights split_fused(const torch::Tensor& gate_up, const torch::Tensor& down) {
    const int64_t width = gate_up.size(0) / 2;
    return {gate_up.narrow(0, 0, width), gate_up.narrow(0, width, width), down};
}

ExpertWeights load_expert(const WeightLoader& loader, int layer, int expert) {
    if (loader.model().layout == ExpertLayout::fused)
        return split_fused(loader.load_fused_slice(Role::expert_gate_up, layer, expert),
                           loader.load_fused_slice(Role::expert_down, layer, expert));
    return {loader.load(Role::expert_gate, layer, expert), loader.load(Role::expert_up, layer, expert),
            loader.load(Role::expert_down, layer, expert)};
}

std::vector<ExpertWeights> load_all_experts(const WeightLoader& loader, int layer, int64_t count) {
    std::vector<ExpertWeights> experts;
    experts.reserve(static_cast<std::size_t>(count));
    if (loader.model().layout == ExpertLayout::fused) {
        // Views into the two whole tensors: one conversion each, no per-expert copies.
        const torch::Tensor gate_up = loader.load(Role::expert_gate_up, layer);
        const torch::Tensor down = loader.load(Role::expert_down, layer);
        for (int64_t e = 0; e < count; ++e) experts.push_back(split_fused(gate_up[e], down[e]));
        return experts;
    }
    for (int e = 0; e < count; ++e) experts.push_back(load_expert(loader, layer, e));
    return experts;
}

void release_experts(const WeightLoader& loader, const LayerTensorRoles& roles, int layer, int expert) {
    for (Role role : roles.experts) loader.release(role, layer, expert);
}

}  // namespace

const torch::Tensor& LayerWeights::at(TensorRole role) const {
    auto it = common.find(role);
    if (it == common.end())
        throw std::logic_error("layer " + std::to_string(layer) + ": weight " + std::string(tensor_role_name(role)) +
                               " was not loaded");
    return it->second;
}

torch::Tensor LayerWeights::find(TensorRole role) const {
    auto it = common.find(role);
    return it == common.end() ? torch::Tensor() : it->second;
}

std::shared_ptr<LayerWeights> load_layer_weights(const WeightLoader& loader, int layer, bool with_experts) {
    const LayerTensorRoles roles = layer_tensor_roles(loader.model().description, loader.model().layout, layer);
    auto weights = std::make_shared<LayerWeights>();
    weights->layer = layer;
    for (Role role : roles.common) weights->common.emplace(role, loader.load(role, layer));
    if (with_experts && roles.expert_count > 0) weights->experts = load_all_experts(loader, layer, roles.expert_count);
    return weights;
}

void release_layer_sources(const WeightLoader& loader, int layer) {
    const LayerTensorRoles roles = layer_tensor_roles(loader.model().description, loader.model().layout, layer);
    for (Role role : roles.common) loader.release(role, layer);
    if (roles.expert_count == 0) return;
    if (loader.model().layout == ExpertLayout::fused) release_experts(loader, roles, layer, -1);
    else
        for (int e = 0; e < roles.expert_count; ++e) release_experts(loader, roles, layer, e);
}

ExpertWeights ResidentExperts::acquire(int expert) { return m_weights.experts.at(static_cast<std::size_t>(expert)); }

ExpertWeights StreamedExperts::acquire(int expert) { return load_expert(m_loader, m_layer, expert); }

void StreamedExperts::release(int expert) {
    // A fused tensor holds every expert: its pages go with the layer (release_layer_sources).
    if (m_loader.model().layout == ExpertLayout::fused) return;
    const LayerTensorRoles roles = layer_tensor_roles(m_loader.model().description, m_loader.model().layout, m_layer);
    release_experts(m_loader, roles, m_layer, expert);
}

}  // namespace sy
