// Bad input through the binary: exit 1 with exactly one "error: ..." line, CLI11 codes for flags.
#include <gtest/gtest.h>

#include <fstream>

#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// Copies a fixture model into a temp folder so a test can break it.
fs::path copy_model(const TempDir& tmp, const std::string& name) {
    const fs::path dst = tmp.path() / name;
    fs::copy(data_dir() / "models" / name, dst, fs::copy_options::recursive);
    for (auto& e : fs::recursive_directory_iterator(dst)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    return dst;
}

void expect_one_error_line(const CliResult& r, const std::string& fragment) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

}  // namespace

TEST(CliErrorsIntegration, UnknownFlagUsesCli11ExitCode) {
    const auto r = run_cli("inspect " + shell_quote(data_dir() / "models" / "tiny-olmoe") + " --bogus");
    EXPECT_GE(r.exit_code, 100);
}

TEST(CliErrorsIntegration, MissingSubcommandIsAUsageError) {
    EXPECT_NE(run_cli("").exit_code, 0);
}

TEST(CliErrorsIntegration, HelpOnEveryVerb) {
    for (const char* verb : {"inspect", "tokenize", "export"}) {
        const auto r = run_cli(std::string(verb) + " --help");
        EXPECT_EQ(r.exit_code, 0) << verb;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << verb;
    }
}

TEST(CliErrorsIntegration, TruncatedSafetensors) {
    TempDir tmp;
    const auto model = copy_model(tmp, "tiny-olmoe");
    fs::resize_file(model / "model.safetensors", fs::file_size(model / "model.safetensors") / 2);
    expect_one_error_line(run_cli("inspect " + shell_quote(model)), "model.safetensors");
}

TEST(CliErrorsIntegration, EmptySafetensors) {
    TempDir tmp;
    const auto model = copy_model(tmp, "tiny-olmoe");
    fs::resize_file(model / "model.safetensors", 0);
    expect_one_error_line(run_cli("inspect " + shell_quote(model)), "too short");
}

TEST(CliErrorsIntegration, MissingShard) {
    TempDir tmp;
    const auto model = copy_model(tmp, "tiny-qwen3-moe");
    fs::remove(model / "model-00002-of-00002.safetensors");
    expect_one_error_line(run_cli("inspect " + shell_quote(model)), "model-00002-of-00002.safetensors: shard named in");
}

TEST(CliErrorsIntegration, MissingConfig) {
    TempDir tmp;
    const auto model = copy_model(tmp, "tiny-olmoe");
    fs::remove(model / "config.json");
    expect_one_error_line(run_cli("inspect " + shell_quote(model)), "config.json");
}

TEST(CliErrorsIntegration, UnknownModelTypeListsSupported) {
    TempDir tmp;
    const auto model = copy_model(tmp, "tiny-olmoe");
    std::string config = slurp(model / "config.json");
    config.replace(config.find("\"olmoe\""), 7, "\"gpt_neo\"");
    // A known architecture would resolve the unknown model_type (families_cli_test.cpp).
    config.replace(config.find("OlmoeForCausalLM"), 16, "GPTNeoForCausalLM");
    std::ofstream(model / "config.json") << config;
    const auto r = run_cli("inspect " + shell_quote(model));
    expect_one_error_line(r, "gpt_neo");
    EXPECT_NE(r.err.find("GPTNeoForCausalLM"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("mixtral"), std::string::npos);
    EXPECT_NE(r.err.find("deepseek_v3"), std::string::npos);
}

TEST(CliErrorsIntegration, NotAModelFolder) {
    expect_one_error_line(run_cli("inspect /nonexistent-switchyard-model"), "/nonexistent-switchyard-model");
}

// inspect / tokenize / export must start without loading LibTorch (the export library is
// torch-free; the edit verbs live in switchyard-torch).
TEST(CliStartup, MainBinaryDoesNotLinkLibTorch) {
    const std::string command = "ldd " + shell_quote(SY_CLI_BINARY) + " 2>&1";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string libraries;
    char line[512];
    while (std::fgets(line, sizeof line, pipe)) libraries += line;
    ::pclose(pipe);
    EXPECT_NE(libraries.find("libc.so"), std::string::npos) << libraries;
    EXPECT_EQ(libraries.find("libtorch"), std::string::npos) << libraries;
}

// `switchyard trace` execs switchyard-torch beside it with OpenMP's passive waiting after a short
// spin unless the user chose a policy, and OpenBLAS's helpers sleeping at once unless the user
// chose a timeout (compute/cpu_threads.h says why); arguments pass through unchanged. A copy of
// switchyard beside a stand-in switchyard-torch that prints what it got.
TEST(CliStartup, TorchVerbsStartWithPassiveOpenMpWaitUnlessTheUserChose) {
    TempDir tmp;
    const auto cli = tmp.path() / "switchyard", helper = tmp.path() / "switchyard-torch";
    std::filesystem::copy_file(SY_CLI_BINARY, cli);
    std::filesystem::permissions(cli, std::filesystem::perms::owner_all);
    std::ofstream(helper) << "#!/bin/sh\necho \"args=$* policy=${OMP_WAIT_POLICY:-unset} spin=${GOMP_SPINCOUNT:-unset} "
                             "blas=${OPENBLAS_THREAD_TIMEOUT:-unset}\"\n";
    std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
    CliResult r = run_cli_binary(cli.string(), "trace model --max-tokens 8");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "args=trace model --max-tokens 8 policy=PASSIVE spin=10000 blas=4\n");
    r = run_cli_binary("env", "OMP_WAIT_POLICY=active " + shell_quote(cli.string()) + " eval model");
    EXPECT_EQ(r.out, "args=eval model policy=active spin=unset blas=4\n");
    r = run_cli_binary("env", "GOMP_SPINCOUNT=5 OPENBLAS_THREAD_TIMEOUT=20 " + shell_quote(cli.string()) + " eval model");
    EXPECT_EQ(r.out, "args=eval model policy=PASSIVE spin=5 blas=20\n");
    r = run_cli_binary(cli.string(), "inspect /nonexistent-switchyard-model");   // not a torch verb: no helper
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out.find("policy="), std::string::npos) << r.out;
}
