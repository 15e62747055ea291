// `switchyard inspect` prints active parameters in both conventions model cards use: with the
// input embedding (Mixtral's "12.9B active") and without it (DeepSeek's "37B active"), labelled,
// in text and JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_cli.h"

using namespace sy::test;

namespace {

TEST(InspectCliIntegration, ActiveParametersInBothConventions) {
    const std::string model = shell_quote(data_dir() / "models" / "tiny-deepseek-v3");
    const CliResult json_run = run_cli("inspect " + model + " --json");
    ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
    const auto j = nlohmann::json::parse(json_run.out);
    const int64_t vocab = j["vocab_size"], hidden = j["hidden_size"];
    EXPECT_EQ(j["params_active"].get<int64_t>() - j["params_active_without_embedding"].get<int64_t>(), vocab * hidden);
    EXPECT_LT(j["params_active"].get<int64_t>(), j["params_total"].get<int64_t>());
    const CliResult text = run_cli("inspect " + model);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find(" per token with the input embedding (Mixtral's convention), "), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find(" without (DeepSeek's)"), std::string::npos) << text.out;
}

}  // namespace
