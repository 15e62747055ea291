// The new families through the CLI: inspect, trace, eval and export on their fixtures; gpt-oss
// MXFP4 exported as BF16 is the `save_pretrained` layout transformers loads, tensor for tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "checkpoint_compare.h"
#include "run_cli.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/trace_store.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

fs::path model(const std::string& name) { return data_dir() / "models" / name; }

fs::path token_data(const TempDir& tmp) {
    const fs::path file = tmp.path() / "ids.jsonl";
    std::ofstream out(file);
    for (int d = 0; d < 3; ++d) {
        nlohmann::json ids = nlohmann::json::array();
        for (int t = 0; t < 40 + 7 * d; ++t) ids.push_back((t * 31 + d * 97 + 5) % 2000);
        out << nlohmann::json{{"input_ids", ids}, {"domain", d == 1 ? "b" : "a"}}.dump() << "\n";
    }
    return file;
}

class FamilyCliIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyCliIntegration, InspectTraceEvalAndIdentityExport) {
    TempDir tmp;
    const fs::path dir = model(GetParam());
    const auto inspect = run_cli("inspect " + shell_quote(dir) + " --json");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const auto summary = nlohmann::json::parse(inspect.out);
    const auto config = nlohmann::json::parse(slurp(dir / "config.json"));
    EXPECT_EQ(summary["family"], config["model_type"]);
    const auto traced = run_cli("trace " + shell_quote(dir) + " --data " + shell_quote(token_data(tmp)) + " -o " +
                                shell_quote(tmp.path() / "t.h5") + " --seq-len 32 -q --router-logits");
    ASSERT_EQ(traced.exit_code, 0) << traced.err;
    const sy::TraceReader reader = sy::TraceReader::open(tmp.path() / "t.h5");
    EXPECT_EQ(reader.token_count(), 40 + 47 + 54);
    EXPECT_EQ(reader.meta().moe_layers.size(), summary["moe_layers"].size());
    const auto eval = run_cli("eval " + shell_quote(dir) + " --data " + shell_quote(token_data(tmp)) + " --json -q");
    ASSERT_EQ(eval.exit_code, 0) << eval.err;
    EXPECT_GT(nlohmann::json::parse(eval.out)["all"]["mean_nll"].get<double>(), 0.0);
    ASSERT_EQ(run_cli("export " + shell_quote(dir) + " -o " + shell_quote(tmp.path() / "out") + " -q").exit_code, 0);
    expect_same_tensors(dir, tmp.path() / "out");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FamilyCliIntegration,
                         ::testing::Values("tiny-glm4-moe", "tiny-minimax-m2", "tiny-gpt-oss", "tiny-gpt-oss-bf16",
                                           "tiny-qwen3-next"),
                         [](const auto& info) {
                             std::string id = info.param;
                             std::replace(id.begin(), id.end(), '-', '_');
                             return id;
                         });

TEST(FamilyCliIntegration, GptOssMxfp4ExportsAsTheBf16SavePretrainedLayout) {
    TempDir tmp;
    const auto r = run_cli("export " + shell_quote(model("tiny-gpt-oss")) + " -o " + shell_quote(tmp.path() / "out") +
                           " --dtype bf16 -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The fixture's BF16 twin is the same model dequantised and saved by transformers.
    expect_same_tensors(model("tiny-gpt-oss-bf16"), tmp.path() / "out");
    const auto config = nlohmann::json::parse(slurp(tmp.path() / "out" / "config.json"));
    EXPECT_FALSE(config.contains("quantization_config"));
    const auto inspect = run_cli("inspect " + shell_quote(tmp.path() / "out") + " --json");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_TRUE(nlohmann::json::parse(inspect.out)["quant_method"].is_null());
}

TEST(FamilyCliIntegration, InspectSaysWhatWasResolvedAndHowLayersAttend) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "m");
    for (const auto& entry : fs::directory_iterator(model("tiny-glm4-moe")))
        fs::copy_file(entry.path(), tmp.path() / "m" / entry.path().filename());
    auto config = nlohmann::json::parse(slurp(tmp.path() / "m" / "config.json"));
    config["model_type"] = "glm_next_moe";   // unknown; architectures still says Glm4MoeForCausalLM
    config["use_qk_norm"] = false;           // as GLM-4.5-Air: the q/k norm tensors are then unused
    std::ofstream(tmp.path() / "m" / "config.json", std::ios::trunc) << config.dump(2);
    const auto text = run_cli("inspect " + shell_quote(tmp.path() / "m"));
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("resolved by architectures Glm4MoeForCausalLM as glm4_moe"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("attention gqa (use_qk_norm false), RoPE on 16 of 32 dims"), std::string::npos) << text.out;
    const auto next = run_cli("inspect " + shell_quote(model("tiny-qwen3-next")));
    EXPECT_NE(next.out.find("2 linear (Gated DeltaNet) + 1 full layers"), std::string::npos) << next.out;
    const auto gpt = run_cli("inspect " + shell_quote(model("tiny-gpt-oss")));
    EXPECT_NE(gpt.out.find("sliding window 16 on 1 of 2 layers"), std::string::npos) << gpt.out;
    EXPECT_NE(gpt.out.find("MXFP4"), std::string::npos) << gpt.out;
}

// The sliding window through `eval`: tiny-llama relabelled Mistral with sliding_window 24 on
// 100-token documents no longer gives the no-window NLL; a window of 100 gives it exactly.
double mistral_nll(const TempDir& tmp, const fs::path& data, const nlohmann::json& window) {
    const fs::path dir = tmp.path() / ("mistral-" + window.dump());
    fs::create_directories(dir);
    auto config = nlohmann::json::parse(slurp(model("tiny-llama") / "config.json"));
    config["model_type"] = "mistral";
    config["architectures"] = {"MistralForCausalLM"};
    config["sliding_window"] = window;
    std::ofstream(dir / "config.json") << config.dump(2);
    fs::create_symlink(model("tiny-llama") / "model.safetensors", dir / "model.safetensors");
    const auto r = run_cli("eval " + shell_quote(dir) + " --data " + shell_quote(data) + " --seq-len 100 --json -q");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["all"]["mean_nll"].get<double>();
}

TEST(FamilyCliIntegration, EvalHonoursMistralSlidingWindow) {
    TempDir tmp;
    const fs::path data = tmp.path() / "ids.jsonl";
    std::ofstream out(data);
    for (int d = 0; d < 4; ++d) {
        nlohmann::json ids = nlohmann::json::array();
        for (int t = 0; t < 100; ++t) ids.push_back((t * 37 + d * 101 + t * t) % 2000 + 3);
        out << nlohmann::json{{"input_ids", ids}}.dump() << "\n";
    }
    out.close();
    const double none = mistral_nll(tmp, data, nullptr);
    EXPECT_GT(std::abs(mistral_nll(tmp, data, 24) - none), 1e-3);
    EXPECT_DOUBLE_EQ(mistral_nll(tmp, data, 100), none);
}

}  // namespace
