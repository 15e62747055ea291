#include "weights/layer_weights.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>

#include "switchyard/core/errors.h"
#include "weights/layer_tensors.h"
#include "weights/model_patch_apply.h"
#include "weights/parallel_load.h"

namespace sy {
namespace {

using Role = TensorRole;

// Fused v5 layout: gate_up_proj[e] holds gate rows first, then up rows (formats.md §0.2); the
// loader brings gpt-oss's tensors and biases into the same form.
ExpertWeights split_fused(const torch::Tensor& gate_up, const torch::Tensor& down) {
    const int64_t width = gate_up.size(0) / 2;
    return {gate_up.narrow(0, 0, width), gate_up.narrow(0, width, width), down, {}, {}, {}};
}

void attach_biases(ExpertWeights& expert, const torch::Tensor& gate_up_bias, const torch::Tensor& down_bias) {
    const int64_t width = gate_up_bias.size(0) / 2;
    expert.gate_bias = gate_up_bias.narrow(0, 0, width);
    expert.up_bias = gate_up_bias.narrow(0, width, width);
    expert.down_bias = down_bias;
}

bool has_biases(const WeightLoader& loader) { return loader.model().description.family->has_expert_biases(); }

// CPU loads run on several threads (weights/parallel_load.h); device loads stay on the
// calling thread, in the order the device's stream would serialise them anyway.
void run_load_tasks(const WeightLoader& loader, int64_t count, const std::function<void(int64_t)>& task) {
    if (loader.device().is_cpu()) {
        parallel_tasks(count, task);
        return;
    }
    for (int64_t i = 0; i < count; ++i) task(i);
}

std::vector<torch::Tensor> load_roles(const WeightLoader& loader, const std::vector<Role>& roles, int layer) {
    std::vector<torch::Tensor> tensors(roles.size());
    run_load_tasks(loader, static_cast<int64_t>(roles.size()), [&](int64_t i) {
        tensors[static_cast<std::size_t>(i)] = loader.load(roles[static_cast<std::size_t>(i)], layer);
    });
    return tensors;
}

// `parts_in_parallel`: the expert's tensors on several threads, for an expert loaded alone
// (streamed); callers that load many experts at once parallelise over experts instead.
ExpertWeights load_expert(const WeightLoader& loader, int layer, int expert, bool parts_in_parallel = false) {
    const bool fused = loader.model().layout == ExpertLayout::fused;
    const std::vector<Role> roles = fused ? std::vector<Role>{Role::expert_gate_up, Role::expert_down}
                                          : std::vector<Role>{Role::expert_gate, Role::expert_up, Role::expert_down};
    const auto parts = static_cast<int64_t>(roles.size());
    torch::Tensor loaded[3];
    const auto task = [&](int64_t i) {
        const Role role = roles[static_cast<std::size_t>(i)];
        loaded[i] = fused ? loader.load_fused_slice(role, layer, expert) : loader.load(role, layer, expert);
    };
    if (parts_in_parallel) run_load_tasks(loader, parts, task);
    else
        for (int64_t i = 0; i < parts; ++i) task(i);
    if (!fused) return {loaded[0], loaded[1], loaded[2], {}, {}, {}};
    ExpertWeights weights = split_fused(loaded[0], loaded[1]);
    if (has_biases(loader))
        attach_biases(weights, loader.load_fused_slice(Role::expert_gate_up_bias, layer, expert),
                      loader.load_fused_slice(Role::expert_down_bias, layer, expert));
    return weights;
}

// Per-expert layout stacked for grouped GEMM: each expert is loaded and copied into its slice,
// so the transient is one expert, not a second copy of the layer.
StackedExperts stack_experts(const WeightLoader& loader, int layer, int64_t count) {
    const ExpertWeights first = load_expert(loader, layer, 0);
    const int64_t width = first.gate.size(0);
    StackedExperts stacked;
    stacked.gate_up = torch::empty({count, 2 * width, first.gate.size(1)}, first.gate.options());
    stacked.down = torch::empty({count, first.down.size(0), first.down.size(1)}, first.down.options());
    for (int e = 0; e < count; ++e) {
        const ExpertWeights expert = e == 0 ? first : load_expert(loader, layer, e);
        stacked.gate_up[e].narrow(0, 0, width).copy_(expert.gate);
        stacked.gate_up[e].narrow(0, width, width).copy_(expert.up);
        stacked.down[e].copy_(expert.down);
    }
    return stacked;
}

// gpt-oss: views into the whole (v5-form) tensors and biases; never stacked for grouped GEMM,
// whose kernel has no biases and only SiLU.
void load_biased_experts(const WeightLoader& loader, int layer, int64_t count, LayerWeights& out) {
    const torch::Tensor gate_up = loader.load(Role::expert_gate_up, layer), down = loader.load(Role::expert_down, layer);
    const torch::Tensor gate_up_bias = loader.load(Role::expert_gate_up_bias, layer);
    const torch::Tensor down_bias = loader.load(Role::expert_down_bias, layer);
    for (int64_t e = 0; e < count; ++e) {
        out.experts.push_back(split_fused(gate_up[e], down[e]));
        attach_biases(out.experts.back(), gate_up_bias[e], down_bias[e]);
    }
}

void load_all_experts(const WeightLoader& loader, int layer, int64_t count, LayerWeights& out) {
    out.experts.reserve(static_cast<std::size_t>(count));
    if (!loader.holds_all_experts(layer)) {   // expert parallelism: only this rank's, one by one
        for (int e = 0; e < count; ++e) out.experts.push_back(loader.holds_expert(layer, e) ? load_expert(loader, layer, e) : ExpertWeights{});
        return;
    }
    if (has_biases(loader)) {
        load_biased_experts(loader, layer, count, out);
        return;
    }
    if (loader.model().layout == ExpertLayout::fused) {
        // Views into the two whole tensors: one conversion each, no per-expert copies. The
        // fused [E, 2I, H] / [E, H, I] tensors already are the grouped GEMM's stacked weights.
        const std::vector<torch::Tensor> fused = load_roles(loader, {Role::expert_gate_up, Role::expert_down}, layer);
        out.stacked = {fused[0], fused[1]};
    } else if (grouped_gemm_available(loader.device(), torch_compute_dtype(loader.dtype()))) {
        out.stacked = stack_experts(loader, layer, count);
    } else {
        out.experts.resize(static_cast<std::size_t>(count));
        run_load_tasks(loader, count, [&](int64_t e) {
            out.experts[static_cast<std::size_t>(e)] = load_expert(loader, layer, static_cast<int>(e));
        });
        return;
    }
    for (int64_t e = 0; e < count; ++e) out.experts.push_back(split_fused(out.stacked.gate_up[e], out.stacked.down[e]));
}

// Moves the expert's tensors (undefined ones too) to the end of `out`. (Not a braced list of the
// tensors: std::initializer_list copies, which would leave a second reference.)
void move_tensors(ExpertWeights& expert, std::vector<torch::Tensor>& out) {
    for (torch::Tensor* t : {&expert.gate, &expert.up, &expert.down, &expert.gate_bias, &expert.up_bias, &expert.down_bias})
        out.push_back(std::move(*t));
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
    const std::vector<torch::Tensor> common = load_roles(loader, roles.common, layer);
    for (std::size_t i = 0; i < roles.common.size(); ++i) weights->common.emplace(roles.common[i], common[i]);
    if (with_experts && roles.expert_count > 0) load_all_experts(loader, layer, roles.expert_count, *weights);
    apply_layer_patch(loader, *weights);
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

std::vector<torch::Tensor> take_tensors(LayerWeights&& weights) {
    std::vector<torch::Tensor> tensors;
    for (ExpertWeights& e : weights.experts) move_tensors(e, tensors);
    weights.experts.clear();
    tensors.push_back(std::move(weights.stacked.gate_up));
    tensors.push_back(std::move(weights.stacked.down));
    for (auto& entry : weights.common) tensors.push_back(std::move(entry.second));
    weights.common.clear();
    return tensors;
}

std::vector<WeightLoader::Source> layer_sources_to_read_ahead(const WeightLoader& loader, int layer, bool experts_loaded_ahead) {
    const LayerTensorRoles roles = layer_tensor_roles(loader.model().description, loader.model().layout, layer);
    std::vector<WeightLoader::Source> sources;
    for (Role role : roles.common) sources.push_back({role, layer, -1});
    if (roles.expert_count == 0) return sources;
    if (loader.model().layout == ExpertLayout::fused) {
        for (Role role : roles.experts) sources.push_back({role, layer, -1});
        return sources;
    }
    // The order load_all_experts reads them in, and the MoE block's (ascending, experts with
    // tokens: expert 0 is the first unless it received none).
    for (int e = 0; e < roles.expert_count; ++e)
        for (Role role : roles.experts)
            if (e == 0 || !experts_loaded_ahead || !loader.reads_uncached_directly(role, layer, e)) sources.push_back({role, layer, e});
    return sources;
}

ExpertWeights ResidentExperts::acquire(int expert) {
    const ExpertWeights& weights = m_weights.experts.at(static_cast<std::size_t>(expert));
    SY_CHECK(weights.gate.defined(), UsageError,
             "layer " + std::to_string(m_weights.layer) + ": expert " + std::to_string(expert) +
                 " is held by another rank (--expert-parallel); this operation needs every expert");
    return weights;
}

StreamedExperts::~StreamedExperts() {
    // The next streamed layer's experts (same shapes) are loaded into these tensors rather than
    // into fresh pages, which the kernel must zero (bench/README.md#load).
    try {
        if (m_ahead.valid()) recycle(m_ahead.get());
        recycle(std::move(m_last));
    } catch (const std::exception&) {
        // A load ahead that failed belonged to an interrupted layer; its error was not wanted.
    }
}

ExpertWeights StreamedExperts::load(int expert) const {
    std::optional<ExpertWeights> replaced = patched_expert(m_loader, m_layer, expert);
    return replaced ? std::move(*replaced) : load_expert(m_loader, m_layer, expert, true);
}

void StreamedExperts::recycle(ExpertWeights&& weights) const {
    std::vector<torch::Tensor> tensors;
    move_tensors(weights, tensors);   // recycle() skips the undefined ones
    m_loader.recycle(std::move(tensors));
}

void StreamedExperts::will_acquire(const std::vector<int>& order) {
    m_order = order;
    m_position = 0;
}

ExpertWeights StreamedExperts::acquire(int expert) {
    ExpertWeights weights;
    if (m_ahead.valid()) {
        const int ahead = m_ahead_expert;
        ExpertWeights loaded = m_ahead.get();   // rethrows the load's error
        if (ahead == expert) weights = std::move(loaded);
        else recycle(std::move(loaded));        // acquired out of order: that load is wasted
    }
    // The caller has dropped its copy of the previous expert by now; its tensors become the
    // destinations of the next load instead of fresh pages (WeightLoader::recycle checks they
    // are unshared). Recycled only now, after the load ahead finished, so that load never
    // writes into the expert being computed.
    recycle(std::move(m_last));
    if (!weights.gate.defined()) weights = load(expert);
    m_last = weights;
    start_next(expert);
    return weights;
}

void StreamedExperts::start_next(int expert) {
    if (!m_load_ahead) return;
    const auto it = std::find(m_order.begin() + static_cast<std::ptrdiff_t>(m_position), m_order.end(), expert);
    if (it == m_order.end()) return;
    m_position = static_cast<std::size_t>(it - m_order.begin()) + 1;
    if (m_position == m_order.size()) return;
    m_ahead_expert = m_order[m_position];
    // std::async(launch::async) runs on its own std::thread; errors surface in get().
    m_ahead = std::async(std::launch::async, [this, next = m_ahead_expert] { return load(next); });
}

void StreamedExperts::release(int expert) {
    // A fused tensor holds every expert: its pages go with the layer (release_layer_sources).
    if (m_loader.model().layout == ExpertLayout::fused) return;
    const LayerTensorRoles roles = layer_tensor_roles(m_loader.model().description, m_loader.model().layout, m_layer);
    release_experts(m_loader, roles, m_layer, expert);
}

}  // namespace sy
