// run_score against independent recounts: the routing of a trace of the same tokens, expert
// norms recomputed here from the weights, and the invariants every layer must satisfy.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "runner_fixtures.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/compute/score_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/tokenizer.h"
#include "switchyard/core/trace_store.h"

using namespace sy;
using namespace sy::test;

namespace {

std::filesystem::path sample() { return data_dir() / "corpus" / "valid-sample.jsonl"; }

ScoreOptions options(int64_t tokens, int64_t outputs = 0) {
    ScoreOptions o;
    o.corpus.data = {sample()};
    o.corpus.max_tokens = tokens;
    o.corpus.seq_len = 256;
    o.output_tokens = outputs;
    return o;
}

// ||down(silu(gate x) * up x)|| in double, from the f32 weights.
double expert_norm(const ExpertTensorsF32& w, const float* x, int64_t inter, int64_t hidden) {
    std::vector<double> act(static_cast<std::size_t>(inter));
    for (int64_t n = 0; n < inter; ++n) {
        double g = 0, u = 0;
        for (int64_t c = 0; c < hidden; ++c) g += double(w.gate[size_t(n * hidden + c)]) * x[c], u += double(w.up[size_t(n * hidden + c)]) * x[c];
        act[size_t(n)] = g / (1 + std::exp(-g)) * u;
    }
    double sq = 0;
    for (int64_t r = 0; r < hidden; ++r) {
        double y = 0;
        for (int64_t n = 0; n < inter; ++n) y += double(w.down[size_t(r * inter + n)]) * act[size_t(n)];
        sq += y * y;
    }
    return std::sqrt(sq);
}

// Keeps layer 0's MoE inputs and routing, for the independent recount of EAN / REAP.
class FirstLayer final : public RoutingObserver {
public:
    void on_layer_routing(const LayerRouting& r) override {
        if (r.moe_index != 0) return;
        hidden.insert(hidden.end(), r.hidden_states, r.hidden_states + r.tokens * r.hidden_size);
        ids.insert(ids.end(), r.topk_ids, r.topk_ids + r.tokens * r.top_k);
        gates.insert(gates.end(), r.topk_weights, r.topk_weights + r.tokens * r.top_k);
        top_k = r.top_k, h = r.hidden_size;
    }
    bool wants_hidden_states() const override { return true; }
    std::vector<float> hidden, gates;
    std::vector<int64_t> ids;
    int64_t top_k = 0, h = 0;
};

}  // namespace

TEST(ScoreJob, CountsMatchATraceOfTheSameTokensAndInvariantsHold) {
    const Model model = open_model(fixture_model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    const ExpertScores s = run_score(model, options(1536), progress, cancel);
    EXPECT_EQ(s.tokens, 1536);
    EXPECT_EQ(std::accumulate(s.domain_tokens.begin(), s.domain_tokens.end(), int64_t(0)), 1536);
    TempDir tmp;
    TraceOptions trace;
    trace.corpus = options(1536).corpus;
    trace.output = tmp.path() / "t.h5";
    run_trace(model, trace, progress, cancel);
    const TraceReader reader = TraceReader::open(trace.output);
    ASSERT_EQ(s.layers.size(), 4u);
    for (int m = 0; m < 4; ++m) {
        const LayerExpertScores& l = s.layers[size_t(m)];
        std::vector<int64_t> recount(8, 0);
        const TraceRouting routing = reader.routing(m, 0, reader.token_count());
        for (int16_t e : routing.topk_ids) ++recount[size_t(e)];
        EXPECT_EQ(l.count, recount) << "layer " << l.layer;
        double freq = 0, gates = 0, probs = 0;
        for (int e = 0; e < 8; ++e) {
            freq += l.frequency[size_t(e)], gates += l.gate_mass[size_t(e)], probs += l.mean_prob[size_t(e)];
            int64_t by_domain = 0;
            for (std::size_t d = 0; d < s.domains.size(); ++d) by_domain += l.domain_count[d * 8 + size_t(e)];
            EXPECT_EQ(by_domain, l.count[size_t(e)]);
            if (l.count[size_t(e)] > 0) {
                EXPECT_LE(l.reap[size_t(e)], l.ean[size_t(e)] + 1e-9);   // gates <= 1
            }
        }
        EXPECT_NEAR(freq, 1.0, 1e-12);
        EXPECT_NEAR(gates, 1536.0, 1e-2);   // Mixtral's gates sum to 1 per token
        EXPECT_NEAR(probs, 1.0, 1e-5);
    }
}

TEST(ScoreJob, EanAndReapMatchNormsRecomputedFromTheWeights) {
    const Model model = open_model(fixture_model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    const ExpertScores s = run_score(model, options(512), progress, cancel);
    // The same windows through the runner, layer 0 kept, norms recomputed in double.
    FirstLayer first;
    ModelRunner runner(model, {});
    DatasetOptions dataset;
    dataset.files = {sample()};
    dataset.seq_len = 256;
    dataset.batch_tokens = default_batch_tokens(256);
    dataset.max_tokens = 512;
    dataset.vocab_size = model.description.vocab_size;
    const Tokenizer tokenizer = Tokenizer::from_file((fixture_model_dir("tiny-mixtral") / "tokenizer.json").string());
    dataset.text = resolve_text_encoding(BosMode::automatic, tokenizer, fixture_model_dir("tiny-mixtral"));
    DatasetReader reader(dataset, &tokenizer);
    DatasetBatch batch;
    while (reader.next(batch)) {
        Batch run;
        for (const Window& w : batch.windows) run.sequences.push_back(w.ids);
        runner.run(run, &first, false);
    }
    const int64_t inter = model.description.expert_intermediate_size, hidden = model.description.hidden_size;
    std::vector<double> norm(8, 0), gated(8, 0);
    std::vector<int64_t> count(8, 0);
    std::vector<ExpertTensorsF32> experts;
    for (int e = 0; e < 8; ++e) experts.push_back(load_expert_f32(model, 0, e));
    for (std::size_t i = 0; i < first.ids.size(); ++i) {
        const auto e = static_cast<std::size_t>(first.ids[i]);
        const double n = expert_norm(experts[e], first.hidden.data() + (i / size_t(first.top_k)) * size_t(hidden), inter, hidden);
        norm[e] += n, gated[e] += first.gates[i] * n, ++count[e];
    }
    const LayerExpertScores& l = s.layers[0];
    for (int e = 0; e < 8; ++e) {
        ASSERT_EQ(l.count[size_t(e)], count[size_t(e)]);
        if (count[size_t(e)] == 0) continue;
        EXPECT_NEAR(l.ean[size_t(e)], norm[size_t(e)] / double(count[size_t(e)]), 1e-4 * l.ean[size_t(e)]) << "expert " << e;
        EXPECT_NEAR(l.reap[size_t(e)], gated[size_t(e)] / double(count[size_t(e)]), 1e-4 * l.ean[size_t(e)]) << "expert " << e;
    }
}

TEST(ScoreJob, MasksAndOutputMeansAndTheFileRoundTrip) {
    const Model model = open_model(fixture_model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    ScoreOptions o = options(1024, 64);
    o.runner.masked_experts = {{0, {3}}, {2, {0, 5}}};
    const ExpertScores s = run_score(model, o, progress, cancel);
    EXPECT_EQ(s.layers[0].count[3], 0);
    EXPECT_EQ(s.layers[2].count[0] + s.layers[2].count[5], 0);
    EXPECT_EQ(s.masked_experts, "0:3,2:0,2:5");
    EXPECT_EQ(s.output_tokens, 64);
    ASSERT_EQ(s.layers[1].output_mean.size(), size_t(8 * model.description.hidden_size));
    TempDir tmp;
    write_expert_scores(s, tmp.path() / "s.h5", false);
    EXPECT_THROW(write_expert_scores(s, tmp.path() / "s.h5", false), UsageError);
    const ExpertScores back = read_expert_scores(tmp.path() / "s.h5");
    check_scores_match(back, model, tmp.path() / "s.h5");
    EXPECT_EQ(back.layers[1].reap, s.layers[1].reap);
    EXPECT_EQ(back.layers[3].output_mean, s.layers[3].output_mean);
    EXPECT_EQ(back.layers[2].domain_count, s.layers[2].domain_count);
    EXPECT_EQ(back.domains, s.domains);
    EXPECT_EQ(back.data_sha256, s.data_sha256);
    const Model other = open_model(fixture_model_dir("tiny-qwen3-moe"));
    EXPECT_THROW(check_scores_match(back, other, tmp.path() / "s.h5"), UsageError);
}

TEST(ScoreJob, RefusesBadMasksBeforeRunning) {
    const Model model = open_model(fixture_model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    ScoreOptions o = options(256);
    o.runner.masked_experts = {{0, {0, 1, 2, 3, 4, 5, 6}}};
    EXPECT_THROW(run_score(model, o, progress, cancel), UsageError);   // fewer than top_k left
    o.runner.masked_experts = {{9, {0}}};
    EXPECT_THROW(run_score(model, o, progress, cancel), UsageError);   // no such MoE layer
}
