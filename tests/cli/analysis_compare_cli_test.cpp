// `switchyard compare` on real tiny-mixtral traces: a trace against itself agrees
// 100%; f32 against bf16 compute of the same tokens agrees mostly (tests/compute measures 99.37%
// identical top-k sets on longer text) and every agreement figure is recounted from the routing;
// --datasets deltas equal the difference of the two traces' `stats` fractions.
#include "analysis_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

TEST(CompareCliIntegration, TraceAgainstItselfAgreesCompletely) {
    TempDir tmp;
    const fs::path a = tmp.path() / "a.h5";
    trace_tiny_mixtral(short_corpus(tmp), a);
    const json r = run_json("compare " + shell_quote(a) + " " + shell_quote(a));
    EXPECT_EQ(r["tokens"], k_tokens);
    EXPECT_EQ(r["topk_overlap"], 1.0);
    EXPECT_EQ(r["first_choice_agreement"], 1.0);
    EXPECT_TRUE(r["most_changed"].empty());
    for (const json& layer : r["layers"]) {
        EXPECT_EQ(layer["topk_set_equal"], 1.0);
        EXPECT_EQ(layer["load_tv"], 0.0);
        EXPECT_EQ(layer["counts_a"], layer["counts_b"]);
    }
    const json d = run_json("compare --datasets " + shell_quote(a) + " " + shell_quote(a));
    for (const json& layer : d["loads"]) EXPECT_EQ(layer["tv"], 0.0);
    for (const json& pair : d["affinity"]) EXPECT_EQ(pair["conditional_tv"], 0.0);
}

TEST(CompareCliIntegration, F32AgainstBf16IsRecountedFromTheRouting) {
    TempDir tmp;
    const fs::path corpus = short_corpus(tmp), a = tmp.path() / "f32.h5", b = tmp.path() / "bf16.h5";
    trace_tiny_mixtral(corpus, a);
    trace_tiny_mixtral(corpus, b, " --dtype bf16");
    const TraceData da = read_trace(a), db = read_trace(b);
    ASSERT_EQ(da.ids, db.ids);
    const json r = run_json("compare " + shell_quote(a) + " " + shell_quote(b) + " --top 5");
    double overlap_mean = 0, first_mean = 0;
    int64_t changed_tokens = 0;
    std::vector<double> changed(static_cast<std::size_t>(da.n), 0);
    for (int l = 0; l < k_layers; ++l) {
        int64_t overlap = 0, same_set = 0, same_first = 0;
        for (int64_t t = 0; t < da.n; ++t) {
            int common = 0;
            for (int i = 0; i < k_top; ++i)
                for (int j = 0; j < k_top; ++j) common += da.topk[l][t * k_top + i] == db.topk[l][t * k_top + j];
            overlap += common;
            same_set += common == k_top;
            same_first += da.first(l, t) == db.first(l, t);
            changed[t] += 1.0 - double(common) / k_top;
        }
        const json& layer = r["layers"][l];
        EXPECT_NEAR(layer["topk_overlap"].get<double>(), double(overlap) / (k_top * da.n), 1e-12);
        EXPECT_NEAR(layer["topk_set_equal"].get<double>(), double(same_set) / da.n, 1e-12);
        EXPECT_NEAR(layer["first_choice_agreement"].get<double>(), double(same_first) / da.n, 1e-12);
        overlap_mean += double(overlap) / (k_top * da.n) / k_layers;
        first_mean += double(same_first) / da.n / k_layers;
    }
    for (double c : changed) changed_tokens += c > 0;
    EXPECT_NEAR(r["topk_overlap"].get<double>(), overlap_mean, 1e-12);
    EXPECT_NEAR(r["first_choice_agreement"].get<double>(), first_mean, 1e-12);
    // bf16 rounding flips a few near-tied routes, never most of them.
    EXPECT_GT(r["topk_overlap"].get<double>(), 0.95);
    EXPECT_LT(r["topk_overlap"].get<double>(), 1.0);
    ASSERT_EQ(r["most_changed"].size(), std::size_t(std::min<int64_t>(5, changed_tokens)));
    const double top_changed = *std::max_element(changed.begin(), changed.end()) / k_layers;
    EXPECT_NEAR(r["most_changed"][0]["changed"].get<double>(), top_changed, 1e-12);

    // --datasets: load deltas are the differences of the two traces' stats fractions.
    const json sa = run_json("stats " + shell_quote(a) + " --top-tokens 1");
    const json sb = run_json("stats " + shell_quote(b) + " --top-tokens 1");
    const json d = run_json("compare --datasets " + shell_quote(a) + " " + shell_quote(b));
    for (int l = 0; l < k_layers; ++l) {
        const auto fa = as_vector<double>(sa["layers"][l]["fractions"]), fb = as_vector<double>(sb["layers"][l]["fractions"]);
        const auto delta = as_vector<double>(d["loads"][l]["delta"]);
        double tv = 0;
        for (int e = 0; e < k_experts; ++e) {
            EXPECT_NEAR(delta[e], fb[e] - fa[e], 1e-12);
            tv += 0.5 * std::abs(fb[e] - fa[e]);
        }
        EXPECT_NEAR(d["loads"][l]["tv"].get<double>(), tv, 1e-12);
        EXPECT_NEAR(r["layers"][l]["load_tv"].get<double>(), tv, 1e-12);   // same figure in both modes
    }
}

}  // namespace
