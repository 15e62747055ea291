// TensorView -> torch: zero-copy views, conversion, FP8 block dequantisation against the
// same model stored in BF16 (tiny-deepseek-v3 vs tiny-deepseek-v3-fp8).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "switchyard/compute/torch_bridge.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/tensor_convert.h"
#include "test_paths.h"

using sy::test::data_dir;

TEST(TorchBridge, ViewMatchesCoreConversion) {
    auto ckpt = sy::Checkpoint::open(data_dir() / "models" / "tiny-olmoe");
    const auto& info = ckpt.at("model.embed_tokens.weight");
    const auto view = ckpt.view(info);
    const torch::Tensor t = sy::view_as_torch(view);
    EXPECT_EQ(t.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(t.sizes().vec(), info.shape);
    EXPECT_EQ(t.data_ptr(), static_cast<const void*>(view.data));  // no copy
    const auto expected = sy::to_f32(view);
    const torch::Tensor f = sy::load_as_torch(view, torch::kFloat32);
    EXPECT_TRUE(torch::equal(f.flatten(), torch::from_blob(const_cast<float*>(expected.data()), {int64_t(expected.size())})));
}

TEST(TorchBridge, Fp8DequantisationApproximatesTheBf16Model) {
    auto fp8 = sy::Checkpoint::open(data_dir() / "models" / "tiny-deepseek-v3-fp8");
    auto bf16 = sy::Checkpoint::open(data_dir() / "models" / "tiny-deepseek-v3");
    int checked = 0;
    for (const auto& info : fp8.tensors()) {
        if (info.dtype != sy::DType::f8_e4m3) continue;
        const auto scale_view = fp8.view(fp8.at(info.name + "_scale_inv"));
        const torch::Tensor deq = sy::load_as_torch(fp8.view(info), torch::kFloat32, &scale_view, 32, 32);
        const torch::Tensor ref = sy::load_as_torch(bf16.view(bf16.at(info.name)), torch::kFloat32);
        // e4m3 keeps 3 mantissa bits: per-block relative error stays well under 1/8.
        const double rel = ((deq - ref).norm() / ref.norm()).item<double>();
        EXPECT_LT(rel, 0.06) << info.name;
        const auto core = sy::dequantize_fp8_blocks(fp8.view(info), scale_view, 32, 32);
        EXPECT_TRUE(torch::equal(deq.flatten(), torch::from_blob(const_cast<float*>(core.data()), {deq.numel()})));
        ++checked;
    }
    EXPECT_GT(checked, 10);
}
