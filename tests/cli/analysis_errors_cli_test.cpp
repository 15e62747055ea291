// Bad input to the analysis verbs (README "The CLI": exit 1 with one `error:` line,
// CLI11's codes >= 100 for malformed flags): missing files, files that are not traces, flags
// the trace cannot satisfy, traces of different tokens given to `compare`.
#include "analysis_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

const char* const k_verbs[] = {"stats", "affinity", "place --gpus 2"};

TEST(AnalysisErrorsCliIntegration, MissingTraceNamesTheFile) {
    TempDir tmp;
    const fs::path missing = tmp.path() / "nope.h5";
    for (const char* verb : k_verbs) expect_one_error_line(run_cli(std::string(verb) + " " + shell_quote(missing)), "nope.h5");
    expect_one_error_line(run_cli("compare " + shell_quote(missing) + " " + shell_quote(missing)), "nope.h5");
}

TEST(AnalysisErrorsCliIntegration, FilesThatAreNotTracesAreRefused) {
    TempDir tmp;
    const fs::path text = tmp.path() / "notes.h5";
    std::ofstream(text) << "not hdf5\n";
    for (const char* verb : k_verbs) expect_one_error_line(run_cli(std::string(verb) + " " + shell_quote(text)), "notes.h5");
    // An HDF5 file without /meta: made with h5py when the Debian package is installed.
    const fs::path other = tmp.path() / "other.h5";
    const std::string python = python_with_h5py();
    if (python.empty()) GTEST_SKIP() << "python3-h5py not installed";
    const std::string make = python + " -c \"import h5py; h5py.File('" + other.string() +
                             "', 'w').create_dataset('x', data=[1, 2, 3])\" 2>/dev/null";
    ASSERT_EQ(std::system(make.c_str()), 0);
    for (const char* verb : k_verbs) expect_one_error_line(run_cli(std::string(verb) + " " + shell_quote(other)), "other.h5");
}

TEST(AnalysisErrorsCliIntegration, FlagsTheTraceCannotSatisfy) {
    TempDir tmp;
    const fs::path trace = tmp.path() / "t.h5";
    trace_tiny_mixtral(short_corpus(tmp, 8), trace);
    const std::string t = " " + shell_quote(trace);
    expect_one_error_line(run_cli("place" + t + " --gpus 3 -q"), "3");             // 8 experts on 3 GPUs
    expect_one_error_line(run_cli("place" + t + " --gpus 4 --nodes 3 -q"), "3");   // 4 GPUs on 3 nodes
    expect_one_error_line(run_cli("stats" + t + " --token-layers 9 -q"), "9");     // not an MoE layer
    const CliResult hops = run_cli("affinity" + t + " --hops 4 -q");               // only 4 MoE layers
    EXPECT_EQ(hops.exit_code, 1) << hops.out << hops.err;
    // Malformed flags are CLI11's: codes >= 100.
    EXPECT_GE(run_cli("affinity" + t + " --convention sideways").exit_code, 100);
    EXPECT_GE(run_cli("stats" + t + " --window 0").exit_code, 100);
    EXPECT_GE(run_cli("place" + t).exit_code, 100);   // --gpus is required
    EXPECT_GE(run_cli("place" + t + " --gpus 2 --method random").exit_code, 100);
    EXPECT_GE(run_cli("compare" + t).exit_code, 100);   // needs two traces
    EXPECT_GE(run_cli("stats" + t + " --top-tokens 0").exit_code, 100);
    // EPLB replica slots: negative ones crashed the packing, and a huge count ran for hours
    // without answering Ctrl-C; now CLI11 refuses the first and the placement the second.
    EXPECT_GE(run_cli("place" + t + " --gpus 4 --method eplb --redundant -1").exit_code, 100);
    expect_one_error_line(run_cli("place" + t + " --gpus 4 --method eplb --redundant 100000 -q"), "[0, 8]");
}

TEST(AnalysisErrorsCliIntegration, CompareRefusesTracesOfDifferentTokens) {
    TempDir tmp;
    const fs::path a = tmp.path() / "a.h5", b = tmp.path() / "b.h5";
    trace_tiny_mixtral(short_corpus(tmp, 8), a);
    TempDir other;
    trace_tiny_mixtral(short_corpus(other, 8, 100), b);
    const CliResult r = run_cli("compare " + shell_quote(a) + " " + shell_quote(b) + " -q");
    expect_one_error_line(r, "token");
    // --datasets is the mode for different data: it works on the same pair.
    EXPECT_EQ(run_cli("compare --datasets " + shell_quote(a) + " " + shell_quote(b) + " -q").exit_code, 0);
}

}  // namespace

// A trace whose run stopped before its first batch holds no tokens. stats and affinity printed
// tables of zeros for it; every verb now refuses it with one error, and -o writes nothing.
TEST(AnalysisErrorsCliIntegration, TraceWithoutTokensIsRefused) {
    TempDir tmp;
    const fs::path trace = tmp.path() / "t.h5", empty = tmp.path() / "empty.h5", out = tmp.path() / "out.h5";
    trace_tiny_mixtral(short_corpus(tmp, 8), trace);
    const sy::TraceMeta meta = sy::TraceReader::open(trace).meta();
    sy::TraceWriter::create(empty, meta, false).close();
    for (const char* verb : k_verbs) {
        expect_one_error_line(run_cli(std::string(verb) + " " + shell_quote(empty) + " -o " + shell_quote(out)),
                              "empty.h5: the trace holds no tokens");
        EXPECT_FALSE(fs::exists(out)) << verb;
    }
    expect_one_error_line(run_cli("compare " + shell_quote(empty) + " " + shell_quote(trace)), "holds no tokens");
    expect_one_error_line(run_cli("compare --datasets " + shell_quote(trace) + " " + shell_quote(empty)),
                          "holds no tokens");
}
