// `switchyard upcycle` end to end through the main binary (exec'd into switchyard-torch): the
// output opens in inspect, evaluates to the dense model's loss and traces; bad input is one
// error line, exit 1 and no output folder.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

fs::path tiny_llama() { return data_dir() / "models" / "tiny-llama"; }
fs::path corpus() { return examples_dir() / "corpus-sample.jsonl"; }

CliResult upcycle(const fs::path& dense, const fs::path& out, const std::string& flags) {
    return run_cli("upcycle " + shell_quote(dense) + " -o " + shell_quote(out) + " -q " + flags);
}

double eval_nll(const fs::path& model) {
    const auto r = run_cli("eval " + shell_quote(model) + " --data " + shell_quote(corpus()) +
                           " --max-tokens 2048 --seq-len 256 -q --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["all"]["mean_nll"].get<double>();
}

// Exit 1, exactly one "error: ..." line holding `fragment`, and nothing in `parent`.
void expect_refused(const CliResult& r, const std::string& fragment, const fs::path& parent) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    for (const auto& entry : fs::directory_iterator(parent))
        EXPECT_EQ(entry.path().filename(), "source") << "left behind: " << entry.path();
}

TEST(CliUpcycleIntegration, OutputInspectsEvaluatesLikeTheDenseModelAndTraces) {
    TempDir tmp;
    const fs::path out = tmp.path() / "moe";
    const auto r = upcycle(tiny_llama(), out, "--experts 8 --top-k 2 --seed 5");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("mixtral, 8 experts, top-2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("exact at initialisation: y = FFN(x)"), std::string::npos) << r.out;

    const auto inspect = run_cli("inspect " + shell_quote(out) + " --json");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const auto summary = nlohmann::json::parse(inspect.out);
    EXPECT_EQ(summary["family"], "mixtral");
    EXPECT_EQ(summary["num_experts"], nlohmann::json::array({8, 8, 8, 8}));
    EXPECT_EQ(summary["top_k"], 2);

    const double dense = eval_nll(tiny_llama()), moe = eval_nll(out);
    EXPECT_LE(std::fabs(moe - dense), 1e-5 * dense) << "dense " << dense << ", upcycled " << moe;

    const auto trace = run_cli("trace " + shell_quote(out) + " --data " + shell_quote(corpus()) +
                               " --max-tokens 512 -q -o " + shell_quote(tmp.path() / "t.h5"));
    EXPECT_EQ(trace.exit_code, 0) << trace.err;
    EXPECT_TRUE(fs::exists(tmp.path() / "t.h5"));

    const auto provenance = nlohmann::json::parse(slurp(out / "switchyard-edit.json"));
    EXPECT_NE(provenance["command_line"].get<std::string>().find("upcycle"), std::string::npos);
    EXPECT_EQ(provenance["edits"][0]["seed"], 5);
    EXPECT_EQ(provenance["edits"][0]["top_k"], 2);
}

TEST(CliUpcycleIntegration, JsonSummaryAndNonExactStatement) {
    TempDir tmp;
    const auto r = upcycle(tiny_llama(), tmp.path() / "moe",
                           "--family qwen2_moe --experts 8 --top-k 2 --granularity 4 --drop-upcycling 0.5 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["family"], "qwen2_moe");
    EXPECT_EQ(j["exact"], false);
    EXPECT_NE(j["output_at_init"].get<std::string>().find("not exact"), std::string::npos);
    EXPECT_EQ(j["options"]["shared_expert"], true);
    EXPECT_EQ(j["options"]["granularity"], 4);
    const auto eval = run_cli("eval " + shell_quote(tmp.path() / "moe") + " --data " + shell_quote(corpus()) +
                              " --max-tokens 256 -q --json");
    EXPECT_EQ(eval.exit_code, 0) << eval.err;
}

TEST(CliUpcycleIntegration, BadInputIsOneErrorAndWritesNothing) {
    TempDir tmp;
    const fs::path out = tmp.path() / "moe";
    expect_refused(upcycle(examples_dir() / "tiny-mixtral", out, "--experts 4 --top-k 2"),
                   "already a Mixture-of-Experts model", tmp.path());
    expect_refused(upcycle(tiny_llama(), out, "--experts 4 --top-k 5"), "--top-k 5 exceeds --experts 4", tmp.path());
    expect_refused(upcycle(tiny_llama(), out, "--experts 4 --top-k 2 --drop-upcycling 1.5"), "[0, 1]", tmp.path());
    expect_refused(upcycle(tiny_llama(), out, "--experts 6 --top-k 2 --granularity 3"),
                   "--granularity 3 does not divide the dense FFN width 512", tmp.path());
    expect_refused(upcycle(tiny_llama(), out, "--experts 4 --top-k 2 --family qwen3_moe"), "qk-norm", tmp.path());
    // A "fine-tune" whose config disagrees.
    const fs::path other = tmp.path() / "source";
    fs::create_directories(other);
    for (const char* file : {"model.safetensors", "tokenizer.json"}) fs::copy_file(tiny_llama() / file, other / file);
    std::string config = slurp(tiny_llama() / "config.json");
    config.replace(config.find("\"rms_norm_eps\": 1e-05"), 21, "\"rms_norm_eps\": 1e-06");
    std::ofstream(other / "config.json") << config;
    expect_refused(upcycle(tiny_llama(), out, "--experts 4 --top-k 2 --sources " + shell_quote(other)),
                   "sources disagree", tmp.path());
    expect_refused(upcycle(tiny_llama(), out, "--experts 4 --top-k 2 --router hidden --prompts " +
                                                  shell_quote(tmp.path() / "missing.jsonl")),
                   "missing.jsonl", tmp.path());
}

TEST(CliUpcycleIntegration, HelpListsTheFlags) {
    const auto r = run_cli("upcycle --help");
    EXPECT_EQ(r.exit_code, 0);
    for (const char* flag : {"--experts", "--top-k", "--family", "--router", "--prompts", "--drop-upcycling", "--seed",
                             "--shared-expert", "--granularity", "--sources", "--dtype"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

}  // namespace
