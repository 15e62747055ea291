// CUDA against the CPU path computed in the same test (style.md rule 12); skipped without a
// device. Suite names contain "Gpu" so CTest can label them `gpu`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runner_fixtures.h"

namespace sy::test {
namespace {

class ModelRunnerGpuIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelRunnerGpuIntegration, CudaMatchesCpu) {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
    const Model model = open_model(fixture_model_dir(GetParam()));
    const Batch batch = golden_batch(read_goldens(fixture_goldens(GetParam())));
    RunnerOptions cpu, cuda;
    cuda.device = "cuda";
    RecordingObserver cpu_routing, cuda_routing;
    const BatchOutput a = ModelRunner(model, cpu).run(batch, &cpu_routing, true);
    const BatchOutput b = ModelRunner(model, cuda).run(batch, &cuda_routing, true);
    ASSERT_EQ(a.logits.size(), b.logits.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.logits.size(); ++i) worst = std::max(worst, double(std::abs(a.logits[i] - b.logits[i])));
    EXPECT_LE(worst, 1e-3);
    ASSERT_EQ(cpu_routing.layers.size(), cuda_routing.layers.size());
    for (std::size_t l = 0; l < cpu_routing.layers.size(); ++l) {
        const RecordedLayer &x = cpu_routing.layers[l], &y = cuda_routing.layers[l];
        int64_t same = 0;
        for (int64_t n = 0; n < x.tokens; ++n) {
            std::vector<int64_t> p(x.ids.begin() + n * x.top_k, x.ids.begin() + (n + 1) * x.top_k);
            std::vector<int64_t> q(y.ids.begin() + n * y.top_k, y.ids.begin() + (n + 1) * y.top_k);
            std::sort(p.begin(), p.end()), std::sort(q.begin(), q.end());
            same += p == q;
        }
        EXPECT_GE(double(same) / double(x.tokens), GetParam() == "tiny-mixtral" ? 0.995 : 1.0) << "layer " << l;
    }
    // Streaming on the device gives the same numbers as resident weights there.
    cuda.max_memory_bytes = plan_memory(model, ComputeDType::f32).min_max_memory_bytes;
    const BatchOutput streamed = ModelRunner(model, cuda).run(batch, nullptr, true);
    EXPECT_TRUE(streamed.logits == b.logits);
}

TEST_P(ModelRunnerGpuIntegration, Bf16OnCudaRuns) {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
    const Model model = open_model(fixture_model_dir(GetParam()));
    const Batch batch = golden_batch(read_goldens(fixture_goldens(GetParam())));
    RunnerOptions options;
    options.device = "cuda";
    options.dtype = ComputeDType::bf16;
    const BatchOutput out = ModelRunner(model, options).run(batch, nullptr, false);
    for (std::size_t i = 0; i < out.nll.size(); ++i)
        if ((i + 1) % batch.sequences.front().size() != 0) EXPECT_TRUE(std::isfinite(out.nll[i])) << i;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelRunnerGpuIntegration,
                         ::testing::Values("tiny-mixtral", "tiny-qwen2-moe", "tiny-qwen3-moe-fused", "tiny-deepseek-v3-fp8"),
                         [](const auto& info) {
                             std::string id = info.param;
                             std::replace(id.begin(), id.end(), '-', '_');
                             return id;
                         });

}  // namespace
}  // namespace sy::test
