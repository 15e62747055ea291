// `switchyard affinity` and `switchyard place` on a real tiny-mixtral trace:
// pair counts recounted from the raw routing, row/column sums equal to `stats`' counts (the two
// verbs must agree), conditional rows summing to 1 under every convention, the placement's
// evaluation recomputed from the affinity counts; and `place` finding the zero-crossing
// placement of a planted trace file.
#include <random>

#include "analysis_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;
using nlohmann::json;
using Matrix = std::vector<std::vector<double>>;
using sy::TraceBatchData;
using sy::TraceMeta;
using sy::TraceWriter;

namespace {

class AffinityCliIntegration : public ::testing::Test {
protected:
    void SetUp() override {
        trace_file = tmp.path() / "trace.h5";
        trace_tiny_mixtral(short_corpus(tmp), trace_file);
        data = read_trace(trace_file);
        stats = run_json("stats " + shell_quote(trace_file) + " --top-tokens 1");
    }
    std::vector<double> stats_counts(int l, const char* key) const { return as_vector<double>(stats["layers"][l][key]); }

    TempDir tmp;
    fs::path trace_file;
    TraceData data;
    json stats;
};

std::vector<double> row_sums(const Matrix& m) {
    std::vector<double> s;
    for (const auto& row : m) s.push_back(sum_of(row));
    return s;
}
std::vector<double> column_sums(const Matrix& m) {
    std::vector<double> s(m[0].size(), 0);
    for (const auto& row : m)
        for (std::size_t j = 0; j < row.size(); ++j) s[j] += row[j];
    return s;
}
void expect_rows_sum_to_one(const json& pair) {
    for (const auto& row : pair["conditional"].get<Matrix>()) EXPECT_NEAR(sum_of(row), 1.0, 1e-9);
}

TEST_F(AffinityCliIntegration, FirstChoiceCountsRecountAndAgreeWithStats) {
    const json aff = run_json("affinity " + shell_quote(trace_file));
    EXPECT_EQ(aff["convention"], "first");
    EXPECT_EQ(aff["hops"], 1);
    ASSERT_EQ(aff["pairs"].size(), std::size_t(k_layers - 1));
    for (int l = 0; l + 1 < k_layers; ++l) {
        const json& pair = aff["pairs"][l];
        EXPECT_EQ(pair["from_layer"], l);
        EXPECT_EQ(pair["to_layer"], l + 1);
        Matrix counts(k_experts, std::vector<double>(k_experts, 0));
        for (int64_t t = 0; t < data.n; ++t) ++counts[data.first(l, t)][data.first(l + 1, t)];
        EXPECT_EQ(pair["counts"].get<Matrix>(), counts) << l;
        // Cross-check between verbs: the joint's marginals are stats' first-choice counts.
        EXPECT_EQ(row_sums(counts), stats_counts(l, "first_choice_counts"));
        EXPECT_EQ(column_sums(counts), stats_counts(l + 1, "first_choice_counts"));
        expect_rows_sum_to_one(pair);
        const double mi = pair["mutual_information"], h_to = pair["entropy_to"], h_from = pair["entropy_from"];
        EXPECT_GT(mi, 0.05);   // the trained model's routing carries information across layers
        EXPECT_LE(mi, std::min(h_to, h_from) + 1e-9);
        EXPECT_LE(h_to, 3.0 + 1e-9);   // log2(8)
        // top-1 row mass = row-max mean, both in [1/E, 1]
        EXPECT_DOUBLE_EQ(pair["top_m_mass"].get<double>(), pair["row_max_mean"].get<double>());
        EXPECT_GT(pair["row_max_mean"].get<double>(), 1.0 / k_experts);
    }
}

TEST_F(AffinityCliIntegration, AllPairsAndWeightedConventionsKeepTheirTotals) {
    const json all = run_json("affinity " + shell_quote(trace_file) + " --convention all-pairs");
    const json weighted = run_json("affinity " + shell_quote(trace_file) + " --convention weighted");
    for (int l = 0; l + 1 < k_layers; ++l) {
        const Matrix counts = all["pairs"][l]["counts"].get<Matrix>();
        // Every one of the k slots at l pairs with the k slots at l+1: rows are k * stats' counts.
        std::vector<double> expected_rows = stats_counts(l, "counts"), expected_cols = stats_counts(l + 1, "counts");
        for (double& v : expected_rows) v *= k_top;
        for (double& v : expected_cols) v *= k_top;
        EXPECT_EQ(row_sums(counts), expected_rows);
        EXPECT_EQ(column_sums(counts), expected_cols);
        expect_rows_sum_to_one(all["pairs"][l]);
        // Mixtral's top-2 weights sum to 1 per token, so the weighted joint sums to T.
        EXPECT_NEAR(sum_of(row_sums(weighted["pairs"][l]["counts"].get<Matrix>())), double(k_tokens), 1e-2);
        expect_rows_sum_to_one(weighted["pairs"][l]);
    }
}

TEST_F(AffinityCliIntegration, TwoHopsHaveMarkovPredictionAndRecount) {
    const json aff = run_json("affinity " + shell_quote(trace_file) + " --hops 2 --top-m 2");
    ASSERT_EQ(aff["pairs"].size(), 2u);
    for (int l = 0; l < 2; ++l) {
        const json& pair = aff["pairs"][l];
        EXPECT_EQ(pair["to_layer"], l + 2);
        Matrix counts(k_experts, std::vector<double>(k_experts, 0));
        for (int64_t t = 0; t < data.n; ++t) ++counts[data.first(l, t)][data.first(l + 2, t)];
        EXPECT_EQ(pair["counts"].get<Matrix>(), counts);
        for (const auto& row : pair["markov_prediction"].get<Matrix>()) EXPECT_NEAR(sum_of(row), 1.0, 1e-9);
        const double gap = pair["markov_gap_tv"], gap_max = pair["markov_gap_tv_max"];
        EXPECT_GT(gap, 0.0);   // real routing is not exactly Markov
        EXPECT_LE(gap, gap_max + 1e-12);
        EXPECT_LE(gap_max, 1.0);
        EXPECT_GE(pair["top_m_mass"].get<double>(), pair["row_max_mean"].get<double>());
    }
}

// Placement evaluation recomputed from affinity's counts: contiguous baseline e -> e / 2.
TEST_F(AffinityCliIntegration, PlacementIsBalancedAndBeatsTheContiguousBaseline) {
    const json aff = run_json("affinity " + shell_quote(trace_file));
    const json place = run_json("place " + shell_quote(trace_file) + " --gpus 4 --exact never --time-limit 1");
    const auto placement = place["placement"].get<std::vector<std::vector<int>>>();
    ASSERT_EQ(placement.size(), std::size_t(k_layers));
    for (const auto& layer : placement) {
        std::vector<int> per_gpu(4, 0);
        for (int g : layer) ++per_gpu.at(g);
        EXPECT_EQ(per_gpu, (std::vector<int>{2, 2, 2, 2}));
    }
    double crossings = 0, baseline_crossings = 0, total = 0;
    for (int l = 0; l + 1 < k_layers; ++l) {
        const Matrix counts = aff["pairs"][l]["counts"].get<Matrix>();
        for (int i = 0; i < k_experts; ++i)
            for (int j = 0; j < k_experts; ++j) {
                total += counts[i][j];
                crossings += placement[l][i] != placement[l + 1][j] ? counts[i][j] : 0;
                baseline_crossings += i / 2 != j / 2 ? counts[i][j] : 0;
            }
    }
    EXPECT_EQ(total, double(k_tokens * (k_layers - 1)));
    EXPECT_NEAR(place["cross_gpu_fraction"].get<double>(), crossings / total, 1e-12);
    EXPECT_NEAR(place["baseline_cross_gpu_fraction"].get<double>(), baseline_crossings / total, 1e-12);
    EXPECT_LT(place["cross_gpu_fraction"].get<double>(), place["baseline_cross_gpu_fraction"].get<double>() - 0.05);
    EXPECT_EQ(place["cross_node_fraction"], 0.0);   // one node
    const Matrix dispatch = place["evaluation"]["dispatch"].get<Matrix>();
    EXPECT_NEAR(sum_of(row_sums(dispatch)), total, 1e-6);
    // Per-GPU loads are stats' counts summed over each GPU's experts.
    const Matrix gpu_load = place["evaluation"]["gpu_load"].get<Matrix>();
    for (int l = 0; l < k_layers; ++l) {
        std::vector<double> expected(4, 0);
        const auto counts = stats_counts(l, "counts");
        for (int e = 0; e < k_experts; ++e) expected[placement[l][e]] += counts[e];
        EXPECT_EQ(gpu_load[l], expected);
    }
}

// A trace file with planted chains: token group g takes expert perm_l(g) at MoE layer l, so the
// placement that puts each chain on one GPU crosses nothing; contiguous crosses most transitions.
TEST(PlaceCliIntegration, FindsTheZeroCrossingPlacementOfPlantedChains) {
    TempDir tmp;
    const fs::path file = tmp.path() / "planted.h5";
    TraceMeta meta;
    meta.tool_version = "switchyard test";
    meta.model_type = "mixtral";
    meta.num_layers = 4;
    meta.top_k = 1;
    meta.dtype = "f32";
    meta.device = "cpu";
    meta.bos = "off";
    meta.created = "2025-01-01T00:00:00Z";
    meta.moe_layers = {0, 1, 2, 3};
    meta.num_experts = {8, 8, 8, 8};
    meta.token_strings = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const std::vector<std::vector<int16_t>> perm = {
        {0, 1, 2, 3, 4, 5, 6, 7}, {5, 2, 7, 0, 3, 6, 1, 4}, {3, 6, 0, 5, 7, 1, 4, 2}, {6, 0, 4, 1, 2, 7, 3, 5}};
    TraceWriter writer = TraceWriter::create(file, meta, false);
    std::mt19937 rng(7);
    const int n = 4000;
    TraceBatchData batch;
    batch.doc_domains = {"planted"};
    batch.doc_sources = {"planted:1"};
    batch.topk_ids.resize(4 * n);
    for (int t = 0; t < n; ++t) {
        const int group = static_cast<int>(rng() % 8);
        batch.ids.push_back(group);
        batch.doc.push_back(0);
        batch.pos.push_back(t);
        batch.nll.push_back(0);
        for (int l = 0; l < 4; ++l) batch.topk_ids[l * n + t] = perm[l][group];
    }
    batch.topk_weights.assign(4 * n, 1.0f);
    writer.append(batch);
    writer.close();

    const json place = run_json("place " + shell_quote(file) + " --gpus 4 --time-limit 5");
    EXPECT_EQ(place["cross_gpu_fraction"], 0.0);
    EXPECT_EQ(place["hops_per_token"], 0.0);
    EXPECT_GT(place["baseline_cross_gpu_fraction"].get<double>(), 0.5);
    const auto placement = place["placement"].get<std::vector<std::vector<int>>>();
    for (int l = 0; l + 1 < 4; ++l)
        for (int g = 0; g < 8; ++g) EXPECT_EQ(placement[l][perm[l][g]], placement[l + 1][perm[l + 1][g]]) << l << " " << g;
}

}  // namespace
