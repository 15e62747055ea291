// The analyses read from a real HDF5 trace (core's TraceWriter / TraceReader) chunk by chunk and
// give exactly what the in-memory accumulators give on the same routing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "planted_trace.h"
#include "switchyard/analysis/trace_analyses.h"
#include "switchyard/core/errors.h"
#include "test_paths.h"

namespace sy::analysis {
namespace {

TraceMeta meta_of(const testing::Trace& tr, bool logits) {
    TraceMeta meta;
    meta.tool_version = "switchyard test";
    meta.model_type = "mixtral";
    meta.num_layers = tr.shape.moe_layers.back() + 1;
    meta.top_k = tr.shape.top_k;
    meta.dtype = "f32";
    meta.device = "cpu";
    meta.bos = "off";
    meta.created = "2025-01-01T00:00:00Z";
    meta.router_logits = logits;
    meta.moe_layers.assign(tr.shape.moe_layers.begin(), tr.shape.moe_layers.end());
    meta.num_experts.assign(tr.shape.num_experts.begin(), tr.shape.num_experts.end());
    for (int v = 0; v < 300; ++v) meta.token_strings.push_back("t" + std::to_string(v));
    return meta;
}

// Writes `tr` in batches of 97 tokens; documents are named by their domain index.
void write_trace(const std::filesystem::path& path, const testing::Trace& tr, bool logits) {
    TraceWriter writer = TraceWriter::create(path, meta_of(tr, logits), false);
    const std::vector<std::string> names = {"code", "math", "prose"};
    int32_t docs_written = 0;
    for (int64_t begin = 0; begin < tr.buffer.n; begin += 97) {
        const RoutingChunkBuffer c = tr.buffer.slice(tr.shape, begin, std::min(tr.buffer.n, begin + 97));
        TraceBatchData batch;
        for (; docs_written <= c.doc.back(); ++docs_written) {
            // domain of a document = the domain of its tokens
            int32_t domain = 0;
            for (int64_t t = 0; t < tr.buffer.n; ++t)
                if (tr.buffer.doc[t] == docs_written) domain = tr.buffer.domain[t];
            batch.doc_domains.push_back(names[domain]);
            batch.doc_sources.push_back("d.jsonl:" + std::to_string(docs_written + 1));
        }
        batch.ids = c.token_ids;
        batch.doc = c.doc;
        batch.pos = c.pos;
        batch.topk_ids = c.topk_ids;
        batch.topk_weights = c.topk_weights;
        batch.nll.assign(static_cast<size_t>(c.n), 0.0f);
        if (logits)
            for (float v : c.router_logits) batch.router_logits.push_back(float_to_half(v));
        writer.append(batch);
    }
    writer.close();
}

// The in-memory trace with logits rounded through float16, as the file stores them.
testing::Trace halved(testing::Trace tr) {
    for (float& v : tr.buffer.router_logits) v = half_to_float(float_to_half(v));
    return tr;
}

TEST(TraceSourceIntegration, StatsAndAffinityFromFileEqualInMemory) {
    const test::TempDir dir;
    const testing::Trace tr = halved(testing::random_trace(3, 8, 2, 1000, 300, 3, 21));
    write_trace(dir.path() / "t.h5", tr, true);
    const TraceReader reader = TraceReader::open(dir.path() / "t.h5");
    NullProgress progress;
    CancelToken cancel;

    StatsOptions options;
    options.window_tokens = 128;
    const StatsResult from_file = trace_stats(reader, options, 113, progress, cancel);
    options.domain_names = {"code", "math", "prose"};
    options.vocab_size = 300;
    StatsAccumulator memory(tr.shape, options);
    memory.add(tr.buffer.view());
    EXPECT_TRUE(from_file.has_router_scores);
    EXPECT_EQ(from_file.domains.names, options.domain_names);
    EXPECT_EQ(stats_to_json(from_file, {}), stats_to_json(memory.finish(), {}));

    const AffinityOptions aff{AffinityConvention::all_pairs, 2, 2};
    AffinityAccumulator acc(tr.shape, aff);
    acc.add(tr.buffer.view());
    EXPECT_EQ(affinity_to_json(trace_affinity(reader, aff, 50, progress, cancel)), affinity_to_json(acc.finish()));
}

TEST(TraceSourceIntegration, PlacementAndCompareFromFile) {
    const test::TempDir dir;
    const testing::Trace tr = testing::planted_chains({{0, 3, 5}, {2, 2, 7}, {4, 6, 1}, {6, 0, 3}}, 8, 2, 400, 50);
    write_trace(dir.path() / "a.h5", [&] {
        testing::Trace copy = tr;
        copy.buffer.domain.assign(static_cast<size_t>(copy.buffer.n), 0);
        return copy;
    }(), false);
    const TraceReader reader = TraceReader::open(dir.path() / "a.h5");
    NullProgress progress;
    CancelToken cancel;
    PlacementOptions options;
    options.gpus = 4;
    const PlacementResult placed = trace_placement(reader, AffinityConvention::first, options, 64, progress, cancel);
    EXPECT_EQ(placed.evaluation.cross_gpu_fraction, 0.0);
    const CompareResult same = trace_compare(reader, reader, 5, 64, progress, cancel);
    EXPECT_EQ(same.tokens, 400);
    EXPECT_DOUBLE_EQ(same.first_choice, 1.0);
    const DatasetComparison d = trace_compare_datasets(reader, reader, {}, 64, progress, cancel);
    EXPECT_EQ(d.affinity.size(), 2u);
    EXPECT_DOUBLE_EQ(d.affinity[0].conditional_tv, 0.0);
    EXPECT_THROW(trace_stats(reader, {}, 0, progress, cancel), UsageError);
}

TEST(TraceSourceIntegration, CancelStopsTheScan) {
    const test::TempDir dir;
    const testing::Trace tr = testing::planted_chains({{0, 1}, {2, 3}}, 4, 1, 100);
    testing::Trace copy = tr;
    copy.buffer.domain.assign(100, 0);
    write_trace(dir.path() / "c.h5", copy, false);
    const TraceReader reader = TraceReader::open(dir.path() / "c.h5");
    NullProgress progress;
    CancelToken cancel;
    cancel.cancel();
    EXPECT_THROW(trace_affinity(reader, {}, 10, progress, cancel), Cancelled);
}

}  // namespace
}  // namespace sy::analysis
