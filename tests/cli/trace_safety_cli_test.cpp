// What `switchyard trace` does to files that are already there: bad input never replaces an
// existing trace, an input is never the output, a trace whose writer was killed (kill -9) is
// resumed without h5clear, and a live writer is named rather than overwritten.
#include <gtest/gtest.h>

#include <csignal>

#include "trace_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// A trace of tiny-mixtral run with --force over an existing valid trace, on data whose first
// record is bad, once replaced the file with an empty trace and exited 1. Now the first batch is
// read before the output is touched: the old file stays byte for byte.
TEST(TraceSafetyCliIntegration, BadFirstRecordLeavesTheExistingTraceAlone) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 4), out = tmp.path() / "trace.h5";
    ASSERT_EQ(trace(tiny_mixtral(), data, out, k_small + " -q").exit_code, 0);
    const std::string before = slurp(out);
    const std::pair<std::string, std::string> bad[] = {
        {R"({"input_ids": [1, 2, 3, 2048]})", "2048"},   // outside the 2048-token vocabulary
        {R"({"text": 5})", "text"},
        {"this line is not JSON", "JSON"},
        {R"({"text": "int x;", "domain": ")" + std::string(100, 'x') + R"("})", "longer than 64 bytes"},   // /docs/domain cell
    };
    for (const auto& [record, named] : bad) {
        const fs::path file = tmp.path() / "bad.jsonl";
        std::ofstream(file) << record << "\n" << R"({"text": "int x;"})" << "\n";
        const CliResult r = trace(tiny_mixtral(), file, out, k_small + " -q --force");
        EXPECT_EQ(r.exit_code, 1) << record;
        EXPECT_NE(r.err.find("error: " + file.string() + ":1: "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
        EXPECT_EQ(slurp(out), before) << record;
        const CliResult fresh = trace(tiny_mixtral(), file, tmp.path() / "new.h5", k_small + " -q");
        EXPECT_EQ(fresh.exit_code, 1);
        EXPECT_FALSE(fs::exists(tmp.path() / "new.h5")) << record;
    }
    const fs::path empty = tmp.path() / "empty.jsonl";
    std::ofstream(empty) << R"({"input_ids": []})" << "\n";
    const CliResult r = trace(tiny_mixtral(), empty, out, k_small + " -q --force");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no tokens to trace"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(out), before);
    // eval of the same data has nothing to report either: an error, not a table of NaN.
    const CliResult eval = run_cli("eval " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(empty) + " -q");
    EXPECT_EQ(eval.exit_code, 1);
    EXPECT_NE(eval.err.find("no tokens to evaluate"), std::string::npos) << eval.err;
}

// -o naming a data file or a file of the model folder is refused even with --force.
TEST(TraceSafetyCliIntegration, AnInputIsNeverTheOutput) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 4), model = tmp.path() / "model";
    fs::copy(tiny_mixtral(), model, fs::copy_options::recursive);
    const std::string data_before = slurp(data), config_before = slurp(model / "config.json");
    const CliResult onto_data = trace(model, data, data, k_small + " -q --force");
    EXPECT_EQ(onto_data.exit_code, 1);
    EXPECT_NE(onto_data.err.find("is one of the --data files"), std::string::npos) << onto_data.err;
    const CliResult onto_model = trace(model, data, model / "config.json", k_small + " -q --force");
    EXPECT_EQ(onto_model.exit_code, 1);
    EXPECT_NE(onto_model.err.find("is a file of the model folder"), std::string::npos) << onto_model.err;
    EXPECT_EQ(slurp(data), data_before);
    EXPECT_EQ(slurp(model / "config.json"), config_before);
}

// kill -9 mid-trace: the file keeps every finished batch and --resume carries on by itself. While
// the writer is alive (here stopped with SIGSTOP), --resume and --force name its process and
// leave the file alone.
TEST(TraceSafetyCliIntegration, KilledTraceResumesAndALiveWriterIsNamed) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 100, 2, 0), out = tmp.path() / "trace.h5", err = tmp.path() / "err";
    const std::string options = " --seq-len 128 --batch-tokens 256 --max-tokens 6000";
    const std::string args = "trace " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + " -o " + shell_quote(out);
    const pid_t writer = start_cli(args + options, err);
    ASSERT_GT(writer, 0);
    ASSERT_TRUE(wait_for_text(err, "tok/s")) << slurp(err);   // at least one batch is in the file
    ::kill(writer, SIGSTOP);
    const std::string who = "is being written by process " + std::to_string(writer) + " (switchyard-torc";
    for (const char* flag : {" --resume", " --force"}) {
        const CliResult r = run_cli(args + options + flag + " -q");
        EXPECT_EQ(r.exit_code, 1) << flag;
        EXPECT_NE(r.err.find(who), std::string::npos) << flag << ": " << r.err;
    }
    ::kill(writer, SIGKILL);
    EXPECT_EQ(wait_exit(writer), -1);
    int64_t killed_at = 0;
    {
        const auto reader = sy::TraceReader::open(out);
        killed_at = reader.token_count();
        EXPECT_GT(killed_at, 0);
        expect_consistent_trace(reader, 128);
    }
    const CliResult resumed = run_cli(args + options + " --resume -q");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto reader = sy::TraceReader::open(out);
    EXPECT_EQ(reader.token_count(), 6000);
    expect_consistent_trace(reader, 128);
}

}  // namespace
