#pragma once
// What the trace CLI tests share: the fixture models, a slice of the bundled corpus, a small
// trace run, and the invariants every tiny-mixtral trace satisfies.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "run_cli.h"
#include "switchyard/core/trace_store.h"

namespace sy::test {

namespace fs = std::filesystem;

inline fs::path tiny_mixtral() { return examples_dir() / "tiny-mixtral"; }
inline fs::path tiny_llama() { return data_dir() / "models" / "tiny-llama"; }

// The first `lines` records of the bundled corpus sample (domains c, english, json, python in
// turn), `repeat` times over; texts cut to `max_chars` (0: whole) so that a few hundred tokens
// span several documents and domains.
inline fs::path corpus(const TempDir& tmp, int lines, int repeat = 1, std::size_t max_chars = 200) {
    std::istringstream sample(slurp(examples_dir() / "corpus-sample.jsonl"));
    std::string head, line;
    for (int i = 0; i < lines && std::getline(sample, line); ++i) {
        auto record = nlohmann::json::parse(line);
        std::string text = record["text"];
        if (max_chars > 0 && text.size() > max_chars) {
            std::size_t cut = max_chars;
            while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;   // UTF-8 boundary
            record["text"] = text.substr(0, cut);
        }
        head += record.dump() + "\n";
    }
    const fs::path file = tmp.path() / "data.jsonl";
    std::ofstream out(file);
    for (int r = 0; r < repeat; ++r) out << head;
    return file;
}

inline const std::string k_small = " --seq-len 64 --batch-tokens 128 --max-tokens 300";

inline CliResult trace(const fs::path& model, const fs::path& data, const fs::path& out, const std::string& extra = k_small) {
    return run_cli("trace " + shell_quote(model) + " --data " + shell_quote(data) + " -o " + shell_quote(out) + extra);
}

// Shapes and invariants every trace of tiny-mixtral (4 MoE layers, 8 experts, top-2) satisfies.
inline void expect_consistent_trace(const sy::TraceReader& reader, int64_t seq_len) {
    const sy::TraceMeta& meta = reader.meta();
    EXPECT_EQ(meta.model_type, "mixtral");
    EXPECT_EQ(meta.top_k, 2);
    EXPECT_EQ(meta.moe_layers, (std::vector<int32_t>{0, 1, 2, 3}));
    EXPECT_EQ(meta.num_experts, (std::vector<int32_t>{8, 8, 8, 8}));
    EXPECT_EQ(meta.token_strings.size(), 2048u);
    EXPECT_EQ(meta.seq_len, seq_len);
    const int64_t n = reader.token_count();
    const auto ids = reader.token_ids(0, n), docs = reader.token_docs(0, n), pos = reader.token_positions(0, n);
    const auto nll = reader.nll(0, n);
    int64_t window_ends = 0, nans = 0;
    for (int64_t t = 0; t < n; ++t) {
        ASSERT_TRUE(ids[t] >= 0 && ids[t] < 2048);
        ASSERT_LT(docs[t], reader.doc_count());
        const bool same_doc = t > 0 && docs[t] == docs[t - 1];
        if (same_doc) {
            ASSERT_EQ(pos[t], pos[t - 1] + 1) << t;
        } else {
            ASSERT_EQ(pos[t], 0) << t;   // a document's first token
        }
        const bool window_end = t + 1 == n || docs[t + 1] != docs[t] || pos[t + 1] % seq_len == 0;
        window_ends += window_end;
        nans += std::isnan(nll[t]);
        if (!window_end) {
            ASSERT_TRUE(std::isfinite(nll[t]) && nll[t] >= 0) << t;
        }
    }
    EXPECT_EQ(nans, window_ends);
    for (int layer = 0; layer < 4; ++layer) {
        const auto routing = reader.routing(layer, 0, n);
        for (int64_t t = 0; t < n; ++t) {
            const int16_t a = routing.topk_ids[t * 2], b = routing.topk_ids[t * 2 + 1];
            ASSERT_TRUE(a >= 0 && a < 8 && b >= 0 && b < 8 && a != b) << t;
            const float wa = routing.topk_weights[t * 2], wb = routing.topk_weights[t * 2 + 1];
            ASSERT_NEAR(wa + wb, 1.0f, 1e-4) << t;   // Mixtral renormalises its top-2 softmax
            ASSERT_GE(wa, wb - 1e-6f) << t;           // selection order
        }
    }
    const auto domains = reader.doc_domains(0, reader.doc_count());
    for (const auto& domain : domains) EXPECT_FALSE(domain.empty());
}

}  // namespace sy::test
