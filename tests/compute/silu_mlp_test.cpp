// The SwiGLU expert MLP runs in place when no backward will need its pre-activation (trace, eval,
// scoring); it must give the bits of the path autograd records (training).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "forward/mlp.h"

namespace sy {
namespace {

TEST(SiluMlp, InPlaceInferenceGivesTheBitsOfTheRecordedPath) {
    torch::manual_seed(6);
    for (const torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
        const auto options = torch::TensorOptions().dtype(dtype);
        const torch::Tensor x = torch::randn({37, 64}, options), gate = torch::randn({96, 64}, options),
                            up = torch::randn({96, 64}, options), down = torch::randn({64, 96}, options);
        const torch::Tensor recorded = silu_mlp(x.clone().requires_grad_(true), gate, up, down);
        ASSERT_TRUE(recorded.requires_grad());
        torch::Tensor in_place;
        {
            torch::NoGradGuard no_grad;
            in_place = silu_mlp(x, gate, up, down);
        }
        EXPECT_TRUE(torch::equal(in_place, recorded.detach())) << dtype;
        // the formula: down(silu(gate x) * up x)
        const torch::Tensor formula =
            torch::matmul(torch::silu(torch::matmul(x, gate.t())) * torch::matmul(x, up.t()), down.t());
        EXPECT_TRUE(torch::equal(in_place, formula)) << dtype;
    }
}

}  // namespace
}  // namespace sy
