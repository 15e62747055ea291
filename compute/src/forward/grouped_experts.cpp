#include "forward/grouped_experts.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <atomic>

// at::_grouped_mm(self [M, K], mat2 [G, K, N], offs [G] int32 cumulative row ends) -> [M, N],
// added in PyTorch 2.8 (pytorch/pytorch#150374).
#if defined(SWITCHYARD_WITH_CUDA) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8))
#define SY_HAVE_GROUPED_MM 1
#else
#define SY_HAVE_GROUPED_MM 0
#endif

namespace sy {
namespace {

// Cleared after the first refusal so a run does not pay for a failing call per layer.
std::atomic<bool> g_grouped_mm_usable{true};

}  // namespace

bool grouped_gemm_available(const torch::Device& device, torch::ScalarType dtype) {
    return SY_HAVE_GROUPED_MM && device.is_cuda() && dtype == torch::kBFloat16 &&
           g_grouped_mm_usable.load(std::memory_order_relaxed);
}

#if SY_HAVE_GROUPED_MM
torch::Tensor grouped_expert_mlp(const StackedExperts& experts, const torch::Tensor& x_sorted,
                                 const std::vector<int64_t>& counts) {
    const auto host_counts = torch::tensor(counts, torch::kInt64);
    const torch::Tensor offsets = host_counts.cumsum(0).to(torch::kInt32).to(x_sorted.device());
    const int64_t width = experts.gate_up.size(1) / 2;
    try {
        // Weights are stored [out, in]; the transposed view is the column-major mat2 the CUTLASS
        // kernel takes without a copy.
        const torch::Tensor gate_up = at::_grouped_mm(x_sorted.contiguous(), experts.gate_up.transpose(1, 2), offsets);
        const torch::Tensor hidden = torch::silu(gate_up.narrow(1, 0, width)) * gate_up.narrow(1, width, width);
        return at::_grouped_mm(hidden.contiguous(), experts.down.transpose(1, 2), offsets);
    } catch (const c10::Error&) {
        // Not an error of the model: this GPU/LibTorch pair has no grouped kernel for the
        // problem. The per-expert loop computes the same result.
        g_grouped_mm_usable.store(false, std::memory_order_relaxed);
        return {};
    }
}
#else
torch::Tensor grouped_expert_mlp(const StackedExperts&, const torch::Tensor&, const std::vector<int64_t>&) {
    return {};
}
#endif

}  // namespace sy
