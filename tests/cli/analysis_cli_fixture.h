#pragma once
// Shared setup of the analysis-verb CLI tests (every command tested on real
// tiny-mixtral traces with asserted numbers): a trace of the bundled model on a slice of the
// bundled corpus that spans many documents of every domain, JSON runs of the verbs, and the
// routing read back directly with core's TraceReader so the tests can recount what the verbs
// report.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <vector>

#include "run_cli.h"
#include "switchyard/core/trace_store.h"

namespace sy::test {

inline constexpr int k_layers = 4, k_experts = 8, k_top = 2;   // tiny-mixtral
inline constexpr int64_t k_tokens = 3000;

// The first `lines` records of the corpus sample (domains c, english, json, python in turn), cut
// to `max_chars` so that a few thousand tokens cover dozens of documents of all four domains.
inline std::filesystem::path short_corpus(const TempDir& tmp, int lines = 60, std::size_t max_chars = 300) {
    std::istringstream sample(slurp(examples_dir() / "corpus-sample.jsonl"));
    const std::filesystem::path file = tmp.path() / "corpus.jsonl";
    std::ofstream out(file);
    std::string line;
    for (int i = 0; i < lines && std::getline(sample, line); ++i) {
        auto record = nlohmann::json::parse(line);
        std::string text = record["text"];
        std::size_t cut = std::min(max_chars, text.size());
        while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
        record["text"] = text.substr(0, cut);
        out << record.dump() << "\n";
    }
    return file;
}

// Traces tiny-mixtral on `data` into `out` (router logits on, for the balance loss).
inline void trace_tiny_mixtral(const std::filesystem::path& data, const std::filesystem::path& out,
                               const std::string& extra = "") {
    const CliResult r = run_cli("trace " + shell_quote(examples_dir() / "tiny-mixtral") + " --data " + shell_quote(data) +
                                " --seq-len 128 --max-tokens " + std::to_string(k_tokens) + " --router-logits -q -o " +
                                shell_quote(out) + extra);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Runs `verb args --json -q` and parses stdout.
inline nlohmann::json run_json(const std::string& args) {
    const CliResult r = run_cli(args + " --json -q");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// Exit 1 with exactly one "error: ..." line containing `fragment`.
inline void expect_one_error_line(const CliResult& r, const std::string& fragment) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

// Everything routing-related of a trace, read with core's reader (no analysis code).
struct TraceData {
    int64_t n = 0;
    std::vector<int32_t> ids, doc, pos;
    std::vector<std::string> domains;              // [docs]
    std::vector<std::vector<int16_t>> topk;        // [Lm][n * k]
    std::vector<std::vector<float>> weights;       // [Lm][n * k]
    std::vector<std::vector<float>> logits;        // [Lm][n * E] (empty without logits)

    int first(int l, int64_t t) const { return topk[l][t * k_top]; }
};

inline TraceData read_trace(const std::filesystem::path& path) {
    const TraceReader reader = TraceReader::open(path);
    TraceData d;
    d.n = reader.token_count();
    d.ids = reader.token_ids(0, d.n);
    d.doc = reader.token_docs(0, d.n);
    d.pos = reader.token_positions(0, d.n);
    d.domains = reader.doc_domains(0, reader.doc_count());
    for (int l = 0; l < static_cast<int>(reader.meta().moe_layers.size()); ++l) {
        TraceRouting r = reader.routing(l, 0, d.n);
        d.topk.push_back(std::move(r.topk_ids));
        d.weights.push_back(std::move(r.topk_weights));
        if (reader.has_router_logits()) d.logits.push_back(reader.router_logits(l, 0, d.n));
    }
    return d;
}

// A Python with h5py (Debian's python3-h5py lives under /usr/bin; a pyenv python3 may lack it).
inline std::string python_with_h5py() {
    for (const char* python : {"python3", "/usr/bin/python3"})
        if (std::system((std::string(python) + " -c 'import h5py' >/dev/null 2>&1").c_str()) == 0) return python;
    return "";
}

template <typename T>
std::vector<T> as_vector(const nlohmann::json& j) {
    return j.get<std::vector<T>>();
}

inline double sum_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace sy::test
