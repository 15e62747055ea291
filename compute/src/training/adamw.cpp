#include "training/adamw.h"

#include <torch/torch.h>

#include <cmath>

namespace sy {

AdamW::AdamW(std::vector<torch::Tensor> parameters, const OptimizerOptions& options)
    : m_parameters(std::move(parameters)), m_options(options) {
    reset();
}

void AdamW::reset() {
    m_exp_avg.clear();
    m_exp_avg_sq.clear();
    for (const torch::Tensor& p : m_parameters) {
        m_exp_avg.push_back(torch::zeros_like(p, p.options().requires_grad(false)));
        m_exp_avg_sq.push_back(torch::zeros_like(p, p.options().requires_grad(false)));
    }
    m_steps = 0;
}

double AdamW::clip_gradients() {
    torch::NoGradGuard no_grad;
    double squares = 0;
    for (const torch::Tensor& p : m_parameters)
        if (p.grad().defined()) squares += p.grad().to(torch::kFloat64).pow(2).sum().item<double>();
    const double norm = std::sqrt(squares);
    if (m_options.clip_norm > 0 && std::isfinite(norm)) {
        const double coefficient = m_options.clip_norm / (norm + 1e-6);   // clip_grad_norm_'s 1e-6
        if (coefficient < 1.0)
            for (const torch::Tensor& p : m_parameters)
                if (p.grad().defined()) p.mutable_grad().mul_(coefficient);
    }
    return norm;
}

void AdamW::step(double lr) {
    torch::NoGradGuard no_grad;
    ++m_steps;
    const OptimizerOptions& o = m_options;
    const double bias1 = 1.0 - std::pow(o.beta1, double(m_steps));
    const double bias2_sqrt = std::sqrt(1.0 - std::pow(o.beta2, double(m_steps)));
    for (std::size_t i = 0; i < m_parameters.size(); ++i) {
        torch::Tensor& p = m_parameters[i];
        if (!p.grad().defined()) continue;
        const torch::Tensor& g = p.grad();
        p.mul_(1.0 - lr * o.weight_decay);
        m_exp_avg[i].mul_(o.beta1).add_(g, 1.0 - o.beta1);
        m_exp_avg_sq[i].mul_(o.beta2).addcmul_(g, g, 1.0 - o.beta2);
        const torch::Tensor denom = (m_exp_avg_sq[i].sqrt() / bias2_sqrt).add_(o.eps);
        p.addcdiv_(m_exp_avg[i], denom, -lr / bias1);
    }
}

void AdamW::zero_grad() {
    for (torch::Tensor& p : m_parameters)
        if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

}  // namespace sy
