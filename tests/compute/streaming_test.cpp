// Layer streaming under --max-memory: every bounded schedule must give the
// same numbers as the unbounded run, and a bound below the plan's minimum must be refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "runner_fixtures.h"
#include "switchyard/core/errors.h"
#include "weights/weight_loader.h"

namespace sy::test {
namespace {

struct Result {
    BatchOutput out;
    std::vector<RecordedLayer> routing;
};

Result run_with_bound(const Model& model, uint64_t bound, const Batch& batch, ComputeDType dtype = ComputeDType::f32) {
    RunnerOptions options;
    options.max_memory_bytes = bound;
    options.dtype = dtype;
    ModelRunner runner(model, options);
    RecordingObserver observer;
    Result result{runner.run(batch, &observer, true), std::move(observer.layers)};
    return result;
}

void expect_identical(const Result& a, const Result& b) {
    ASSERT_EQ(a.out.logits.size(), b.out.logits.size());
    EXPECT_TRUE(a.out.logits == b.out.logits);
    ASSERT_EQ(a.routing.size(), b.routing.size());
    for (std::size_t l = 0; l < a.routing.size(); ++l) {
        EXPECT_TRUE(a.routing[l].ids == b.routing[l].ids) << "layer " << l;
        EXPECT_TRUE(a.routing[l].weights == b.routing[l].weights) << "layer " << l;
    }
}

// Bounds that select each schedule: prefetch (two adjacent layers fit), one layer at a time,
// experts two at a time (the next loading while one computes) and one at a time (the minimum).
std::vector<uint64_t> interesting_bounds(const MemoryPlan& plan) {
    uint64_t largest = 0, pair = 0, largest_expert = 0;
    for (std::size_t l = 0; l < plan.layer_bytes.size(); ++l) {
        largest = std::max(largest, plan.layer_bytes[l]);
        largest_expert = std::max(largest_expert, plan.largest_expert_bytes[l]);
        if (l > 0) pair = std::max(pair, plan.layer_bytes[l - 1] + plan.layer_bytes[l]);
    }
    return {plan.resident_bytes + pair, plan.resident_bytes + largest, plan.min_max_memory_bytes + largest_expert,
            plan.min_max_memory_bytes};
}

class StreamingIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamingIntegration, BoundedRunsMatchUnbounded) {
    const Model model = open_model(fixture_model_dir(GetParam()));
    const Batch batch = golden_batch(read_goldens(fixture_goldens(GetParam())));
    const Result reference = run_with_bound(model, 0, batch);
    const MemoryPlan plan = plan_memory(model, ComputeDType::f32);
    ASSERT_LT(plan.min_max_memory_bytes, plan.resident_bytes + *std::max_element(plan.layer_bytes.begin(), plan.layer_bytes.end()))
        << "the minimum should need expert streaming on MoE fixtures";
    for (uint64_t bound : interesting_bounds(plan)) {
        SCOPED_TRACE("bound " + std::to_string(bound));
        expect_identical(run_with_bound(model, bound, batch), reference);
    }
}

// bf16: the streamed schedules use experts stored in bf16 where they lie in the checkpoint's
// mapping (WeightLoader::SourceMapping::streamed) instead of copies; the numbers must not change.
TEST_P(StreamingIntegration, BoundedBf16RunsMatchUnbounded) {
    const Model model = open_model(fixture_model_dir(GetParam()));
    const Batch batch = golden_batch(read_goldens(fixture_goldens(GetParam())));
    const Result reference = run_with_bound(model, 0, batch, ComputeDType::bf16);
    const MemoryPlan plan = plan_memory(model, ComputeDType::bf16);
    for (uint64_t bound : interesting_bounds(plan)) {
        SCOPED_TRACE("bound " + std::to_string(bound));
        const Result streamed = run_with_bound(model, bound, batch, ComputeDType::bf16);
        expect_identical(streamed, reference);
        // And once more through the same weights' pages, released and faulted back in.
        expect_identical(run_with_bound(model, bound, batch, ComputeDType::bf16), streamed);
    }
}

TEST_P(StreamingIntegration, BoundBelowMinimumThrowsWithTheFigure) {
    const Model model = open_model(fixture_model_dir(GetParam()));
    const MemoryPlan plan = plan_memory(model, ComputeDType::f32);
    RunnerOptions options;
    options.max_memory_bytes = plan.min_max_memory_bytes - 1;
    try {
        ModelRunner runner(model, options);
        FAIL() << "expected OutOfMemory";
    } catch (const OutOfMemory& error) {
        EXPECT_NE(std::string(error.what()).find(std::to_string(plan.min_max_memory_bytes)), std::string::npos)
            << error.what();
    }
    options.max_memory_bytes = plan.min_max_memory_bytes;
    EXPECT_NO_THROW(ModelRunner(model, options));
}

// Per-expert (sharded), fused on disk, FP8 with block scales, gpt-oss MXFP4 and its BF16 layout,
// and Qwen3-Next's recurrent (Gated DeltaNet) layers.
INSTANTIATE_TEST_SUITE_P(Fixtures, StreamingIntegration,
                         ::testing::Values("tiny-qwen3-moe", "tiny-qwen3-moe-fused", "tiny-deepseek-v3-fp8",
                                           "tiny-qwen2-moe", "tiny-glm4-moe", "tiny-minimax-m2", "tiny-gpt-oss",
                                           "tiny-gpt-oss-bf16", "tiny-qwen3-next"),
                         [](const auto& info) {
                             std::string id = info.param;
                             std::replace(id.begin(), id.end(), '-', '_');
                             return id;
                         });

TEST(MemoryPlan, AddsUpAndDoesNotDependOnTheExpertLayout) {
    const Model per_expert = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const Model fused = open_model(fixture_model_dir("tiny-qwen3-moe-fused"));
    const MemoryPlan a = plan_memory(per_expert, ComputeDType::f32), b = plan_memory(fused, ComputeDType::f32);
    EXPECT_EQ(a.layer_bytes, b.layer_bytes);
    EXPECT_EQ(a.largest_expert_bytes, b.largest_expert_bytes);
    EXPECT_EQ(a.min_max_memory_bytes, b.min_max_memory_bytes);
    EXPECT_EQ(a.total_weight_bytes, std::accumulate(a.layer_bytes.begin(), a.layer_bytes.end(), a.resident_bytes));
    // qwen3 fixture: H 64, I 32 -> one expert is 3 * 32 * 64 f32 values.
    EXPECT_EQ(a.largest_expert_bytes.front(), uint64_t(3 * 32 * 64 * 4));
    const MemoryPlan half = plan_memory(per_expert, ComputeDType::bf16);
    // Every tensor twice the bytes in f32, but the untied BF16 embedding (loaded_dtype).
    const uint64_t embedding = converted_bytes(per_expert, ComputeDType::f32, TensorRole::token_embedding);
    EXPECT_EQ(embedding, converted_bytes(per_expert, ComputeDType::bf16, TensorRole::token_embedding));
    EXPECT_EQ(half.total_weight_bytes * 2, a.total_weight_bytes + embedding);
    RunnerOptions options;
    EXPECT_EQ(ModelRunner(per_expert, options).plan().min_max_memory_bytes, a.min_max_memory_bytes);
}

// `trace --plan` once estimated I/O from the converted bytes (DeepSeek-V3: "2684 GB" for a
// 689 GB FP8 checkpoint). File bytes are what the checkpoint holds: every tensor the forward pass
// reads, FP8 scales included, one byte per FP8 value; the in-memory bytes do not change with it.
TEST(MemoryPlan, FileBytesAreTheCheckpointsBytesNotTheConvertedOnes) {
    const Model bf16 = open_model(fixture_model_dir("tiny-deepseek-v3"));
    const Model fp8 = open_model(fixture_model_dir("tiny-deepseek-v3-fp8"));
    for (const Model* model : {&bf16, &fp8}) {
        const MemoryPlan plan = plan_memory(*model, ComputeDType::f32);
        EXPECT_EQ(plan.total_file_bytes, model->checkpoint.total_tensor_bytes());   // every tensor is read once
        EXPECT_EQ(plan.total_file_bytes, std::accumulate(plan.layer_file_bytes.begin(), plan.layer_file_bytes.end(),
                                                         plan.resident_file_bytes));
    }
    const MemoryPlan a = plan_memory(bf16, ComputeDType::f32), b = plan_memory(fp8, ComputeDType::f32);
    EXPECT_EQ(a.total_weight_bytes, b.total_weight_bytes);   // same f32 copies in memory
    EXPECT_EQ(a.resident_file_bytes, b.resident_file_bytes); // embeddings, norm, lm_head stay BF16
    for (std::size_t l = 1; l < a.layer_file_bytes.size(); ++l) {   // layer 0 is dense
        EXPECT_LT(b.layer_file_bytes[l], a.layer_file_bytes[l]) << l;
        EXPECT_LT(b.layer_file_bytes[l] * 3, b.layer_bytes[l]) << l;   // ~1 of 4 bytes (+ scales, BF16 norms)
    }
}

TEST(MemoryPlan, DenseModelMinimumIsResidentPlusLargestLayer) {
    const Model model = open_model(fixture_model_dir("tiny-llama"));
    const MemoryPlan plan = plan_memory(model, ComputeDType::f32);
    EXPECT_EQ(plan.min_max_memory_bytes,
              plan.resident_bytes + *std::max_element(plan.layer_bytes.begin(), plan.layer_bytes.end()));
    for (uint64_t expert : plan.largest_expert_bytes) EXPECT_EQ(expert, 0u);
}

}  // namespace
}  // namespace sy::test
