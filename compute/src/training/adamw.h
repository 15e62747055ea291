#pragma once
// AdamW over the masters (Loshchilov & Hutter, arXiv 1711.05101), written out as PyTorch's
// single-tensor torch.optim.AdamW computes it, so the Python reference bench steps the same
// arithmetic; global-norm gradient clipping as torch.nn.utils.clip_grad_norm_. The moments are
// plain tensors, saved and restored with the resumable state. Compute thread only.
#include <torch/types.h>

#include <vector>

#include "switchyard/compute/training.h"

namespace sy {

class AdamW {
public:
    AdamW(std::vector<torch::Tensor> parameters, const OptimizerOptions& options);

    // Global L2 norm of the gradients (f64), before clipping; scales them to clip_norm when above.
    double clip_gradients();
    void step(double lr);   // one update of every parameter with a gradient; counts steps
    void zero_grad();       // drops the gradients (they accumulate over micro-batches)
    void reset();           // moments and step count back to zero (learning-rate probe)

    int64_t steps() const { return m_steps; }
    std::vector<torch::Tensor>& exp_avg() { return m_exp_avg; }
    std::vector<torch::Tensor>& exp_avg_sq() { return m_exp_avg_sq; }
    void set_steps(int64_t steps) { m_steps = steps; }

private:
    std::vector<torch::Tensor> m_parameters, m_exp_avg, m_exp_avg_sq;
    OptimizerOptions m_options;
    int64_t m_steps = 0;
};

}  // namespace sy
