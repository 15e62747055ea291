// lm_output runs the lm_head GEMM over whole chunks and, on the CPU, the f32 logits and
// logsumexp in pieces of a few rows that stay in cache; the pieces must give exactly the NLL and
// logits of one pass over the batch.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "forward/batch_layout.h"
#include "forward/lm_output.h"
#include "forward/rms_norm.h"

namespace sy {
namespace {

TEST(LmOutput, PiecesGiveTheNllAndLogitsOfOnePass) {
    // 32,000 words: pieces of 16 rows, so 50 tokens make three whole pieces and a partial one.
    torch::manual_seed(5);
    const int64_t vocab = 32000, hidden = 16;
    const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16);
    LmHeadWeights w;
    w.final_norm = torch::rand({hidden}, bf16) + 0.5;
    w.lm_head = torch::randn({vocab, hidden}, bf16);
    w.eps = 1e-6;
    Batch batch;
    for (const int length : {30, 20}) {
        const torch::Tensor ids = torch::randint(vocab, {length}, torch::kInt32);
        batch.sequences.emplace_back(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + length);
    }
    const BatchLayout layout = make_batch_layout(batch, vocab, torch::kCPU);
    const torch::Tensor h = torch::randn({layout.tokens, hidden}, bf16);
    BatchOutput out;
    lm_output(w, h, layout, /*want_logits=*/true, out);

    const torch::Tensor logits = torch::matmul(rms_norm(h, w.final_norm, w.eps), w.lm_head.t()).to(torch::kFloat32);
    const torch::Tensor target_logits = logits.gather(1, layout.targets.unsqueeze(1)).squeeze(1);
    const torch::Tensor nll = torch::logsumexp(logits, -1) - target_logits;
    // the same quantity as -log softmax[target], to a few f32 steps
    EXPECT_TRUE(torch::allclose(nll, -torch::log_softmax(logits, -1).gather(1, layout.targets.unsqueeze(1)).squeeze(1),
                                /*rtol=*/1e-6, /*atol=*/1e-5));
    ASSERT_EQ(out.nll.size(), static_cast<std::size_t>(layout.tokens));
    for (int64_t i = 0; i < layout.tokens; ++i) {
        if (!layout.has_target[i].item<bool>()) {   // each sequence's last token has no next token
            EXPECT_TRUE(std::isnan(out.nll[static_cast<std::size_t>(i)])) << "token " << i;
            continue;
        }
        EXPECT_EQ(out.nll[static_cast<std::size_t>(i)], nll[i].item<float>()) << "token " << i;
    }
    const torch::Tensor got = torch::from_blob(out.logits.data(), {layout.tokens, vocab}, torch::kFloat32);
    EXPECT_TRUE(torch::equal(got, logits));
}

}  // namespace
}  // namespace sy
