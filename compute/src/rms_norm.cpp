#include "rms_norm.h"

#include <torch/torch.h>

namespace sy {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    const torch::Tensor xf = x.to(torch::kFloat32);
    const torch::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);
    return weight * (xf * torch::rsqrt(variance + eps)).to(x.scalar_type());
}

}  // namespace sy
