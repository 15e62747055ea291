// `switchyard similarity` end to end, through the main binary, which execs
// switchyard-torch: JSON shape and invariants on tiny-mixtral, the table, refused layers and
// models with the valid MoE layers named, and Ctrl-C (exit 130).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

fs::path tiny_mixtral() { return examples_dir() / "tiny-mixtral"; }
fs::path corpus_sample() { return examples_dir() / "corpus-sample.jsonl"; }

CliResult similarity(const fs::path& model, const std::string& extra) {
    return run_cli("similarity " + shell_quote(model) + " --data " + shell_quote(corpus_sample()) + " " + extra);
}

TEST(SimilarityCliIntegration, JsonHasFourSymmetricMatricesWithUnitDiagonal) {
    const auto r = similarity(tiny_mixtral(), "--layer 0 --seq-len 64 --max-tokens 256 --json -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto json = nlohmann::json::parse(r.out);
    EXPECT_EQ(json["layer"], 0);
    EXPECT_EQ(json["experts"], 8);
    EXPECT_EQ(json["tokens"], 256);
    EXPECT_EQ(json["shared_experts"], 0);
    EXPECT_EQ(json["intermediate_size"], 256);
    for (const char* key : {"router", "weights_unaligned", "weights_aligned", "outputs"}) {
        SCOPED_TRACE(key);
        const auto& m = json[key];
        ASSERT_EQ(m.size(), 8u);
        for (int i = 0; i < 8; ++i) {
            ASSERT_EQ(m[i].size(), 8u);
            EXPECT_NEAR(m[i][i].get<double>(), 1.0, 1e-6);
            for (int j = 0; j < 8; ++j) EXPECT_NEAR(m[i][j].get<double>(), m[j][i].get<double>(), 1e-9);
        }
    }
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j)
            EXPECT_GE(json["weights_aligned"][i][j].get<double>(), json["weights_unaligned"][i][j].get<double>() - 1e-9);
}

TEST(SimilarityCliIntegration, TableAndNoAlign) {
    const auto r = similarity(tiny_mixtral(), "--layer 3 --seq-len 64 --max-tokens 128 --no-align");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("layer 3 (MoE layer #3): 8 routed experts, I=256, H=128"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("router rows (cosine)"), std::string::npos);
    EXPECT_NE(r.out.find("outputs on 128 tokens (cosine)"), std::string::npos);
    EXPECT_EQ(r.out.find("after neuron alignment"), std::string::npos) << "--no-align skips that matrix";
    EXPECT_NE(r.out.find("closest pairs"), std::string::npos);
    EXPECT_NE(r.err.find("tok/s"), std::string::npos) << "progress goes to stderr";
    const auto json = similarity(tiny_mixtral(), "--layer 3 --seq-len 64 --max-tokens 64 --no-align --json -q");
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_TRUE(nlohmann::json::parse(json.out)["weights_aligned"].is_null());
}

TEST(SimilarityCliIntegration, DenseOrOutOfRangeLayerIsRefusedNamingTheMoeLayers) {
    const fs::path qwen2 = data_dir() / "models" / "tiny-qwen2-moe";
    const auto dense = similarity(qwen2, "--layer 1 -q");
    EXPECT_EQ(dense.exit_code, 1);
    EXPECT_NE(dense.err.find("error: --layer 1 is a dense layer (no experts); the MoE layers are 0, 2"),
              std::string::npos)
        << dense.err;
    const auto range = similarity(tiny_mixtral(), "--layer 4 -q");
    EXPECT_EQ(range.exit_code, 1);
    EXPECT_NE(range.err.find("--layer 4 is out of range: the model has 4 layers (0-3); the MoE layers are 0, 1, 2, 3"),
              std::string::npos)
        << range.err;
    const auto llama = similarity(data_dir() / "models" / "tiny-llama", "--layer 0 -q");
    EXPECT_EQ(llama.exit_code, 1);
    EXPECT_NE(llama.err.find("no MoE layers"), std::string::npos) << llama.err;
    const auto missing = similarity(tiny_mixtral(), "-q");
    EXPECT_GE(missing.exit_code, 100) << "CLI11's code for a missing --layer";
    EXPECT_NE(missing.err.find("--layer"), std::string::npos) << missing.err;
}

TEST(SimilarityCliIntegration, CtrlCExits130) {
    TempDir tmp;
    const fs::path err = tmp.path() / "err";
    EXPECT_EQ(run_cli_and_interrupt("similarity " + shell_quote(tiny_mixtral()) + " --data " +
                                        shell_quote(corpus_sample()) + " --layer 3 --seq-len 128 --batch-tokens 128",
                                    err),
              130)
        << slurp(err);
    EXPECT_NE(slurp(err).find("\nerror: cancelled\n"), std::string::npos) << slurp(err);
}

}  // namespace
