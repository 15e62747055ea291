#include "forward/mlp.h"

#include <torch/torch.h>

namespace sy {
namespace {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    return torch::matmul(x, weight.t()) + bias;
}

// gpt-oss (GptOssExperts, formats.md §6.3): gate clamped from above, up on both sides, then
// (up + 1) * gate * sigmoid(alpha * gate); the down bias is added before the gate weighting.
torch::Tensor clamped_swiglu(const ModelDescription& m, const torch::Tensor& x, const ExpertWeights& w) {
    const torch::Tensor gate = linear(x, w.gate, w.gate_bias).clamp_max(m.swiglu_limit);
    const torch::Tensor up = linear(x, w.up, w.up_bias).clamp(-m.swiglu_limit, m.swiglu_limit);
    const torch::Tensor glu = gate * torch::sigmoid(gate * m.swiglu_alpha);
    return linear((up + 1) * glu, w.down, w.down_bias);
}

}  // namespace

torch::Tensor silu_mlp(const torch::Tensor& x, const torch::Tensor& gate, const torch::Tensor& up,
                       const torch::Tensor& down) {
    torch::Tensor hidden = torch::matmul(x, gate.t());
    // With no backward to keep the pre-activation for, the activation and the product overwrite
    // the gate projection's own buffer (the same values, two [rows, width] buffers fewer).
    hidden = torch::GradMode::is_enabled() ? torch::silu(hidden) * torch::matmul(x, up.t())
                                           : torch::silu_(hidden).mul_(torch::matmul(x, up.t()));
    return torch::matmul(hidden, down.t());
}

torch::Tensor expert_mlp(const ModelDescription& model, const torch::Tensor& x, const ExpertWeights& expert) {
    if (model.family->expert_mlp == ExpertMlp::clamped_swiglu) return clamped_swiglu(model, x, expert);
    return silu_mlp(x, expert.gate, expert.up, expert.down);
}

}  // namespace sy
