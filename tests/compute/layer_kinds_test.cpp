// Sliding-window attention (applied as transformers' masking_utils does) and Qwen3-Next's Gated
// DeltaNet layers: properties beyond the goldens of forward_golden_test.cpp.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runner_fixtures.h"
#include "switchyard/compute/gated_delta_rule.h"

namespace sy::test {
namespace {

// tiny-llama re-labelled as Mistral with `sliding_window` (the llama and mistral rows differ only
// in that key), in a temporary folder that links the fixture's weights.
class MistralWindow {
public:
    explicit MistralWindow(const std::string& window) {
        const std::filesystem::path src = fixture_model_dir("tiny-llama");
        std::ifstream in(src / "config.json");
        nlohmann::json config = nlohmann::json::parse(in);
        config["model_type"] = "mistral";
        config["architectures"] = {"MistralForCausalLM"};
        config["sliding_window"] = window == "null" ? nlohmann::json(nullptr) : nlohmann::json(std::stoll(window));
        std::ofstream(m_dir.path() / "config.json") << config.dump(2);
        std::filesystem::create_symlink(src / "model.safetensors", m_dir.path() / "model.safetensors");
    }
    const std::filesystem::path& path() const { return m_dir.path(); }

private:
    TempDir m_dir;
};

// Four 100-token sequences of the llama fixture's vocabulary (deterministic).
Batch long_batch() {
    Batch batch;
    for (int s = 0; s < 4; ++s) {
        std::vector<int32_t> ids;
        for (int t = 0; t < 100; ++t) ids.push_back(static_cast<int32_t>((t * 37 + s * 101 + t * t) % 2000 + 3));
        batch.sequences.push_back(ids);
    }
    return batch;
}

double mean_nll(const BatchOutput& out) {
    double sum = 0;
    int count = 0;
    for (float v : out.nll)
        if (!std::isnan(v)) sum += v, ++count;
    return sum / count;
}

BatchOutput run(const std::filesystem::path& dir, const Batch& batch) {
    const Model model = open_model(dir);
    ModelRunner runner(model, RunnerOptions{});
    return runner.run(batch, nullptr, /*want_logits=*/true);
}

double max_logit_diff(const BatchOutput& a, const BatchOutput& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.logits.size(); ++i) worst = std::max(worst, double(std::abs(a.logits[i] - b.logits[i])));
    return worst;
}

TEST(SlidingWindowIntegration, MistralWindowShorterThanTheSequenceChangesTheResult) {
    const Batch batch = long_batch();
    const BatchOutput none = run(MistralWindow("null").path(), batch);
    const BatchOutput llama = run(fixture_model_dir("tiny-llama"), batch);
    EXPECT_EQ(max_logit_diff(none, llama), 0.0);   // no window: exactly the llama model
    const BatchOutput windowed = run(MistralWindow("24").path(), batch);
    EXPECT_GT(std::abs(mean_nll(windowed) - mean_nll(none)), 1e-3);
    // Positions 0..23 see every earlier key either way (q - 24 < j holds for all j >= 0).
    for (int64_t t = 0; t < 24; ++t)
        for (int64_t v = 0; v < none.vocab_size; v += 131)
            EXPECT_NEAR(windowed.logits[t * none.vocab_size + v], none.logits[t * none.vocab_size + v], 1e-4) << t;
    std::cout << "[measured] tiny-llama as mistral, 4 x 100 tokens: mean NLL no window " << mean_nll(none)
              << ", window 24 " << mean_nll(windowed) << "\n";
}

TEST(SlidingWindowIntegration, WindowLongerThanTheSequenceChangesNothing) {
    const Batch batch = long_batch();
    const BatchOutput none = run(MistralWindow("null").path(), batch);
    EXPECT_EQ(max_logit_diff(run(MistralWindow("100").path(), batch), none), 0.0);   // q - 100 < 0 <= j
    EXPECT_EQ(max_logit_diff(run(MistralWindow("4096").path(), batch), none), 0.0);
    EXPECT_GT(max_logit_diff(run(MistralWindow("99").path(), batch), none), 0.0);   // position 99 loses key 0
}

TEST(SlidingWindow, QwenAndGptOssLayerRules) {
    const ModelDescription gpt = read_model_config(fixture_model_dir("tiny-gpt-oss"));
    EXPECT_EQ(gpt.sliding_window, 16);
    EXPECT_EQ(gpt.sliding_window_of(0), 16);
    EXPECT_EQ(gpt.sliding_window_of(1), 0);
    const std::string qwen = R"({"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 4,
        "num_attention_heads": 4, "vocab_size": 100, "rms_norm_eps": 1e-6, "intermediate_size": 32,
        "sliding_window": 8, "max_window_layers": 2, "use_sliding_window": )";
    const ModelDescription off = parse_model_config(qwen + "false}", "c");
    EXPECT_EQ(off.sliding_window, 0);
    const ModelDescription on = parse_model_config(qwen + "true}", "c");
    EXPECT_EQ(on.sliding_window_of(1), 0);   // Qwen2Config: layers from max_window_layers on slide
    EXPECT_EQ(on.sliding_window_of(2), 8);
    EXPECT_EQ(on.sliding_window_of(3), 8);
}

// The chunked form transformers runs must equal the recurrence over several chunks and a
// ragged tail (150 = 2 x 64 + 22).
TEST(GatedDeltaRule, ChunkedEqualsRecurrent) {
    torch::manual_seed(3);
    const int64_t b = 2, h = 3, t = 150, dk = 16, dv = 12;
    const torch::Tensor q = torch::randn({b, h, t, dk}), k = torch::randn({b, h, t, dk}), v = torch::randn({b, h, t, dv});
    const torch::Tensor g = -torch::rand({b, h, t}) * 0.5, beta = torch::sigmoid(torch::randn({b, h, t}));
    const torch::Tensor chunked = chunk_gated_delta_rule(q, k, v, g, beta);
    const torch::Tensor recurrent = recurrent_gated_delta_rule(q, k, v, g, beta);
    ASSERT_EQ(chunked.sizes(), recurrent.sizes());
    EXPECT_LT((chunked - recurrent).abs().max().item<double>(), 1e-4);
    EXPECT_LT((chunk_gated_delta_rule(q, k, v, g, beta, 16) - recurrent).abs().max().item<double>(), 1e-4);
}

// Each sequence's recurrent state and causal conv start from zero: a ragged batch (one sequence
// longer than a chunk) gives what each sequence gives alone.
TEST(GatedDeltaNetIntegration, RaggedBatchMatchesSequencesRunAlone) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-next"));
    ModelRunner runner(model, RunnerOptions{});
    Batch batch = long_batch();
    batch.sequences[1].resize(37);
    batch.sequences[2].resize(1);
    const BatchOutput together = runner.run(batch, nullptr, true);
    int64_t row = 0;
    for (const auto& sequence : batch.sequences) {
        Batch alone;
        alone.sequences = {sequence};
        const BatchOutput out = runner.run(alone, nullptr, true);
        for (std::size_t i = 0; i < sequence.size(); ++i, ++row)
            for (int64_t v = 0; v < out.vocab_size; v += 97)
                ASSERT_NEAR(out.logits[i * out.vocab_size + v], together.logits[row * out.vocab_size + v], 1e-4);
    }
}

}  // namespace
}  // namespace sy::test
