// DeepSeek-V2 gate weights as transformers' current deepseek_v2 computes them
// (modeling_deepseek_v2.py, DeepseekV2Moe.route_tokens_to_experts): softmax over all experts,
// (group-limited) top-k, times routed_scaling_factor, never renormalised. `norm_topk_prob` is
// kept in that config for backward compatibility only, so true and false must route alike.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runner_fixtures.h"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

constexpr double k_scaling = 2.5;

// tiny-deepseek-v3's weights (MLA, 16 experts in 4 groups, a shared expert) under a DeepSeek-V2
// config with a softmax, group-limited router. Its e_score_correction_bias tensor is unused.
fs::path deepseek_v2_model(const fs::path& dir, bool norm_topk_prob) {
    const fs::path source = fixture_model_dir("tiny-deepseek-v3");
    fs::create_directories(dir);
    fs::copy_file(source / "model.safetensors", dir / "model.safetensors");
    nlohmann::json config = nlohmann::json::parse(std::ifstream(source / "config.json"));
    config["model_type"] = "deepseek_v2";
    config["architectures"] = {"DeepseekV2ForCausalLM"};
    config["scoring_func"] = "softmax";
    config["topk_method"] = "group_limited_greedy";
    config["routed_scaling_factor"] = k_scaling;
    config["norm_topk_prob"] = norm_topk_prob;
    std::ofstream(dir / "config.json") << config.dump(2);
    return dir;
}

TEST(DeepseekV2Routing, GateWeightsAreScaledSoftmaxWhateverNormTopkProbSays) {
    TempDir tmp;
    Batch batch;
    batch.sequences = {{5, 17, 300, 42, 7, 9, 1000, 3}, {12, 1999, 64, 64, 2}};
    std::vector<float> weights[2];
    for (int norm = 0; norm < 2; ++norm) {
        const Model model = open_model(deepseek_v2_model(tmp.path() / (norm ? "norm" : "plain"), norm == 1));
        EXPECT_FALSE(model.description.norm_topk_prob);
        ModelRunner runner(model, RunnerOptions{});
        RecordingObserver observer;
        runner.run(batch, &observer, false);
        ASSERT_EQ(observer.layers.size(), model.description.moe_layers.size());
        for (const RecordedLayer& l : observer.layers) {
            for (int64_t t = 0; t < l.tokens; ++t) {
                const float* logits = l.logits.data() + t * l.experts;
                double max = logits[0], total = 0, sum = 0;
                for (int64_t e = 1; e < l.experts; ++e) max = std::max<double>(max, logits[e]);
                for (int64_t e = 0; e < l.experts; ++e) total += std::exp(double(logits[e]) - max);
                for (int64_t j = 0; j < l.top_k; ++j) {
                    const int64_t e = l.ids[t * l.top_k + j];
                    const double expected = std::exp(double(logits[e]) - max) / total * k_scaling;
                    EXPECT_NEAR(l.weights[t * l.top_k + j], expected, 1e-5) << "token " << t << " slot " << j;
                    sum += l.weights[t * l.top_k + j];
                }
                EXPECT_LT(sum, k_scaling - 1e-3) << "renormalised: token " << t;   // 4 of 16 probabilities
            }
            weights[norm].insert(weights[norm].end(), l.weights.begin(), l.weights.end());
        }
    }
    EXPECT_EQ(weights[0], weights[1]);
}

}  // namespace
}  // namespace sy::test
