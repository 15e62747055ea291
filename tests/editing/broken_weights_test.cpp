// A checkpoint whose weights hold NaN: the forward refuses it, naming the layer and its router
// tensor, instead of routing on NaN logits (top-k still picks experts) and reporting NaN losses
// as a finished trace or eval.
#include <gtest/gtest.h>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_names.h"

using namespace sy;
using namespace sy::test;

TEST(BrokenWeights, NanRouterLogitsAreACheckpointError) {
    TempDir tmp;
    const std::filesystem::path out = tmp.path() / "nan-router";
    const Model source = open_model(model_dir("tiny-mixtral"));
    const std::string router = tensor_name(*source.description.family, TensorRole::router, 1);
    copy_model(model_dir("tiny-mixtral"), out, [&](const TensorInfo& t, std::vector<unsigned char>& bytes) {
        if (t.name != router) return;
        ASSERT_TRUE(t.dtype == DType::bf16 || t.dtype == DType::f32) << dtype_name(t.dtype);
        // Quiet NaN, little-endian: BF16 0x7fc0, F32 0x7fc00000.
        const std::vector<unsigned char> nan = t.dtype == DType::bf16 ? std::vector<unsigned char>{0xc0, 0x7f}
                                                                      : std::vector<unsigned char>{0x00, 0x00, 0xc0, 0x7f};
        for (std::size_t i = 0; i + nan.size() <= bytes.size(); i += nan.size()) std::copy(nan.begin(), nan.end(), bytes.begin() + long(i));
    });
    const Model model = open_model(out);
    try {
        run_logits(model, pattern_batch(model.description.vocab_size, 2, 16));
        FAIL() << "a forward over NaN router weights finished";
    } catch (const CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("layer 1: the router's logits are NaN for 32 of 32 tokens"), std::string::npos) << message;
        EXPECT_NE(message.find(router), std::string::npos) << message;
    }
    // The unbroken copy runs: the check does not fire on finite weights.
    EXPECT_EQ(run_logits(source, pattern_batch(source.description.vocab_size, 2, 16)).nll.size(), 32u);
}
