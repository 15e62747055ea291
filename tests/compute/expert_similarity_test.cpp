// run_expert_similarity on fixture models with a planted permuted copy of an expert:
// aligned weights and outputs give 1 for that pair while the stored weights do not;
// matrices are symmetric with a unit diagonal; both expert layouts; shared experts excluded;
// dense and out-of-range layers refused with the valid MoE layers named.
#include <gtest/gtest.h>

#include <cmath>

#include "planted_experts.h"
#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/errors.h"

namespace sy::test {
namespace {

struct PlantCase {
    std::string fixture;
    int layer, src, dst;
    int64_t shared_experts;
};

void PrintTo(const PlantCase& c, std::ostream* os) { *os << c.fixture << " layer " << c.layer; }

ExpertSimilarity similarity_of(const std::filesystem::path& model_dir, const std::filesystem::path& data, int layer,
                               int64_t max_tokens = 96) {
    const Model model = open_model(model_dir);
    SimilarityOptions options;
    options.corpus.data = {data};
    options.corpus.seq_len = 32;
    options.corpus.max_tokens = max_tokens;
    options.layer = layer;
    NullProgress progress;
    CancelToken cancel;
    return run_expert_similarity(model, options, progress, cancel);
}

double at(const std::vector<double>& m, int64_t n, int64_t i, int64_t j) {
    return m[static_cast<std::size_t>(i * n + j)];
}

void expect_symmetric_unit_diagonal(const std::vector<double>& m, int64_t n, const char* what) {
    ASSERT_EQ(m.size(), static_cast<std::size_t>(n * n)) << what;
    for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(at(m, n, i, i), 1.0, 1e-6) << what << " e" << i;
        for (int64_t j = 0; j < n; ++j) {
            EXPECT_NEAR(at(m, n, i, j), at(m, n, j, i), 1e-9) << what << " e" << i << " e" << j;
            EXPECT_LE(std::abs(at(m, n, i, j)), 1.0 + 1e-9) << what;
        }
    }
}

class ExpertSimilarityIntegration : public ::testing::TestWithParam<PlantCase> {};

TEST_P(ExpertSimilarityIntegration, PermutedCopyScoresOneAfterAlignment) {
    const PlantCase& c = GetParam();
    TempDir tmp;
    const Model original = open_model(fixture_model_dir(c.fixture));
    PlantedCopy plant{c.layer, c.src, c.dst, random_permutation(original.description.expert_intermediate_size, 42)};
    write_planted_model(fixture_model_dir(c.fixture), tmp.path(), plant);
    const auto data = write_random_ids(tmp.path(), original.description.vocab_size, 200);
    const ExpertSimilarity r = similarity_of(tmp.path(), data, c.layer);

    const int64_t n = original.description.experts_in_layer(c.layer);
    EXPECT_EQ(r.layer, c.layer);
    EXPECT_EQ(r.experts, n);
    EXPECT_EQ(r.shared_experts, c.shared_experts);
    EXPECT_EQ(r.tokens, 96);
    expect_symmetric_unit_diagonal(r.router, n, "router");
    expect_symmetric_unit_diagonal(r.weights_unaligned, n, "weights_unaligned");
    expect_symmetric_unit_diagonal(r.weights_aligned, n, "weights_aligned");
    expect_symmetric_unit_diagonal(r.outputs, n, "outputs");

    EXPECT_NEAR(at(r.weights_aligned, n, c.src, c.dst), 1.0, 1e-5);
    EXPECT_NEAR(at(r.outputs, n, c.src, c.dst), 1.0, 1e-5);
    EXPECT_LT(at(r.weights_unaligned, n, c.src, c.dst), 0.9);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            EXPECT_GE(at(r.weights_aligned, n, i, j), at(r.weights_unaligned, n, i, j) - 1e-9);
            const bool planted = (i == c.src && j == c.dst) || (i == c.dst && j == c.src);
            if (i != j && !planted) EXPECT_LT(at(r.weights_aligned, n, i, j), 0.999) << i << " " << j;
        }
    // The permutation that was found undoes the planted one.
    const int64_t inter = r.intermediate_size;
    const int lo = std::min(c.src, c.dst), hi = std::max(c.src, c.dst);
    for (int64_t k = 0; k < inter; ++k) {
        const int32_t m = r.aligned_permutation[static_cast<std::size_t>((lo * n + hi) * inter + k)];
        // lo == src: src neuron k sits at dst row m with plant.permutation[m] == k; else the inverse.
        if (lo == c.src) EXPECT_EQ(plant.permutation[static_cast<std::size_t>(m)], k);
        else EXPECT_EQ(plant.permutation[static_cast<std::size_t>(k)], m);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ExpertSimilarityIntegration,
    ::testing::Values(PlantCase{"tiny-mixtral", 1, 2, 5, 0},           // per-expert layout
                      PlantCase{"tiny-qwen3-moe-fused", 1, 3, 11, 0},  // transformers-v5 fused layout
                      PlantCase{"tiny-qwen2-moe", 2, 6, 1, 1},         // gated shared expert, dense layer 1
                      PlantCase{"tiny-deepseek-v3", 2, 0, 15, 1}),     // ungated shared expert, dense layer 0
    [](const auto& info) {
        std::string name = info.param.fixture;
        for (char& ch : name)
            if (ch == '-') ch = '_';
        return name;
    });

TEST(ExpertSimilarityLayoutIntegration, FusedAndPerExpertLayoutsAgree) {
    TempDir tmp;
    const auto data = write_random_ids(tmp.path(), 2048, 100);
    const ExpertSimilarity a = similarity_of(fixture_model_dir("tiny-qwen3-moe"), data, 0, 64);
    const ExpertSimilarity b = similarity_of(fixture_model_dir("tiny-qwen3-moe-fused"), data, 0, 64);
    ASSERT_EQ(a.weights_aligned.size(), b.weights_aligned.size());
    for (std::size_t i = 0; i < a.weights_aligned.size(); ++i) {
        EXPECT_NEAR(a.router[i], b.router[i], 1e-9);
        EXPECT_NEAR(a.weights_unaligned[i], b.weights_unaligned[i], 1e-9);
        EXPECT_NEAR(a.weights_aligned[i], b.weights_aligned[i], 1e-9);
        EXPECT_NEAR(a.outputs[i], b.outputs[i], 1e-5);
    }
}

void expect_usage_error(const ModelDescription& d, int layer, const std::string& fragment) {
    try {
        check_similarity_layer(d, layer);
        FAIL() << "expected UsageError for layer " << layer;
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("the MoE layers are 0, 2"), std::string::npos) << e.what();
    }
}

TEST(ExpertSimilarityLayers, DenseAndOutOfRangeLayersAreRefused) {
    const ModelDescription d = read_model_config(fixture_model_dir("tiny-qwen2-moe"));
    expect_usage_error(d, 1, "--layer 1 is a dense layer");
    expect_usage_error(d, 3, "--layer 3 is out of range: the model has 3 layers");
    expect_usage_error(d, -1, "out of range");
    EXPECT_NO_THROW(check_similarity_layer(d, 0));
    EXPECT_NO_THROW(check_similarity_layer(d, 2));
    const ModelDescription dense = read_model_config(fixture_model_dir("tiny-llama"));
    EXPECT_THROW(check_similarity_layer(dense, 0), UsageError);
}

}  // namespace
}  // namespace sy::test
