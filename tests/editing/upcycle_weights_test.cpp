// Upcycled weights read back from disk: copies are bit-exact, Drop-Upcycling re-initialises
// exactly floor(R*I) neurons per expert with the source's statistics, fine-grained experts
// partition the FFN, routers follow their init, several sources land where they should, and the
// folder carries config, tokenizer and provenance. Nothing is written on bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/tensor_names.h"
#include "upcycle_fixtures.h"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;

namespace {

constexpr int kLayers = 4;
constexpr int64_t kHidden = 128, kWidth = 512;

const FamilySpec& mixtral() { return find_family("mixtral"); }
const FamilySpec& llama_family() { return find_family("llama"); }

std::string expert_name(TensorRole role, int layer, int expert) { return tensor_name(mixtral(), role, layer, expert); }
std::string dense_name(TensorRole role, int layer) { return tensor_name(llama_family(), role, layer); }

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(read_text(file)); }

// Rows of a [rows, cols] f32 matrix.
std::vector<float> row(const std::vector<float>& m, int64_t cols, int64_t r) {
    return {m.begin() + r * cols, m.begin() + (r + 1) * cols};
}
std::vector<float> column(const std::vector<float>& m, int64_t rows, int64_t cols, int64_t c) {
    std::vector<float> out(static_cast<std::size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) out[static_cast<std::size_t>(r)] = m[static_cast<std::size_t>(r * cols + c)];
    return out;
}

class Upcycled : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path out = tmp.path() / "moe";
    Checkpoint dense = Checkpoint::open(tiny_llama());
};

TEST_F(Upcycled, CopiesAreBitExactAndTheFolderIsComplete) {
    const UpcycleResult r = run_upcycle(tiny_llama(), upcycle_options(4, 2), out);
    EXPECT_TRUE(r.exactness.exact);
    const Model moe = open_model(out);   // validates every tensor the mixtral row implies
    EXPECT_EQ(moe.description.model_type, "mixtral");
    EXPECT_EQ(moe.description.num_experts, std::vector<int64_t>(kLayers, 4));
    EXPECT_EQ(moe.description.top_k, 2);
    for (int l = 0; l < kLayers; ++l) {
        for (int e = 0; e < 4; ++e) {
            EXPECT_EQ(tensor_bytes(moe.checkpoint, expert_name(TensorRole::expert_gate, l, e)),
                      tensor_bytes(dense, dense_name(TensorRole::ffn_gate, l)));
            EXPECT_EQ(tensor_bytes(moe.checkpoint, expert_name(TensorRole::expert_up, l, e)),
                      tensor_bytes(dense, dense_name(TensorRole::ffn_up, l)));
            EXPECT_EQ(tensor_bytes(moe.checkpoint, expert_name(TensorRole::expert_down, l, e)),
                      tensor_bytes(dense, dense_name(TensorRole::ffn_down, l)));
        }
        for (TensorRole role : {TensorRole::attn_q, TensorRole::attn_k, TensorRole::attn_v, TensorRole::attn_o,
                                TensorRole::attn_norm, TensorRole::ffn_norm})
            EXPECT_EQ(tensor_bytes(moe.checkpoint, dense_name(role, l)), tensor_bytes(dense, dense_name(role, l)));
    }
    for (const char* name : {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"})
        EXPECT_EQ(tensor_bytes(moe.checkpoint, name), tensor_bytes(dense, name));
    EXPECT_EQ(moe.checkpoint.tensors().size(), 4u * (6 + 1 + 12) + 3);   // per layer: attention, norms, router, 4x3 experts
    EXPECT_TRUE(fs::exists(out / "tokenizer.json"));
    EXPECT_EQ(moe.checkpoint.file_metadata(0).at("format"), "pt");

    const auto config = read_json(out / "config.json"), source = read_json(tiny_llama() / "config.json");
    EXPECT_EQ(config["architectures"], nlohmann::json::array({"MixtralForCausalLM"}));
    EXPECT_EQ(config["num_local_experts"], 4);
    EXPECT_EQ(config["num_experts_per_tok"], 2);
    EXPECT_EQ(config["intermediate_size"], kWidth);
    for (const char* kept : {"rope_theta", "vocab_size", "head_dim", "rms_norm_eps", "bos_token_id", "torch_dtype"})
        EXPECT_EQ(config[kept], source[kept]) << kept;
}

TEST_F(Upcycled, ProvenanceRecordsSourceParametersAndSeed) {
    UpcycleOptions o = upcycle_options(4, 2);
    o.seed = 7;
    run_upcycle(tiny_llama(), o, out);
    const auto p = read_json(out / "switchyard-edit.json");
    EXPECT_EQ(p["format"], "switchyard-edit");
    EXPECT_EQ(p["format_version"], 1);
    EXPECT_EQ(p["tool_version"], std::string("switchyard ") + SWITCHYARD_VERSION);
    EXPECT_EQ(p["created"].get<std::string>().back(), 'Z');
    EXPECT_EQ(p["command_line"], "switchyard upcycle (test)");
    EXPECT_EQ(p["source"]["path"], fs::absolute(tiny_llama()).lexically_normal().string());
    Sha256 hash;
    hash.update(read_text(tiny_llama() / "config.json"));
    EXPECT_EQ(p["source"]["config_sha256"], hash.hex_digest());
    EXPECT_EQ(p["sources"], nlohmann::json::array());
    EXPECT_TRUE(p["expert_map"].is_null());
    ASSERT_EQ(p["edits"].size(), 1u);
    const auto& edit = p["edits"][0];
    EXPECT_EQ(edit["op"], "upcycle");
    EXPECT_EQ(edit["family"], "mixtral");
    EXPECT_EQ(edit["experts"], 4);
    EXPECT_EQ(edit["seed"], 7);
    EXPECT_EQ(edit["router"], "random");
    EXPECT_EQ(edit["exact"], true);
    // The edit entry is a valid recipe entry: it parses back to the resolved options.
    nlohmann::json recipe = edit;
    recipe.erase("exact"), recipe.erase("output_at_init");
    EXPECT_EQ(recipe.get<UpcycleOptions>().seed, 7u);
}

TEST_F(Upcycled, RandomRouterIsSeededNormalWithTheRequestedStd) {
    UpcycleOptions o = upcycle_options(8, 2);
    o.seed = 3;
    o.dtype = ExportDType::f32;
    run_upcycle(tiny_llama(), o, out);
    const Checkpoint moe = Checkpoint::open(out);
    double sum = 0, squares = 0;
    std::size_t n = 0;
    for (int l = 0; l < kLayers; ++l)
        for (float v : tensor_f32(moe, tensor_name(mixtral(), TensorRole::router, l))) sum += v, squares += v * v, ++n;
    const double mean = sum / double(n), std = std::sqrt(squares / double(n) - mean * mean);
    EXPECT_EQ(n, size_t(kLayers * 8 * kHidden));
    EXPECT_NEAR(mean, 0.0, 4 * 0.02 / std::sqrt(double(n)));
    EXPECT_NEAR(std, 0.02, 0.02 * 0.05);
    // Same seed, same bytes; another seed, other rows.
    TempDir again;
    run_upcycle(tiny_llama(), o, again.path() / "moe");
    const Checkpoint same = Checkpoint::open(again.path() / "moe");
    const std::string router0 = tensor_name(mixtral(), TensorRole::router, 0);
    EXPECT_EQ(tensor_bytes(same, router0), tensor_bytes(moe, router0));
    o.seed = 4;
    run_upcycle(tiny_llama(), o, again.path() / "other");
    EXPECT_NE(tensor_bytes(Checkpoint::open(again.path() / "other"), router0), tensor_bytes(moe, router0));
    EXPECT_NE(tensor_bytes(moe, tensor_name(mixtral(), TensorRole::router, 1)), tensor_bytes(moe, router0));
}

TEST_F(Upcycled, ZeroRouterAndF32Output) {
    UpcycleOptions o = upcycle_options(4, 1);
    o.router = UpcycleRouter::zero;
    o.dtype = ExportDType::f32;
    run_upcycle(tiny_llama(), o, out);
    const Checkpoint moe = Checkpoint::open(out);
    for (const TensorInfo& t : moe.tensors()) EXPECT_EQ(t.dtype, DType::f32) << t.name;
    for (float v : tensor_f32(moe, tensor_name(mixtral(), TensorRole::router, 2))) EXPECT_EQ(v, 0.0f);
    EXPECT_EQ(tensor_f32(moe, expert_name(TensorRole::expert_down, 3, 0)),
              tensor_f32(dense, dense_name(TensorRole::ffn_down, 3)));
    EXPECT_EQ(read_json(out / "config.json")["torch_dtype"], "float32");
}

// Drop-Upcycling: per expert exactly floor(R*I) neurons re-initialised, the same ones in gate and
// up rows and down columns, everything else bit-equal, new values with the source's mean/std.
void check_drop(const Checkpoint& moe, const Checkpoint& dense, double rate, int experts) {
    const auto expected = static_cast<std::size_t>(std::floor(rate * kWidth));
    std::set<std::vector<int64_t>> distinct_sets;
    for (int l = 0; l < kLayers; ++l) {
        const auto gate = tensor_f32(dense, dense_name(TensorRole::ffn_gate, l));
        const auto up = tensor_f32(dense, dense_name(TensorRole::ffn_up, l));
        const auto down = tensor_f32(dense, dense_name(TensorRole::ffn_down, l));
        for (int e = 0; e < experts; ++e) {
            const auto g = tensor_f32(moe, expert_name(TensorRole::expert_gate, l, e));
            const auto u = tensor_f32(moe, expert_name(TensorRole::expert_up, l, e));
            const auto d = tensor_f32(moe, expert_name(TensorRole::expert_down, l, e));
            std::vector<int64_t> changed;
            double new_sum = 0, new_sq = 0, old_sum = 0, old_sq = 0;
            for (int64_t i = 0; i < kWidth; ++i) {
                const bool g_changed = row(g, kHidden, i) != row(gate, kHidden, i);
                EXPECT_EQ(row(u, kHidden, i) != row(up, kHidden, i), g_changed)
                    << "layer " << l << " expert " << e << " neuron " << i;
                EXPECT_EQ(column(d, kHidden, kWidth, i) != column(down, kHidden, kWidth, i), g_changed);
                if (!g_changed) continue;
                changed.push_back(i);
                for (int64_t h = 0; h < kHidden; ++h) {
                    const auto at = static_cast<std::size_t>(i * kHidden + h);
                    const double n = g[at], o = gate[at];
                    new_sum += n, new_sq += n * n, old_sum += o, old_sq += o * o;
                }
            }
            ASSERT_EQ(changed.size(), expected) << "layer " << l << " expert " << e;
            distinct_sets.insert(changed);
            if (changed.empty()) continue;
            const double count = double(expected * kHidden);
            const double old_mean = old_sum / count, old_std = std::sqrt(old_sq / count - old_mean * old_mean);
            const double new_mean = new_sum / count, new_std = std::sqrt(new_sq / count - new_mean * new_mean);
            EXPECT_NEAR(new_mean, old_mean, 5 * old_std / std::sqrt(count)) << "layer " << l << " expert " << e;
            EXPECT_NEAR(new_std / old_std, 1.0, 0.05) << "layer " << l << " expert " << e;
        }
    }
    if (expected > 0 && expected < size_t(kWidth)) EXPECT_EQ(distinct_sets.size(), size_t(kLayers * experts));
}

TEST_F(Upcycled, DropUpcyclingReinitialisesExactlyFloorRTimesI) {
    for (double rate : {0.5, 0.1, 1.0}) {
        UpcycleOptions o = upcycle_options(4, 2);
        o.drop_rate = rate;
        o.seed = 11;
        const fs::path dir = tmp.path() / ("drop-" + std::to_string(rate));
        const UpcycleResult r = run_upcycle(tiny_llama(), o, dir);
        EXPECT_FALSE(r.exactness.exact);
        SCOPED_TRACE("R = " + std::to_string(rate));
        check_drop(Checkpoint::open(dir), dense, rate, 4);
    }
}

TEST_F(Upcycled, FineGrainedExpertsPartitionTheFfn) {
    UpcycleOptions o = upcycle_options(8, 2);
    o.granularity = 4;   // 2 copies of the FFN, each cut into 4 experts of 128 neurons
    run_upcycle(tiny_llama(), o, out);
    const Checkpoint moe = Checkpoint::open(out);
    EXPECT_EQ(read_json(out / "config.json")["intermediate_size"], kWidth / 4);
    for (int l = 0; l < kLayers; ++l) {
        const auto gate = tensor_f32(dense, dense_name(TensorRole::ffn_gate, l));
        const auto up = tensor_f32(dense, dense_name(TensorRole::ffn_up, l));
        const auto down = tensor_f32(dense, dense_name(TensorRole::ffn_down, l));
        std::map<std::vector<float>, int64_t> neuron_of_row;
        for (int64_t i = 0; i < kWidth; ++i) neuron_of_row[row(gate, kHidden, i)] = i;
        ASSERT_EQ(neuron_of_row.size(), size_t(kWidth)) << "gate rows must be distinct for this test";
        std::vector<std::vector<int64_t>> copies(2);
        for (int e = 0; e < 8; ++e) {
            const auto g = tensor_f32(moe, expert_name(TensorRole::expert_gate, l, e));
            const auto u = tensor_f32(moe, expert_name(TensorRole::expert_up, l, e));
            const auto d = tensor_f32(moe, expert_name(TensorRole::expert_down, l, e));
            ASSERT_EQ(g.size(), size_t(kWidth / 4 * kHidden));
            for (int64_t j = 0; j < kWidth / 4; ++j) {
                const auto it = neuron_of_row.find(row(g, kHidden, j));
                ASSERT_NE(it, neuron_of_row.end()) << "expert row is not a row of the FFN";
                EXPECT_EQ(row(u, kHidden, j), row(up, kHidden, it->second));   // same neuron in up ...
                EXPECT_EQ(column(d, kHidden, kWidth / 4, j), column(down, kHidden, kWidth, it->second));   // ... and down
                copies[static_cast<std::size_t>(e / 4)].push_back(it->second);
            }
        }
        for (auto& neurons : copies) {   // each copy's 4 experts hold every neuron exactly once
            std::sort(neurons.begin(), neurons.end());
            for (int64_t i = 0; i < kWidth; ++i) ASSERT_EQ(neurons[static_cast<std::size_t>(i)], i);
        }
    }
}

TEST_F(Upcycled, Qwen2MoeGetsASharedExpertZeroGateAndZeroBiases) {
    UpcycleOptions o = upcycle_options(4, 2);
    o.family = "qwen2_moe";
    run_upcycle(tiny_llama(), o, out);
    const Model moe = open_model(out);
    const FamilySpec& qwen = find_family("qwen2_moe");
    EXPECT_EQ(moe.description.shared_expert_intermediate_size, kWidth);
    EXPECT_TRUE(moe.description.norm_topk_prob);
    EXPECT_TRUE(moe.description.qkv_bias);
    for (int l = 0; l < kLayers; ++l) {
        EXPECT_EQ(tensor_bytes(moe.checkpoint, tensor_name(qwen, TensorRole::shared_down, l)),
                  tensor_bytes(dense, dense_name(TensorRole::ffn_down, l)));
        for (float v : tensor_f32(moe.checkpoint, tensor_name(qwen, TensorRole::shared_expert_gate, l))) EXPECT_EQ(v, 0.0f);
        for (float v : tensor_f32(moe.checkpoint, tensor_name(qwen, TensorRole::attn_k_bias, l))) EXPECT_EQ(v, 0.0f);
        EXPECT_EQ(tensor_bytes(moe.checkpoint, tensor_name(qwen, TensorRole::expert_up, l, 3)),
                  tensor_bytes(dense, dense_name(TensorRole::ffn_up, l)));
    }
    const auto config = read_json(out / "config.json");
    EXPECT_EQ(config["moe_intermediate_size"], kWidth);
    EXPECT_EQ(config["intermediate_size"], kWidth);
    EXPECT_EQ(config["decoder_sparse_step"], 1);
    EXPECT_EQ(config["mlp_only_layers"], nlohmann::json::array());
}

TEST_F(Upcycled, SeveralSourcesGiveExpertBlocksAndAveragedAttention) {
    // A second "fine-tune": every weight doubled (exact in bf16).
    const fs::path twice = tmp.path() / "twice";
    write_dense_variant(twice, [](const std::string&, std::vector<float>& v) { for (float& x : v) x *= 2; });
    UpcycleOptions o = upcycle_options(4, 2);
    o.sources = {twice};
    const UpcycleResult r = run_upcycle(tiny_llama(), o, out);
    EXPECT_FALSE(r.exactness.exact);
    const Checkpoint moe = Checkpoint::open(out), second = Checkpoint::open(twice);
    for (int l = 0; l < kLayers; ++l) {
        const std::string down = dense_name(TensorRole::ffn_down, l);
        EXPECT_EQ(tensor_bytes(moe, expert_name(TensorRole::expert_down, l, 1)), tensor_bytes(dense, down));
        EXPECT_EQ(tensor_bytes(moe, expert_name(TensorRole::expert_down, l, 2)), tensor_bytes(second, down));
        const auto q = tensor_f32(moe, dense_name(TensorRole::attn_q, l));
        const auto q1 = tensor_f32(dense, dense_name(TensorRole::attn_q, l));
        for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], bf16_bits_to_f32(f32_to_bf16_bits(1.5f * q1[i])));
    }
    const auto p = read_json(out / "switchyard-edit.json");
    ASSERT_EQ(p["sources"].size(), 1u);
    EXPECT_EQ(p["sources"][0]["path"], fs::absolute(twice).lexically_normal().string());

    o.non_experts = NonExpertSource::first;
    run_upcycle(tiny_llama(), o, tmp.path() / "first");
    const Checkpoint first = Checkpoint::open(tmp.path() / "first");
    EXPECT_EQ(tensor_bytes(first, dense_name(TensorRole::attn_o, 2)), tensor_bytes(dense, dense_name(TensorRole::attn_o, 2)));
    EXPECT_EQ(tensor_bytes(first, "lm_head.weight"), tensor_bytes(dense, "lm_head.weight"));
}

TEST_F(Upcycled, BadInputWritesNothing) {
    const auto leftovers = [&] {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(tmp.path())) names.push_back(entry.path().filename().string());
        return names;
    };
    UpcycleOptions o = upcycle_options(4, 8);
    EXPECT_THROW(run_upcycle(tiny_llama(), o, out), UsageError);
    o = upcycle_options(4, 2);
    o.family = "qwen3_moe";
    EXPECT_THROW(run_upcycle(tiny_llama(), o, out), UsageError);
    EXPECT_THROW(run_upcycle(examples_dir() / "tiny-mixtral", upcycle_options(4, 2), out), UsageError);
    o = upcycle_options(4, 2);
    o.router = UpcycleRouter::hidden;
    o.prompts = tmp.path() / "prompts.jsonl";
    EXPECT_THROW(run_upcycle(tiny_llama(), o, out), UsageError);   // no forward pass given
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
    // The output may not be inside the source.
    EXPECT_THROW(run_upcycle(tiny_llama(), upcycle_options(4, 2), tiny_llama() / "moe"), UsageError);
    EXPECT_FALSE(fs::exists(tiny_llama() / "moe"));
}

}  // namespace
