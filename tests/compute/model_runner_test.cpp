// ModelRunner behaviour that is not numerics: devices, bad input, cancellation, the observer.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <set>

#include "forward/moe_block.h"
#include "runner_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/progress.h"

namespace sy::test {
namespace {

const Model& olmoe() {
    static const Model model = open_model(fixture_model_dir("tiny-olmoe"));
    return model;
}

Batch small_batch() {
    Batch batch;
    batch.sequences = {{5, 17, 300, 42, 7}, {9, 1000, 3}, {}, {12}};
    return batch;
}

TEST(ModelRunnerDevice, RejectsUnknownAndMissingDevices) {
    for (const char* device : {"gpu", "cuda:x", "CPU", "", "cuda:"}) {
        RunnerOptions options;
        options.device = device;
        EXPECT_THROW(ModelRunner(olmoe(), options), UsageError) << device;
    }
    RunnerOptions options;
    options.device = "cuda:" + std::to_string(cuda_device_count());   // one past the last device
    try {
        ModelRunner runner(olmoe(), options);
        FAIL() << "expected UsageError";
    } catch (const UsageError& error) {
        EXPECT_NE(std::string(error.what()).find(options.device), std::string::npos);
    }
    EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
}

TEST(ModelRunner, RaggedBatchMatchesSequencesRunAlone) {
    ModelRunner runner(olmoe(), RunnerOptions{});
    const Batch batch = small_batch();
    const BatchOutput together = runner.run(batch, nullptr, true);
    ASSERT_EQ(together.nll.size(), size_t(batch.token_count()));
    ASSERT_EQ(together.logits.size(), size_t(batch.token_count() * together.vocab_size));
    int64_t row = 0;
    for (const auto& sequence : batch.sequences) {
        if (sequence.empty()) continue;
        Batch alone;
        alone.sequences = {sequence};
        const BatchOutput out = runner.run(alone, nullptr, true);
        for (std::size_t t = 0; t < sequence.size(); ++t, ++row) {
            EXPECT_EQ(std::isnan(out.nll[t]), t + 1 == sequence.size());
            if (!std::isnan(out.nll[t])) EXPECT_NEAR(out.nll[t], together.nll[row], 1e-4);
            for (int64_t v = 0; v < out.vocab_size; v += 97)
                EXPECT_NEAR(out.logits[t * out.vocab_size + v], together.logits[row * out.vocab_size + v], 1e-4);
        }
    }
}

TEST(ModelRunner, NoLogitsUnlessAskedAndEmptyBatch) {
    ModelRunner runner(olmoe(), RunnerOptions{});
    EXPECT_TRUE(runner.run(small_batch(), nullptr, false).logits.empty());
    const BatchOutput empty = runner.run(Batch{}, nullptr, true);
    EXPECT_TRUE(empty.nll.empty());
    EXPECT_EQ(empty.vocab_size, 2048);
}

TEST(ModelRunner, TokenOutsideVocabularyIsAUsageError) {
    ModelRunner runner(olmoe(), RunnerOptions{});
    Batch batch;
    batch.sequences = {{1, 2, 2048}};
    EXPECT_THROW(runner.run(batch, nullptr, false), UsageError);
    batch.sequences = {{-1}};
    EXPECT_THROW(runner.run(batch, nullptr, false), UsageError);
}

TEST(ModelRunner, CancelledTokenStopsTheRun) {
    ModelRunner runner(olmoe(), RunnerOptions{});
    CancelToken cancel;
    cancel.cancel();
    EXPECT_THROW(runner.run(small_batch(), nullptr, false, &cancel), Cancelled);
    EXPECT_NO_THROW(runner.run(small_batch(), nullptr, false));   // usable afterwards
}

TEST(ModelRunner, ObserverSeesEveryMoeLayerWithHiddenStates) {
    ModelRunner runner(olmoe(), RunnerOptions{});
    RecordingObserver observer(/*hidden=*/true);
    const Batch batch = small_batch();
    runner.run(batch, &observer, false);
    const ModelDescription& d = olmoe().description;
    ASSERT_EQ(observer.layers.size(), d.moe_layers.size());
    for (std::size_t i = 0; i < observer.layers.size(); ++i) {
        const RecordedLayer& l = observer.layers[i];
        EXPECT_EQ(l.layer, d.moe_layers[i]);
        EXPECT_EQ(l.moe_index, int(i));
        EXPECT_EQ(l.tokens, batch.token_count());
        EXPECT_EQ(l.experts, 16);
        EXPECT_EQ(l.top_k, 4);
        EXPECT_EQ(l.hidden_size, d.hidden_size);
        EXPECT_EQ(l.hidden.size(), size_t(l.tokens * d.hidden_size));
        for (int64_t id : l.ids) EXPECT_TRUE(id >= 0 && id < 16);
    }
}

TEST(ModelRunner, OptionsAreKept) {
    RunnerOptions options;
    options.dtype = ComputeDType::bf16;
    ModelRunner runner(olmoe(), options);
    EXPECT_EQ(runner.options().dtype, ComputeDType::bf16);
    EXPECT_EQ(runner.options().device, "cpu");
}

}  // namespace
}  // namespace sy::test

// The per-expert loop's GEMM rows (moe_block.h): bf16 / f16 on the CPU rounded up to few shapes
// with bounded padding, everything else exact.
TEST(ExpertGemmRows, Bf16OnTheCpuRoundsToFewShapesWithBoundedPadding) {
    const torch::Tensor bf16 = torch::zeros({1, 4}, torch::kBFloat16), f32 = torch::zeros({1, 4});
    std::set<int64_t> shapes;
    for (int64_t count = 1; count <= 8192; ++count) {
        const int64_t rows = sy::expert_gemm_rows(count, bf16);
        EXPECT_GE(rows, count);
        EXPECT_LT(rows - count, count > 256 ? 64 : 16) << count;
        EXPECT_LE(double(rows - count), 0.25 * double(count) + 15) << count;
        shapes.insert(rows);
        EXPECT_EQ(sy::expert_gemm_rows(count, f32), count);
    }
    EXPECT_LE(shapes.size(), 140u);
    EXPECT_EQ(sy::expert_gemm_rows(64, bf16), 64);
    EXPECT_EQ(sy::expert_gemm_rows(65, bf16), 80);
    EXPECT_EQ(sy::expert_gemm_rows(257, bf16), 320);
    EXPECT_EQ(sy::expert_gemm_rows(17, torch::zeros({1, 4}, torch::kHalf)), 32);
}
