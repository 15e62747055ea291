// Progress on stderr through the real binaries: `--progress json` gives one parseable object per
// line with the documented fields on every long verb (export: bytes, trace and stats: tokens),
// SWITCHYARD_PROGRESS sets the default, stderr that is not a terminal gets plain log lines (no
// '\r'), and every verb that takes -q also takes --progress.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

fs::path tiny_mixtral() { return examples_dir() / "tiny-mixtral"; }
fs::path corpus() { return examples_dir() / "corpus-sample.jsonl"; }

const std::string k_trace_args = " --seq-len 64 --batch-tokens 128 --max-tokens 512";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Every stderr line is a progress object of `stage`, counts only grow, the last one is complete.
std::vector<nlohmann::json> expect_json_progress(const std::string& err, const std::string& stage,
                                                 const std::string& unit) {
    std::vector<nlohmann::json> objects;
    for (const std::string& line : lines_of(err)) {
        nlohmann::json j;
        EXPECT_NO_THROW(j = nlohmann::json::parse(line)) << line;
        for (const char* key : {"stage", "done", "total", "unit", "rate", "eta_s", "fraction", "elapsed_s"})
            EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
        if (j.value("stage", "") != stage) continue;   // e.g. nothing else is expected; checked below
        EXPECT_EQ(j["unit"], unit) << line;
        if (!objects.empty()) EXPECT_GE(j["done"].get<int64_t>(), objects.back()["done"].get<int64_t>());
        objects.push_back(j);
    }
    EXPECT_GE(objects.size(), 2u) << "a first and a last update of " << stage << ":\n" << err;
    if (!objects.empty()) {
        EXPECT_EQ(objects.back()["fraction"], 1.0) << err;
        EXPECT_EQ(objects.back()["eta_s"], 0.0) << err;
    }
    return objects;
}

CliResult trace_tiny(const fs::path& out, const std::string& extra) {
    return run_cli("trace " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(corpus()) + k_trace_args +
                   " --force -o " + shell_quote(out) + " " + extra);
}

class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(m_name); }

private:
    const char* m_name;
};

}  // namespace

TEST(ProgressCliIntegration, ExportJsonCountsBytes) {
    TempDir tmp;
    const auto r = run_cli("export " + shell_quote(tiny_mixtral()) + " -o " + shell_quote(tmp.path() / "out") +
                           " --progress json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto objects = expect_json_progress(r.err, "export", "bytes");
    ASSERT_FALSE(objects.empty());
    EXPECT_EQ(objects.back()["done"], objects.back()["total"]);
    EXPECT_GT(objects.back()["total"].get<int64_t>(), 1'000'000) << "tiny-mixtral holds megabytes of weights";
}

TEST(ProgressCliIntegration, TraceJsonCountsTokensAgainstMaxTokens) {
    TempDir tmp;
    const auto r = trace_tiny(tmp.path() / "t.h5", "--progress json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("traced 512 tokens"), std::string::npos) << r.out;
    const auto objects = expect_json_progress(r.err, "trace", "tokens");
    ASSERT_FALSE(objects.empty());
    EXPECT_EQ(objects.front()["done"], 0);
    // The batch read ahead before the output is created is not done yet.
    EXPECT_EQ(objects.front()["fraction"], 0.0) << r.err;
    EXPECT_EQ(objects.back()["done"], 512);
    EXPECT_EQ(objects.back()["total"], 512);
    EXPECT_GT(objects.back()["rate"].get<double>(), 0.0);

    // stats over that trace: tokens of the trace.
    const auto stats = run_cli("stats " + shell_quote(tmp.path() / "t.h5") + " --progress json");
    ASSERT_EQ(stats.exit_code, 0) << stats.err;
    const auto scanned = expect_json_progress(stats.err, "stats", "tokens");
    ASSERT_FALSE(scanned.empty());
    EXPECT_EQ(scanned.back()["done"], 512);
    EXPECT_EQ(scanned.back()["total"], 512);
}

TEST(ProgressCliIntegration, EnvironmentSetsTheDefaultAndTheFlagWins) {
    TempDir tmp;
    const ScopedEnv env("SWITCHYARD_PROGRESS", "json");
    const auto json = trace_tiny(tmp.path() / "t.h5", "");
    ASSERT_EQ(json.exit_code, 0) << json.err;
    expect_json_progress(json.err, "trace", "tokens");
    const auto quiet = trace_tiny(tmp.path() / "t.h5", "--progress none");
    ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
    EXPECT_EQ(quiet.err, "");
}

TEST(ProgressCliIntegration, LogLinesWhenStderrIsNotATerminal) {
    TempDir tmp;
    const auto r = trace_tiny(tmp.path() / "t.h5", "");   // stderr is a file here
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no redraws in a log";
    const auto lines = lines_of(r.err);
    ASSERT_GE(lines.size(), 2u) << r.err;
    EXPECT_EQ(lines.front().rfind("[0:00] trace  0 / 512 tokens", 0), 0u) << lines.front();
    EXPECT_NE(lines.back().find("trace  512 / 512 tokens  100.0%"), std::string::npos) << lines.back();
    EXPECT_NE(lines.back().find("tok/s"), std::string::npos) << lines.back();
}

TEST(ProgressCliIntegration, UnknownStyleIsAUsageError) {
    const auto r = run_cli("export " + shell_quote(tiny_mixtral()) + " -o /nonexistent/x --progress fancy");
    EXPECT_GE(r.exit_code, 100) << r.err;
    EXPECT_NE(r.err.find("--progress"), std::string::npos) << r.err;
}

TEST(ProgressCliIntegration, EveryVerbWithQuietTakesProgress) {
    // A long verb declares its progress flags with add_progress_flags(), never -q on its own.
    const std::string torch = (fs::path(SY_CLI_BINARY).parent_path() / "switchyard-torch").string();
    for (const std::string& binary : {std::string(SY_CLI_BINARY), torch}) {
        const auto r = run_cli_binary(binary, "--cli-spec");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        int long_verbs = 0;
        const nlohmann::json spec = nlohmann::json::parse(r.out);
        for (const auto& verb : spec["subcommands"]) {
            bool quiet = false, progress = false;
            for (const auto& option : verb["options"])
                for (const auto& name : option["names"]) {
                    quiet |= name == "--quiet";
                    progress |= name == "--progress";
                }
            EXPECT_EQ(quiet, progress) << verb["name"];
            long_verbs += progress;
        }
        EXPECT_GE(long_verbs, 3) << binary;
    }
}
