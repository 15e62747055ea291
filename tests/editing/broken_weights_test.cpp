// A checkpoint whose weights hold NaN: the forward refuses it, naming the layer and its router
// tensor, instead of routing on NaN logits (top-k still picks experts) and reporting NaN losses
// as a finished trace or eval. A masked expert's row may hold anything: it is never selected.
#include <gtest/gtest.h>

#include <cmath>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_names.h"

using namespace sy;
using namespace sy::test;

TEST(BrokenWeights, NanRouterLogitsAreACheckpointErrorUnlessTheExpertIsMasked) {
    TempDir tmp;
    const std::filesystem::path out = tmp.path() / "nan-router";
    const Model source = open_model(model_dir("tiny-mixtral"));
    const std::string router = tensor_name(*source.description.family, TensorRole::router, 1);
    const int broken = 3;   // the expert whose router row is NaN
    copy_model(model_dir("tiny-mixtral"), out, [&](const TensorInfo& t, std::vector<unsigned char>& bytes) {
        if (t.name != router) return;
        ASSERT_TRUE(t.dtype == DType::bf16 || t.dtype == DType::f32) << dtype_name(t.dtype);
        // Quiet NaN, little-endian: BF16 0x7fc0, F32 0x7fc00000; row `broken` of the [E, H] weight.
        const std::vector<unsigned char> nan = t.dtype == DType::bf16 ? std::vector<unsigned char>{0xc0, 0x7f}
                                                                      : std::vector<unsigned char>{0x00, 0x00, 0xc0, 0x7f};
        const std::size_t row = bytes.size() / std::size_t(t.shape.at(0));
        for (std::size_t i = broken * row; i < (broken + 1) * row; i += nan.size()) std::copy(nan.begin(), nan.end(), bytes.begin() + long(i));
    });
    const Model model = open_model(out);
    const Batch batch = pattern_batch(model.description.vocab_size, 2, 16);
    try {
        run_logits(model, batch);
        FAIL() << "a forward over a NaN router row finished";
    } catch (const CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("layer 1: the router's logits are NaN for 32 of 32 tokens"), std::string::npos) << message;
        EXPECT_NE(message.find(router), std::string::npos) << message;
    }
    // Masked, the broken expert is never selected and its logit is -inf: the run is whole.
    RunnerOptions masked;
    masked.masked_experts[1] = {broken};
    const BatchOutput output = run_logits(model, batch, masked);
    ASSERT_EQ(output.nll.size(), 32u);
    int finite = 0;
    for (float nll : output.nll) finite += std::isfinite(nll) ? 1 : 0;
    EXPECT_EQ(finite, 30);   // each of the two 16-token rows ends without a next token
}
