#include "forward/rms_norm.h"

#include <torch/torch.h>

namespace sy {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    const torch::Tensor xf = x.to(torch::kFloat32);
    const torch::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);
    const torch::Tensor normed = xf * torch::rsqrt(variance + eps);
    // An f32 weight under a narrower activation: multiply in f32, then cast (GptOssRMSNorm,
    // Qwen3NextRMSNorm; the weight loader keeps those weights in f32).
    if (weight.scalar_type() == torch::kFloat32 && x.scalar_type() != torch::kFloat32)
        return (weight * normed).to(x.scalar_type());
    return weight * normed.to(x.scalar_type());
}

}  // namespace sy
