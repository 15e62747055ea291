#include "mlp.h"

#include <torch/torch.h>

namespace sy {

torch::Tensor silu_mlp(const torch::Tensor& x, const torch::Tensor& gate, const torch::Tensor& up,
                       const torch::Tensor& down) {
    return torch::matmul(torch::silu(torch::matmul(x, gate.t())) * torch::matmul(x, up.t()), down.t());
}

}  // namespace sy
