// `switchyard trace` / `switchyard eval` end to end, through the main binary,
// which execs switchyard-torch beside it: the documented HDF5 layout with consistent shapes,
// eval JSON per domain, dense models refused by trace and accepted by eval, Ctrl-C leaving a
// readable, resumable file (exit 130), --plan, and h5py reading the file when it is installed.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "switchyard/core/safetensors_header.h"
#include "trace_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

// A tensor of a goldens.safetensors file as raw little-endian values.
template <typename T>
std::vector<T> golden_tensor(const fs::path& file, const std::string& name) {
    const sy::SafetensorsHeader header = sy::read_safetensors_header(file);
    for (const sy::TensorInfo& info : header.tensors) {
        if (info.name != name) continue;
        std::vector<T> values(info.nbytes() / sizeof(T));
        std::ifstream in(file, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(header.data_offset + info.data_begin));
        in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(info.nbytes()));
        return values;
    }
    ADD_FAILURE() << file << " has no " << name;
    return {};
}

// The golden sequences as input_ids records (one 128-token record each, with its domain).
fs::path golden_corpus(const TempDir& tmp, const fs::path& goldens) {
    const auto ids = golden_tensor<int64_t>(goldens, "input_ids");
    const auto domains = nlohmann::json::parse(sy::read_safetensors_header(goldens).metadata.at("domains"));
    const fs::path file = tmp.path() / "goldens.jsonl";
    std::ofstream out(file);
    for (std::size_t b = 0; b < domains.size(); ++b) {
        const std::vector<int64_t> row(ids.begin() + b * 128, ids.begin() + (b + 1) * 128);
        out << nlohmann::json{{"input_ids", row}, {"domain", domains[b]}}.dump() << "\n";
    }
    return file;
}

double golden_mean_nll(const fs::path& goldens) {
    return std::stod(sy::read_safetensors_header(goldens).metadata.at("mean_nll"));
}

std::optional<std::string> python_with_h5py() {
    for (const char* python : {"python3", "/usr/bin/python3"})
        if (std::system((std::string(python) + " -c 'import h5py' >/dev/null 2>&1").c_str()) == 0) return python;
    return std::nullopt;
}

}  // namespace

TEST(TraceCliIntegration, TracesTinyMixtralWithTheDocumentedLayout) {
    TempDir tmp;
    const fs::path out = tmp.path() / "trace.h5";
    const auto r = trace(tiny_mixtral(), corpus(tmp, 8), out, k_small + " --router-logits -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("traced 300 tokens"), std::string::npos) << r.out;
    const auto reader = sy::TraceReader::open(out);
    EXPECT_EQ(reader.token_count(), 300);
    expect_consistent_trace(reader, 64);
    EXPECT_NE(reader.meta().command_line.find("trace"), std::string::npos);
    EXPECT_EQ(reader.meta().dtype, "f32");
    EXPECT_EQ(reader.meta().bos, "auto");
    ASSERT_TRUE(reader.has_router_logits());
    // The first choice is the largest logit (float16 storage: allow the rare near-tie).
    int64_t agree = 0;
    for (int layer = 0; layer < 4; ++layer) {
        const auto logits = reader.router_logits(layer, 0, 300);
        const auto routing = reader.routing(layer, 0, 300);
        for (int64_t t = 0; t < 300; ++t) {
            const auto* row = &logits[t * 8];
            agree += std::max_element(row, row + 8) - row == routing.topk_ids[t * 2];
        }
    }
    EXPECT_GE(agree, int64_t(0.99 * 4 * 300));

    if (const auto python = python_with_h5py()) {
        const fs::path script = cli_test_dir() / "trace_layout_check.py";
        const std::string check = *python + " " + shell_quote(script) + " " + shell_quote(out) + " 4 2 8 1";
        EXPECT_EQ(std::system(check.c_str()), 0) << check;
    } else {
        std::cout << "[ note ] h5py not installed: layout not checked with h5py\n";
    }
}

TEST(TraceCliIntegration, EvalJsonHasDomainsAndMatchesTheTrace) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 8), out = tmp.path() / "trace.h5";
    ASSERT_EQ(trace(tiny_mixtral(), data, out, k_small + " -q").exit_code, 0);
    const auto r =
        run_cli("eval " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + k_small + " --json -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto json = nlohmann::json::parse(r.out);
    int64_t tokens = 0;
    for (const char* domain : {"c", "english", "json", "python"}) {
        ASSERT_TRUE(json["domains"].contains(domain)) << r.out;
        const auto& d = json["domains"][domain];
        EXPECT_NEAR(d["perplexity"].get<double>(), std::exp(d["mean_nll"].get<double>()), 1e-6);
        tokens += d["tokens"].get<int64_t>();
    }
    EXPECT_EQ(json["all"]["tokens"].get<int64_t>(), tokens);
    // Same windows as the trace: the trace's mean /eval/nll is eval's overall mean.
    const auto reader = sy::TraceReader::open(out);
    const auto nll = reader.nll(0, reader.token_count());
    double sum = 0;
    int64_t count = 0;
    for (float v : nll)
        if (!std::isnan(v)) sum += v, ++count;
    EXPECT_EQ(count, tokens);
    EXPECT_NEAR(sum / count, json["all"]["mean_nll"].get<double>(), 1e-5);
    EXPECT_GT(json["all"]["mean_nll"].get<double>(), 0.5);   // a trained model, not a constant
    EXPECT_LT(json["all"]["mean_nll"].get<double>(), 6.0);
}

TEST(TraceCliIntegration, DenseModelIsRefusedByTraceAndAcceptedByEval) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 4);
    const auto refused = trace(tiny_llama(), data, tmp.path() / "t.h5");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("error: "), std::string::npos);
    EXPECT_NE(refused.err.find("dense model (no MoE layers)"), std::string::npos) << refused.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "t.h5"));
    const auto r =
        run_cli("eval " + shell_quote(tiny_llama()) + " --data " + shell_quote(data) + k_small + " --json -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto json = nlohmann::json::parse(r.out);
    EXPECT_GT(json["all"]["tokens"].get<int64_t>(), 280);   // 300 minus one per window
    EXPECT_LT(json["all"]["tokens"].get<int64_t>(), 300);
    EXPECT_TRUE(json["domains"].contains("c"));
}

TEST(TraceCliIntegration, CtrlCLeavesAReadableResumableFile) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 100, 2, 0), out = tmp.path() / "trace.h5", err = tmp.path() / "err";
    const std::string options = " --seq-len 128 --batch-tokens 256 --max-tokens 6000";
    ASSERT_EQ(run_cli_and_interrupt("trace " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + " -o " +
                                        shell_quote(out) + options,
                                    err),
              130)
        << slurp(err);
    EXPECT_NE(slurp(err).find("\nerror: cancelled\n"), std::string::npos) << slurp(err);
    int64_t interrupted_at = 0;
    {
        const auto reader = sy::TraceReader::open(out);
        interrupted_at = reader.token_count();
        EXPECT_GT(interrupted_at, 0);
        EXPECT_LT(interrupted_at, 6000);
        expect_consistent_trace(reader, 128);
    }
    // A refused resume (fewer tokens asked for than the file holds) changes nothing in the file:
    // the run with the original options still resumes it.
    const auto smaller = trace(tiny_mixtral(), data, out,
                               " --seq-len 128 --batch-tokens 256 --max-tokens " + std::to_string(interrupted_at - 1) + " --resume -q");
    EXPECT_EQ(smaller.exit_code, 1);
    EXPECT_NE(smaller.err.find("more than --max-tokens"), std::string::npos) << smaller.err;
    EXPECT_EQ(sy::TraceReader::open(out).meta().max_tokens, 6000);
    const auto resumed = trace(tiny_mixtral(), data, out, options + " --resume -q");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("already there"), std::string::npos) << resumed.out;
    const auto reader = sy::TraceReader::open(out);
    EXPECT_EQ(reader.token_count(), 6000);
    expect_consistent_trace(reader, 128);
}

TEST(TraceCliIntegration, ExistingOutputBadDataAndMismatchedResumeAreRefused) {
    TempDir tmp;
    const fs::path data = corpus(tmp, 4), out = tmp.path() / "trace.h5";
    ASSERT_EQ(trace(tiny_mixtral(), data, out, k_small + " -q").exit_code, 0);
    const auto exists = trace(tiny_mixtral(), data, out, k_small + " -q");
    EXPECT_EQ(exists.exit_code, 1);
    EXPECT_NE(exists.err.find("already exists; pass --resume"), std::string::npos) << exists.err;
    EXPECT_EQ(trace(tiny_mixtral(), data, out, k_small + " -q --force").exit_code, 0);
    const auto mismatch =
        trace(tiny_mixtral(), data, out, " --seq-len 32 --batch-tokens 128 --max-tokens 300 -q --resume");
    EXPECT_EQ(mismatch.exit_code, 1);
    EXPECT_NE(mismatch.err.find("cannot resume: --seq-len differs"), std::string::npos) << mismatch.err;
    const fs::path bad = tmp.path() / "bad.jsonl";
    std::ofstream(bad) << "{\"text\": \"int x;\"}\n{\"domain\": \"c\"}\n";
    const auto bad_run = trace(tiny_mixtral(), bad, tmp.path() / "bad.h5", " -q");
    EXPECT_EQ(bad_run.exit_code, 1);
    EXPECT_EQ(bad_run.err, "error: " + bad.string() + ":2: record has neither \"text\" nor \"input_ids\"\n");
    const auto bad_flag =
        run_cli("trace " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + " --dtype f64 -o x.h5");
    EXPECT_GE(bad_flag.exit_code, 100);   // CLI11's own code
}

TEST(TraceCliIntegration, PlanPrintsMemoryAndTimeWithoutComputing) {
    TempDir tmp;
    const auto r = run_cli("trace " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(corpus(tmp, 8)) +
                           " --plan --max-memory 1MB -o " + shell_quote(tmp.path() / "t.h5"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* text : {"weights per layer (on disk -> in memory as f32):", "layer 0: ", "layer 3: ",
                             "in memory as f32 (the token embedding as stored, bf16: a row lookup)\n",
                             "all weights: ", " on disk, ", "smallest workable --max-memory: ",
                             "read from disk: ", "(the streamed layers once per batch)",
                             "estimated time (compute-bound lower bound): ",
                             "--max-memory 1.0 MB is below the smallest workable bound"})
        EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
    EXPECT_FALSE(fs::exists(tmp.path() / "t.h5"));
}

// End to end: eval of the golden sequences (input_ids records, seq-len 128)
// reproduces the golden mean NLL, and trace writes the golden routing into the file.
TEST(TraceCliIntegration, GoldenSequencesReproduceNllAndRouting) {
    TempDir tmp;
    const fs::path goldens = data_dir() / "models" / "tiny-mixtral-goldens" / "goldens.safetensors";
    const fs::path data = golden_corpus(tmp, goldens), out = tmp.path() / "golden.h5";
    const std::string options = " --data " + shell_quote(data) + " --seq-len 128 -q";
    const auto eval = run_cli("eval " + shell_quote(tiny_mixtral()) + options + " --json");
    ASSERT_EQ(eval.exit_code, 0) << eval.err;
    const auto json = nlohmann::json::parse(eval.out);
    EXPECT_EQ(json["all"]["tokens"].get<int64_t>(), 32 * 127);
    EXPECT_NEAR(json["all"]["mean_nll"].get<double>(), golden_mean_nll(goldens), 1e-3);
    EXPECT_EQ(json["domains"].size(), 4u);

    const auto r = run_cli("trace " + shell_quote(tiny_mixtral()) + options + " -o " + shell_quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto reader = sy::TraceReader::open(out);
    ASSERT_EQ(reader.token_count(), 4096);
    const auto ids = golden_tensor<int64_t>(goldens, "topk_ids");
    const auto weights = golden_tensor<float>(goldens, "topk_weights");
    int64_t same_sets = 0, pairs = 0;
    for (int layer = 0; layer < 4; ++layer) {
        const auto routing = reader.routing(layer, 0, 4096);
        for (int64_t t = 0; t < 4096; ++t, ++pairs) {
            const std::size_t g = static_cast<std::size_t>((layer * 4096 + t) * 2);
            const int16_t a = routing.topk_ids[t * 2], b = routing.topk_ids[t * 2 + 1];
            if (a != ids[g] || b != ids[g + 1]) continue;   // near-ties (README: >= 99.9% identical)
            ++same_sets;
            EXPECT_NEAR(routing.topk_weights[t * 2], weights[g], 1e-4);
            EXPECT_NEAR(routing.topk_weights[t * 2 + 1], weights[g + 1], 1e-4);
        }
    }
    EXPECT_GE(double(same_sets), 0.999 * double(pairs));
}

TEST(TraceCliIntegration, DenseGoldenNllThroughEval) {
    TempDir tmp;
    const fs::path goldens = tiny_llama() / "goldens.safetensors";
    const auto r = run_cli("eval " + shell_quote(tiny_llama()) + " --data " + shell_quote(golden_corpus(tmp, goldens)) +
                           " --seq-len 128 -q --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NEAR(nlohmann::json::parse(r.out)["all"]["mean_nll"].get<double>(), golden_mean_nll(goldens), 1e-3);
}
