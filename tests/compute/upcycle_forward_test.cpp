// Upcycled models run through the project's own forward pass (ModelRunner, f32): exact at
// initialisation where the plan says so (logits equal the dense model's, relative error
// <= 1e-5, for any router), the stated scale where it says not (checked against a dense model
// whose FFN output is scaled by that factor), the layer-input hook, and the `hidden` router.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "editing/upcycle_fixtures.h"
#include "runner_fixtures.h"
#include "switchyard/compute/layer_input_means.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

const Batch& batch() {
    static const Batch b = golden_batch(read_goldens(fixture_goldens("tiny-llama")));
    return b;
}

std::vector<float> logits(const fs::path& dir) {
    const Model model = open_model(dir);
    ModelRunner runner(model, RunnerOptions{});
    return runner.run(batch(), nullptr, true).logits;
}

// max |a - b| / max |a|
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        diff = std::max(diff, double(std::fabs(a[i] - b[i])));
        scale = std::max(scale, double(std::fabs(a[i])));
    }
    return diff / scale;
}

const std::vector<float>& dense_logits() {
    static const std::vector<float> l = logits(tiny_llama());
    return l;
}

struct ExactCase {
    const char* name;
    const char* family;
    UpcycleRouter router;
    int64_t experts, top_k;
    ExportDType dtype;
};

void PrintTo(const ExactCase& c, std::ostream* out) { *out << c.name; }

class UpcycleExact : public ::testing::TestWithParam<ExactCase> {};

TEST_P(UpcycleExact, LogitsEqualTheDenseModel) {
    const ExactCase& c = GetParam();
    TempDir tmp;
    UpcycleOptions o = upcycle_options(c.experts, c.top_k);
    o.family = c.family;
    o.router = c.router;
    o.router_std = 1.0;   // a strong random router: the choice of experts must not matter
    o.dtype = c.dtype;
    const UpcycleResult r = run_upcycle(tiny_llama(), o, tmp.path() / "moe");
    ASSERT_TRUE(r.exactness.exact) << r.exactness.output;
    const double error = relative_error(dense_logits(), logits(tmp.path() / "moe"));
    EXPECT_LE(error, 1e-5);
    std::printf("[ %s ] relative logit error %.3g\n", c.name, error);
}

INSTANTIATE_TEST_SUITE_P(
    Upcycle, UpcycleExact,
    ::testing::Values(ExactCase{"mixtral_random_8x2", "mixtral", UpcycleRouter::random, 8, 2, ExportDType::keep},
                      ExactCase{"mixtral_zero_4x2", "mixtral", UpcycleRouter::zero, 4, 2, ExportDType::keep},
                      ExactCase{"mixtral_random_8x8_f32", "mixtral", UpcycleRouter::random, 8, 8, ExportDType::f32},
                      ExactCase{"mixtral_random_1x1", "", UpcycleRouter::random, 1, 1, ExportDType::keep}),
    [](const ::testing::TestParamInfo<ExactCase>& info) { return std::string(info.param.name); });

// A dense model computing scale * FFN(x) in every layer: down_proj multiplied (in f32).
fs::path scaled_dense(const fs::path& dir, float scale) {
    write_dense_variant(dir, [scale](const std::string& name, std::vector<float>& v) {
        if (is_ffn_down(name)) for (float& x : v) x *= scale;
    }, DType::f32);
    return dir;
}

TEST(UpcycleNotExact, StatedScaleIsWhatTheModelComputes) {
    TempDir tmp;
    // Qwen2-MoE: renormalised routed copies (1) + the shared expert through sigmoid(0) (0.5).
    UpcycleOptions shared = upcycle_options(4, 2);
    shared.family = "qwen2_moe";
    const UpcycleResult a = run_upcycle(tiny_llama(), shared, tmp.path() / "shared");
    EXPECT_FALSE(a.exactness.exact);
    EXPECT_NE(a.exactness.output.find("1.5 FFN(x)"), std::string::npos) << a.exactness.output;
    EXPECT_LE(relative_error(logits(scaled_dense(tmp.path() / "x1.5", 1.5f)), logits(tmp.path() / "shared")), 1e-5);
    EXPECT_GT(relative_error(dense_logits(), logits(tmp.path() / "shared")), 1e-2);
    // Without renormalisation and with a zero router every expert gets 1/E: k/E = 2/8 of the
    // routed copies, plus 0.5 from the shared expert.
    UpcycleOptions unnormalised = shared;
    unnormalised.experts = 8;
    unnormalised.renormalize = false;
    unnormalised.router = UpcycleRouter::zero;
    const UpcycleResult b = run_upcycle(tiny_llama(), unnormalised, tmp.path() / "unnormalised");
    EXPECT_NE(b.exactness.output.find("k/E = 0.25"), std::string::npos) << b.exactness.output;
    EXPECT_LE(relative_error(logits(scaled_dense(tmp.path() / "x0.75", 0.75f)), logits(tmp.path() / "unnormalised")), 1e-5);
}

class LayerInputs final : public RoutingObserver {
public:
    void on_layer_routing(const LayerRouting&) override {}
    bool wants_layer_inputs() const override { return true; }
    void on_layer_input(int layer, const float* hidden, int64_t tokens, int64_t hidden_size) override {
        layers.push_back(layer);
        inputs.emplace_back(hidden, hidden + tokens * hidden_size);
    }
    std::vector<int> layers;
    std::vector<std::vector<float>> inputs;
};

TEST(LayerInputHook, EveryLayerOfADenseModelAndLayerZeroIsTheEmbedding) {
    const Model model = open_model(tiny_llama());
    ModelRunner runner(model, RunnerOptions{});
    LayerInputs observer;
    Batch b;
    b.sequences = {{5, 17, 300}, {42}};
    runner.run(b, &observer, false);
    EXPECT_EQ(observer.layers, (std::vector<int>{0, 1, 2, 3}));
    const auto embedding = tensor_f32(model.checkpoint, "model.embed_tokens.weight");
    const int64_t H = model.description.hidden_size;
    ASSERT_EQ(observer.inputs[0].size(), size_t(4 * H));
    const int32_t ids[] = {5, 17, 300, 42};
    for (int t = 0; t < 4; ++t)
        for (int64_t h = 0; h < H; ++h) EXPECT_EQ(observer.inputs[0][t * H + h], embedding[ids[t] * H + h]);
    EXPECT_NE(observer.inputs[1], observer.inputs[0]);
}

// Prompts as input_ids records (no tokenizer, no BOS), two per domain.
fs::path write_prompts(const fs::path& file) {
    std::ofstream out(file);
    out << R"({"domain": "0", "input_ids": [5, 17, 300]})" << "\n"
        << R"({"domain": "1", "input_ids": [900, 901]})" << "\n"
        << R"({"domain": "0", "input_ids": [42]})" << "\n"
        << R"({"domain": "other", "input_ids": [7, 8]})" << "\n"
        << R"({"domain": "1", "input_ids": [1000, 3, 4, 2000]})" << "\n";
    return file;
}

LayerInputMeans means_of(const Model& model, const fs::path& prompts, std::vector<std::string> domains, bool last) {
    LayerInputMeansOptions options;
    options.corpus.data = {prompts};
    options.domains = std::move(domains);
    options.last_token = last;
    NullProgress progress;
    CancelToken cancel;
    return mean_layer_inputs(model, options, progress, cancel);
}

TEST(LayerInputMeans, PoolsPerDomainAndNamesMissingDomains) {
    TempDir tmp;
    const fs::path prompts = write_prompts(tmp.path() / "prompts.jsonl");
    const Model model = open_model(tiny_llama());
    const auto mean = means_of(model, prompts, {"0", "1"}, false);
    EXPECT_EQ(mean.tokens, (std::vector<int64_t>{4, 6}));
    const auto embedding = tensor_f32(model.checkpoint, "model.embed_tokens.weight");
    const int64_t H = model.description.hidden_size;
    for (int64_t h = 0; h < H; ++h) {   // layer 0 = embeddings: mean of the rows of 5, 17, 300, 42
        const double expected = (double(embedding[5 * H + h]) + embedding[17 * H + h] + embedding[300 * H + h] +
                                 embedding[42 * H + h]) / 4;
        EXPECT_NEAR(mean.means[0][0][static_cast<std::size_t>(h)], expected, 1e-6);
    }
    const auto last = means_of(model, prompts, {"1"}, true);
    EXPECT_EQ(last.tokens, (std::vector<int64_t>{2}));   // 901 and 2000
    for (int64_t h = 0; h < H; ++h)
        EXPECT_NEAR(last.means[0][0][static_cast<std::size_t>(h)],
                    (double(embedding[901 * H + h]) + embedding[2000 * H + h]) / 2, 1e-6);
    try {
        means_of(model, prompts, {"0", "3"}, false);
        FAIL() << "expected UsageError";
    } catch (const UsageError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("no tokens for domain \"3\""), std::string::npos) << m;
        EXPECT_NE(m.find("0, 1, other"), std::string::npos) << m;
    }
}

TEST(UpcycleHiddenRouter, RowsAreNormalisedMeanLayerInputsOfThePrompts) {
    TempDir tmp;
    const fs::path prompts = write_prompts(tmp.path() / "prompts.jsonl");
    UpcycleOptions o = upcycle_options(2, 1);
    o.router = UpcycleRouter::hidden;
    o.prompts = prompts;
    o.dtype = ExportDType::f32;
    HiddenStateFn hidden = [](const Model& dense, const fs::path& file, const std::vector<std::string>& domains,
                              HiddenPool pool) { return means_of(dense, file, domains, pool == HiddenPool::last).means; };
    NullProgress progress;
    CancelToken cancel;
    const UpcycleResult r = upcycle(tiny_llama(), o, edit_output(tmp.path() / "moe"), hidden, progress, cancel);
    EXPECT_TRUE(r.exactness.exact);
    const Model dense = open_model(tiny_llama());
    const auto mean = means_of(dense, prompts, {"0", "1"}, false);
    const Checkpoint moe = Checkpoint::open(tmp.path() / "moe");
    const int64_t H = dense.description.hidden_size;
    for (int l = 0; l < dense.description.num_layers; ++l) {
        const auto router = tensor_f32(moe, tensor_name(find_family("mixtral"), TensorRole::router, l));
        for (int e = 0; e < 2; ++e) {
            double norm = 0;
            for (float v : mean.means[e][l]) norm += double(v) * v;
            norm = std::sqrt(norm);
            for (int64_t h = 0; h < H; ++h)
                EXPECT_NEAR(router[e * H + h], mean.means[e][l][h] / norm, 1e-6) << "layer " << l << " expert " << e;
        }
    }
    // A domain nobody wrote prompts for: one error naming it, nothing written.
    o.experts = 4;
    o.top_k = 2;
    EXPECT_THROW(upcycle(tiny_llama(), o, edit_output(tmp.path() / "four"), hidden, progress, cancel), UsageError);
    EXPECT_FALSE(fs::exists(tmp.path() / "four"));
}

}  // namespace
}  // namespace sy::test
