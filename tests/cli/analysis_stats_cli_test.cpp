// `switchyard stats` on a real tiny-mixtral trace: every number the verb prints
// in --json is recounted here from the raw routing (core's TraceReader) or checked against an
// invariant: counts sum to k*T, fractions to 1, domain rows to k, the balance loss equals
// E * sum f P from the stored logits, top-token lifts follow from their counts.
#include <map>

#include "analysis_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class StatsCliIntegration : public ::testing::Test {
protected:
    void SetUp() override {
        trace_file = tmp.path() / "trace.h5";
        trace_tiny_mixtral(short_corpus(tmp), trace_file);
        data = read_trace(trace_file);
        stats = run_json("stats " + shell_quote(trace_file) + " --window 1000 --top-tokens 5");
    }
    TempDir tmp;
    fs::path trace_file;
    TraceData data;
    json stats;
};

TEST_F(StatsCliIntegration, CountsAndFractionsMatchTheRawRouting) {
    ASSERT_EQ(data.n, k_tokens);
    EXPECT_EQ(stats["tokens"], k_tokens);
    EXPECT_EQ(stats["top_k"], k_top);
    ASSERT_EQ(stats["layers"].size(), std::size_t(k_layers));
    for (int l = 0; l < k_layers; ++l) {
        const json& layer = stats["layers"][l];
        std::vector<int64_t> counts(k_experts, 0), first(k_experts, 0);
        for (int64_t t = 0; t < data.n; ++t) {
            for (int j = 0; j < k_top; ++j) ++counts[data.topk[l][t * k_top + j]];
            ++first[data.first(l, t)];
        }
        EXPECT_EQ(as_vector<int64_t>(layer["counts"]), counts) << l;
        EXPECT_EQ(as_vector<int64_t>(layer["first_choice_counts"]), first) << l;
        const auto fractions = as_vector<double>(layer["fractions"]);
        EXPECT_NEAR(sum_of(fractions), 1.0, 1e-12);
        const int64_t max_count = *std::max_element(counts.begin(), counts.end());
        const double mean = double(k_top * k_tokens) / k_experts;
        EXPECT_NEAR(layer["max_over_mean"].get<double>(), max_count / mean, 1e-12);
        EXPECT_NEAR(layer["max_vio"].get<double>(), max_count / mean - 1, 1e-12);
        double entropy = 0;
        for (double f : fractions) entropy -= f > 0 ? f * std::log2(f) : 0;
        EXPECT_NEAR(layer["load_entropy_bits"].get<double>(), entropy, 1e-9);
        // A trained router is neither uniform nor collapsed on this corpus.
        EXPECT_GT(layer["load_entropy_normalized"].get<double>(), 0.8);
        EXPECT_LT(layer["load_entropy_normalized"].get<double>(), 1.0);
    }
}

// LBL = E * sum_e f_e P_e with P the mean softmax of the stored float16 logits, globally and per
// 1000-token window (3 windows of 3000 tokens).
TEST_F(StatsCliIntegration, BalanceLossAndRouterEntropyFollowFromTheLogits) {
    ASSERT_TRUE(stats["router_logits"].get<bool>());
    for (int l = 0; l < k_layers; ++l) {
        const json& router = stats["layers"][l]["router"];
        std::vector<double> prob_sum(k_experts, 0), window_probs(k_experts, 0), window_counts(k_experts, 0);
        std::vector<double> counts(k_experts, 0), windows;
        double mass = 0;
        for (int64_t t = 0; t < data.n; ++t) {
            const float* row = &data.logits[l][t * k_experts];
            const double top = *std::max_element(row, row + k_experts);
            double z = 0;
            for (int e = 0; e < k_experts; ++e) z += std::exp(row[e] - top);
            for (int e = 0; e < k_experts; ++e) {
                const double p = std::exp(row[e] - top) / z;
                prob_sum[e] += p;
                window_probs[e] += p;
            }
            for (int j = 0; j < k_top; ++j) {
                const int e = data.topk[l][t * k_top + j];
                ++counts[e];
                ++window_counts[e];
                mass += std::exp(row[e] - top) / z;
            }
            if ((t + 1) % 1000 == 0) {
                double lbl = 0;
                for (int e = 0; e < k_experts; ++e) lbl += window_counts[e] / (k_top * 1000.0) * window_probs[e] / 1000.0;
                windows.push_back(k_experts * lbl);
                std::fill(window_probs.begin(), window_probs.end(), 0);
                std::fill(window_counts.begin(), window_counts.end(), 0);
            }
        }
        double lbl = 0;
        for (int e = 0; e < k_experts; ++e) lbl += counts[e] / (k_top * double(data.n)) * prob_sum[e] / double(data.n);
        EXPECT_NEAR(router["lbl_global"].get<double>(), k_experts * lbl, 1e-9) << l;
        const auto got_windows = as_vector<double>(router["lbl_windows"]);
        ASSERT_EQ(got_windows.size(), 3u);
        for (int w = 0; w < 3; ++w) EXPECT_NEAR(got_windows[w], windows[w], 1e-9) << l << " " << w;
        EXPECT_NEAR(router["lbl_micro_mean"].get<double>(), sum_of(windows) / 3, 1e-9);
        EXPECT_GE(router["lbl_global"].get<double>(), 1.0);   // E sum f P >= 1 only when f and P align
        EXPECT_NEAR(router["topk_score_mass"].get<double>(), mass / double(data.n), 1e-9);
        EXPECT_NEAR(sum_of(as_vector<double>(router["mean_probs"])), 1.0, 1e-9);
    }
}

TEST_F(StatsCliIntegration, DomainMatrixRecountsPerDomain) {
    const json& domains = stats["domains"];
    const auto names = as_vector<std::string>(domains["names"]);
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<std::string>{"c", "english", "json", "python"}));
    const auto tokens = as_vector<int64_t>(domains["tokens"]);
    EXPECT_EQ(std::accumulate(tokens.begin(), tokens.end(), int64_t(0)), data.n);
    EXPECT_EQ(domains["unlabelled_tokens"], 0);
    std::map<std::string, int> index;
    for (std::size_t d = 0; d < names.size(); ++d) index[names[d]] = int(d);
    for (int l = 0; l < k_layers; ++l) {
        std::vector<std::vector<int64_t>> counts(names.size(), std::vector<int64_t>(k_experts, 0));
        for (int64_t t = 0; t < data.n; ++t)
            for (int j = 0; j < k_top; ++j) ++counts[index.at(data.domains[data.doc[t]])][data.topk[l][t * k_top + j]];
        const json& layer = domains["layers"][l];
        EXPECT_EQ(layer["counts"].get<std::vector<std::vector<int64_t>>>(), counts) << l;
        for (std::size_t d = 0; d < names.size(); ++d) {
            EXPECT_NEAR(sum_of(as_vector<double>(layer["frequency"][d])), k_top, 1e-9);   // rows sum to k
            const double spec = layer["specialisation"][d];
            EXPECT_GT(spec, 0.0);
            EXPECT_LE(spec, 1.0);
        }
    }
}

TEST_F(StatsCliIntegration, RepetitionAndTopTokensRecount) {
    for (int l = 0; l < k_layers; ++l) {
        int64_t pairs = 0, same_first = 0, any_shared = 0;
        for (int64_t t = 1; t < data.n; ++t) {
            if (data.doc[t] != data.doc[t - 1] || data.pos[t] != data.pos[t - 1] + 1) continue;
            ++pairs;
            same_first += data.first(l, t) == data.first(l, t - 1);
            bool shared = false;
            for (int a = 0; a < k_top; ++a)
                for (int b = 0; b < k_top; ++b) shared |= data.topk[l][t * k_top + a] == data.topk[l][(t - 1) * k_top + b];
            any_shared += shared;
        }
        const json& rep = stats["layers"][l]["repetition"];
        EXPECT_EQ(rep["pairs"], pairs);
        EXPECT_EQ(rep["same_first"], same_first);
        EXPECT_EQ(rep["any_shared"], any_shared);
        EXPECT_DOUBLE_EQ(rep["baseline_same_first"].get<double>(), 1.0 / k_experts);
        EXPECT_NEAR(rep["baseline_any_shared"].get<double>(), 1.0 - 15.0 / 28.0, 1e-12);   // 1 - C(6,2)/C(8,2)
    }
    // Top tokens of layer 0: count and occurrences recounted, lift = (c/n_v) / (c_e/T).
    const json& layer = stats["top_tokens"]["layers"][0];
    std::vector<int64_t> expert_counts(k_experts, 0);
    for (int64_t t = 0; t < data.n; ++t)
        for (int j = 0; j < k_top; ++j) ++expert_counts[data.topk[0][t * k_top + j]];
    for (int e = 0; e < k_experts; ++e) {
        const json& top = layer["experts"][e];
        ASSERT_EQ(top.size(), 5u);
        for (const json& tok : top) {
            int64_t count = 0, occurrences = 0;
            for (int64_t t = 0; t < data.n; ++t) {
                if (data.ids[t] != tok["id"].get<int32_t>()) continue;
                ++occurrences;
                for (int j = 0; j < k_top; ++j) count += data.topk[0][t * k_top + j] == e;
            }
            EXPECT_EQ(tok["count"], count);
            EXPECT_EQ(tok["occurrences"], occurrences);
            EXPECT_NEAR(tok["lift"].get<double>(), (double(count) / occurrences) / (double(expert_counts[e]) / data.n), 1e-9);
        }
        EXPECT_GE(top[0]["count"].get<int64_t>(), top[4]["count"].get<int64_t>());   // by count descending
    }
}

// The text summary has one row per MoE layer and the headline numbers of the JSON.
TEST_F(StatsCliIntegration, SummaryShowsEveryLayer) {
    const CliResult r = run_cli("stats " + shell_quote(trace_file) + " -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("3000 tokens, 4 MoE layers, top-2"), std::string::npos) << r.out;
    for (const char* domain : {"c ", "english", "json", "python"}) EXPECT_NE(r.out.find(domain), std::string::npos);
}

// Numbers of a text-view row after its label: "c  10.5= 13.3+ ..." -> {10.5, 13.3, ...}.
std::vector<double> row_numbers(const std::string& line, std::size_t skip, int count) {
    std::vector<double> values;
    std::istringstream in(line.substr(skip));
    for (int i = 0; i < count; ++i) {
        double v = 0;
        in >> v;
        values.push_back(v);
        in.ignore(1);   // the shade character
    }
    return values;
}

// `--show domains` (Mixtral's figure, docs/analysis.md): per layer, each domain row is that
// domain's share of routing slots per expert, summing to 100% and equal to the JSON frequency / k.
TEST_F(StatsCliIntegration, DomainViewRowsAreSharesOfTheDomainsSlots) {
    const CliResult r = run_cli("stats " + shell_quote(trace_file) + " --show domains -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto names = as_vector<std::string>(stats["domains"]["names"]);
    std::istringstream lines(r.out);
    std::string line;
    int layer = -1, rows = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("layer ", 0) == 0) layer = std::stoi(line.substr(6));
        for (std::size_t d = 0; d < names.size(); ++d) {
            if (layer < 0 || line.rfind(names[d] + " ", 0) != 0) continue;
            const auto shares = row_numbers(line, 14, k_experts);
            EXPECT_NEAR(sum_of(shares), 100.0, 0.5) << line;
            const auto frequency = as_vector<double>(stats["domains"]["layers"][layer]["frequency"][d]);
            for (int e = 0; e < k_experts; ++e) EXPECT_NEAR(shares[e], 100 * frequency[e] / k_top, 0.051) << line;
            ++rows;
        }
    }
    EXPECT_EQ(rows, k_layers * static_cast<int>(names.size()));
}

// `--heatmap` (ExFlow's figure): one 8x8 block per layer pair whose rows are the conditional
// probabilities in percent.
TEST_F(StatsCliIntegration, AffinityHeatmapRowsAreTheConditionalMatrix) {
    const CliResult r = run_cli("affinity " + shell_quote(trace_file) + " --heatmap -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json aff = run_json("affinity " + shell_quote(trace_file));
    std::istringstream lines(r.out);
    std::string line;
    int pair = -1, rows = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("layer ", 0) == 0 && line.find("->") != std::string::npos) ++pair;
        if (pair < 0 || line.size() < 15 || line[0] != 'e' || !std::isdigit(static_cast<unsigned char>(line[1]))) continue;
        const int from = std::stoi(line.substr(1));
        const auto percent = row_numbers(line, 14, k_experts);
        const auto conditional = as_vector<double>(aff["pairs"][pair]["conditional"][from]);
        for (int e = 0; e < k_experts; ++e) EXPECT_NEAR(percent[e], 100 * conditional[e], 0.51) << line;
        ++rows;
    }
    EXPECT_EQ(rows, (k_layers - 1) * k_experts);
}

}  // namespace
