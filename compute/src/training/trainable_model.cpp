// TrainableModel: loads every layer as the runner does (load_layer_weights, the same loader,
// patch and masks), then splits the trained tensors off as f32 masters.
#include "training/trainable_model.h"

#include <torch/torch.h>

#include <algorithm>

#include "device.h"
#include "forward/forward_context.h"
#include "forward/rope.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_convert.h"
#include "torch_errors.h"
#include "training/parameters.h"

namespace sy {
namespace {

using Role = TensorRole;

torch::Tensor& expert_part(ExpertWeights& expert, Role role) {
    return role == Role::expert_gate ? expert.gate : role == Role::expert_up ? expert.up : expert.down;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

bool is_expert_part(Role role) { return role == Role::expert_gate || role == Role::expert_up || role == Role::expert_down; }

// FP8 blocks of the checkpoint's quantization_config, round trip on the host.
torch::Tensor round_fp8(const torch::Tensor& values, const std::array<int64_t, 2>& block) {
    const torch::Tensor host = values.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
    const int64_t rows = host.size(0), cols = host.numel() / rows;
    const std::vector<float> flat(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
    const Fp8Blocks q = quantize_fp8_blocks(flat, rows, cols, block[0], block[1]);
    const int64_t grid_cols = (cols + block[1] - 1) / block[1];
    torch::Tensor out = torch::empty_like(host);
    float* data = out.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            data[r * cols + c] = f8_e4m3_bits_to_f32(q.bytes[static_cast<std::size_t>(r * cols + c)]) *
                                 q.scale_inv[static_cast<std::size_t>((r / block[0]) * grid_cols + c / block[1])];
    return out.to(values.device());
}

}  // namespace

TrainableModel::TrainableModel(const Model& model, const RunnerOptions& runner, const std::vector<ParameterRef>& refs,
                               const std::vector<ParameterValues>& initial)
    : m_model(model),
      m_device(parse_device(runner.device)),
      m_dtype(torch_compute_dtype(runner.dtype)),
      m_compute_dtype(runner.dtype),
      m_loader(model, runner.dtype, m_device),
      m_refs(refs) {
    const ModelDescription& d = model.description;
    check_expert_mask(d, runner.masked_experts, "--mask-experts");
    m_masks = expert_mask_tensors(d, runner.masked_experts, m_device);
    m_loader.set_patch(runner.patch.get());
    rope_frequencies(d);   // unsupported rope types fail here, before any weight is loaded
    torch::NoGradGuard no_grad;
    m_embedding = m_loader.load(TensorRole::token_embedding);
    m_head.final_norm = m_loader.load(TensorRole::final_norm);
    m_head.lm_head = d.tie_word_embeddings ? m_embedding : m_loader.load(TensorRole::lm_head);
    m_head.eps = d.rms_norm_eps;
    for (int l = 0; l < d.num_layers; ++l)
        m_layers.push_back(guard_torch("layer " + std::to_string(l) + ": loading weights",
                                       [&] { return load_layer_weights(m_loader, l, true); }));
    for (const ParameterValues& v : initial) {
        torch::Tensor& target = frozen_tensor(v.ref);
        SY_CHECK(target.sizes().vec() == v.shape, UsageError,
                 parameter_name(v.ref) + ": expected starting values of shape " + shape_text(target.sizes().vec()) +
                     ", found " + shape_text(v.shape));
        SY_CHECK(static_cast<int64_t>(v.values.size()) == target.numel(), UsageError,
                 parameter_name(v.ref) + ": expected " + std::to_string(target.numel()) + " starting values, found " +
                     std::to_string(v.values.size()));
        const torch::Tensor values = torch::from_blob(const_cast<float*>(v.values.data()), v.shape, torch::kFloat32);
        target.copy_(values);   // a view of a stacked/fused tensor writes through: every path sees it
    }
    m_first_trained = d.num_layers;
    for (const ParameterRef& ref : refs) {
        m_first_trained = std::min(m_first_trained, ref.layer);
        torch::Tensor master = frozen_tensor(ref).detach().to(torch::kFloat32).clone();
        m_initial.push_back(master.clone());
        m_masters.push_back(master.requires_grad_(true));
    }
}

const ModelDescription& TrainableModel::description() const { return m_model.description; }

torch::Tensor& TrainableModel::frozen_tensor(const ParameterRef& ref) {
    LayerWeights& w = *m_layers.at(static_cast<std::size_t>(ref.layer));
    if (is_expert_part(ref.role)) return expert_part(w.experts.at(static_cast<std::size_t>(ref.expert)), ref.role);
    auto it = w.common.find(ref.role);
    SY_CHECK(it != w.common.end(), UsageError, parameter_name(ref) + ": not a tensor of this model");
    return it->second;
}

LayerWeights TrainableModel::layer(int l, bool differentiable) const {
    LayerWeights w = *m_layers.at(static_cast<std::size_t>(l));
    if (differentiable) w.stacked = {};   // the per-expert path, which autograd differentiates
    for (std::size_t i = 0; i < m_refs.size(); ++i) {
        const ParameterRef& ref = m_refs[i];
        if (ref.layer != l) continue;
        const torch::Tensor cast = m_masters[i].to(role_dtype(*description().family, ref.role, m_compute_dtype));
        if (is_expert_part(ref.role)) expert_part(w.experts.at(static_cast<std::size_t>(ref.expert)), ref.role) = cast;
        else w.common[ref.role] = cast;
    }
    return w;
}

void TrainableModel::set_masters(const std::vector<torch::Tensor>& values) {
    torch::NoGradGuard no_grad;
    SY_CHECK(values.size() == m_masters.size(), ShapeMismatch,
             "expected " + std::to_string(m_masters.size()) + " trained tensors, found " + std::to_string(values.size()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        SY_CHECK(values[i].sizes() == m_masters[i].sizes(), ShapeMismatch,
                 parameter_name(m_refs[i]) + ": saved values have another shape");
        m_masters[i].copy_(values[i]);
    }
}

std::vector<torch::Tensor> TrainableModel::stored_masters(const std::optional<DType>& store_dtype) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> out;
    for (std::size_t i = 0; i < m_masters.size(); ++i) {
        const DType dtype = store_dtype.value_or(parameter_storage_dtype(m_model, m_refs[i]));
        const torch::Tensor& m = m_masters[i];
        if (dtype == DType::bf16) out.push_back(m.detach().to(torch::kBFloat16).to(torch::kFloat32));
        else if (dtype == DType::f16) out.push_back(m.detach().to(torch::kFloat16).to(torch::kFloat32));
        else if (dtype == DType::f8_e4m3 && description().fp8_block_size)
            out.push_back(round_fp8(m, *description().fp8_block_size));
        else out.push_back(m.detach().clone());
    }
    return out;
}

}  // namespace sy
