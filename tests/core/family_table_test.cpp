// The family table, config.json parsing and tensor naming, checked against every fixture model.
#include <gtest/gtest.h>

#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"
#include "test_safetensors_writer.h"

using namespace sy;
using namespace sy::test;

namespace {

// Values copied from each fixture's config.json (shared/data/models/*/config.json).
struct FixtureRow {
    const char* dir;
    const char* model_type;
    int num_layers;
    std::vector<int> moe_layers;
    int64_t experts;   // per MoE layer
    int64_t top_k;
    int64_t shared_experts;
    int64_t shared_width;
    ExpertLayout layout;
};

void PrintTo(const FixtureRow& row, std::ostream* out) { *out << row.dir; }

class FixtureModels : public ::testing::TestWithParam<FixtureRow> {};

TEST_P(FixtureModels, DescriptionMatchesConfig) {
    const FixtureRow& row = GetParam();
    const ModelDescription d = read_model_config(fixture_dir(row.dir) / "config.json");
    EXPECT_EQ(d.model_type, row.model_type);
    EXPECT_EQ(d.family->model_type, row.model_type);
    EXPECT_EQ(d.num_layers, row.num_layers);
    EXPECT_EQ(d.moe_layers, row.moe_layers);
    EXPECT_EQ(d.num_experts, std::vector<int64_t>(row.moe_layers.size(), row.experts));
    EXPECT_EQ(d.top_k, row.top_k);
    EXPECT_EQ(d.shared_expert_count, row.shared_experts);
    EXPECT_EQ(d.shared_expert_intermediate_size, row.shared_width);
}

TEST_P(FixtureModels, OpensValidatesAndDetectsLayout) {
    const FixtureRow& row = GetParam();
    const Model model = open_model(fixture_dir(row.dir));
    EXPECT_EQ(model.layout, row.layout);
}

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() > tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// Every tensor in a fixture is one the forward pass needs (or an FP8 block scale, or the MXFP4
// blocks + scales of one, or Qwen3-Next's unused `mtp.*`), and the summary counts exactly those
// elements (an MXFP4 weight: two per block byte).
TEST_P(FixtureModels, ExpectedTensorsAreExactlyTheFixtureTensors) {
    const Model model = open_model(fixture_dir(GetParam().dir));
    std::set<std::string> expected, found;
    int64_t numel = 0;
    for (const ExpectedTensor& t : expected_tensors(model.description, model.layout)) expected.insert(t.name);
    for (const TensorInfo& t : model.checkpoint.tensors()) {
        if (ends_with(t.name, "_scale_inv") || ends_with(t.name, "_scales") || t.name.rfind("mtp.", 0) == 0) continue;
        if (ends_with(t.name, "_blocks")) {
            found.insert(t.name.substr(0, t.name.size() - 7));
            numel += 2 * t.numel();
            continue;
        }
        found.insert(t.name);
        numel += t.numel();
    }
    EXPECT_EQ(expected, found);
    const ModelSummary summary = summarize(model);
    EXPECT_EQ(summary.params_total, numel);
    EXPECT_EQ(summary.tensor_count, static_cast<int64_t>(model.checkpoint.tensors().size()));
}

const auto kPer = ExpertLayout::per_expert;
INSTANTIATE_TEST_SUITE_P(
    AllFixtures, FixtureModels,
    ::testing::Values(FixtureRow{"tiny-mixtral", "mixtral", 4, {0, 1, 2, 3}, 8, 2, 0, 0, kPer},
                      FixtureRow{"tiny-llama", "llama", 4, {}, 0, 0, 0, 0, kPer},
                      FixtureRow{"tiny-qwen2-moe", "qwen2_moe", 3, {0, 2}, 8, 2, 1, 64, kPer},
                      FixtureRow{"tiny-qwen3-moe", "qwen3_moe", 3, {0, 1, 2}, 16, 4, 0, 0, kPer},
                      FixtureRow{"tiny-qwen3-moe-fused", "qwen3_moe", 3, {0, 1, 2}, 16, 4, 0, 0, ExpertLayout::fused},
                      FixtureRow{"tiny-olmoe", "olmoe", 2, {0, 1}, 16, 4, 0, 0, kPer},
                      FixtureRow{"tiny-deepseek-v3", "deepseek_v3", 3, {1, 2}, 16, 4, 1, 32, kPer},
                      FixtureRow{"tiny-deepseek-v3-fp8", "deepseek_v3", 3, {1, 2}, 16, 4, 1, 32, kPer},
                      FixtureRow{"tiny-glm4-moe", "glm4_moe", 3, {1, 2}, 16, 4, 2, 16, kPer},
                      FixtureRow{"tiny-minimax-m2", "minimax_m2", 2, {0, 1}, 16, 4, 0, 0, kPer},
                      FixtureRow{"tiny-gpt-oss", "gpt_oss", 2, {0, 1}, 8, 4, 0, 0, ExpertLayout::fused},
                      FixtureRow{"tiny-gpt-oss-bf16", "gpt_oss", 2, {0, 1}, 8, 4, 0, 0, ExpertLayout::fused},
                      FixtureRow{"tiny-qwen3-next", "qwen3_next", 3, {0, 1, 2}, 16, 4, 1, 16, kPer}),
    [](const ::testing::TestParamInfo<FixtureRow>& info) {
        std::string name = info.param.dir;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

TEST(FamilyTable, FusedAndPerExpertQwen3DescribeTheSameModel) {
    const Model a = open_model(fixture_dir("tiny-qwen3-moe"));
    const Model b = open_model(fixture_dir("tiny-qwen3-moe-fused"));
    const ModelDescription &x = a.description, &y = b.description;
    EXPECT_EQ(x.family, y.family);
    EXPECT_EQ(x.moe_layers, y.moe_layers);
    EXPECT_EQ(x.num_experts, y.num_experts);
    EXPECT_EQ(x.top_k, y.top_k);
    EXPECT_EQ(x.norm_topk_prob, y.norm_topk_prob);
    EXPECT_EQ(x.head_dim, y.head_dim);
    EXPECT_EQ(x.expert_intermediate_size, y.expert_intermediate_size);
    EXPECT_EQ(x.rope.theta, y.rope.theta);   // v4 rope_theta vs v5 rope_parameters
    EXPECT_EQ(x.rope.type, y.rope.type);
    EXPECT_EQ(summarize(a).params_total, summarize(b).params_total);
    EXPECT_EQ(summarize(a).params_active, summarize(b).params_active);
}

TEST(FamilyTable, FixtureFamilyDetails) {
    const ModelDescription qwen2 = read_model_config(fixture_dir("tiny-qwen2-moe"));
    EXPECT_TRUE(qwen2.qkv_bias);
    EXPECT_FALSE(qwen2.o_bias);
    EXPECT_FALSE(qwen2.norm_topk_prob);
    EXPECT_EQ(qwen2.dense_intermediate_size, 96);
    EXPECT_EQ(qwen2.family->shared_expert, SharedExpertKind::gated_sigmoid);

    const ModelDescription qwen3 = read_model_config(fixture_dir("tiny-qwen3-moe"));
    EXPECT_EQ(qwen3.head_dim, 32);   // explicit, != 64 / 4
    EXPECT_TRUE(qwen3.norm_topk_prob);
    EXPECT_EQ(qwen3.family->attention, AttentionKind::gqa_head_qk_norm);

    const ModelDescription mixtral = read_model_config(fixture_dir("tiny-mixtral"));
    EXPECT_TRUE(mixtral.norm_topk_prob);   // Mixtral always renormalises
    EXPECT_EQ(mixtral.family->router, RouterRule::softmax_topk_renorm);

    const ModelDescription llama = read_model_config(fixture_dir("tiny-llama"));
    EXPECT_FALSE(llama.family->is_moe());
    EXPECT_EQ(llama.dense_intermediate_size, 512);
    EXPECT_EQ(llama.num_kv_heads, 2);
}

TEST(FamilyTable, DeepseekV3RouterMlaRopeAndFp8) {
    const ModelDescription d = read_model_config(fixture_dir("tiny-deepseek-v3-fp8"));
    EXPECT_EQ(d.family->router, RouterRule::sigmoid_group_topk);
    EXPECT_EQ(d.scoring, ScoringFunc::sigmoid);
    EXPECT_EQ(d.topk_method, "noaux_tc");
    EXPECT_EQ(d.n_group, 4);
    EXPECT_EQ(d.topk_group, 2);
    EXPECT_TRUE(d.norm_topk_prob);
    EXPECT_DOUBLE_EQ(d.routed_scaling_factor, 2.5);
    EXPECT_EQ(d.dense_intermediate_size, 96);
    EXPECT_EQ(d.expert_intermediate_size, 32);
    ASSERT_TRUE(d.mla);
    EXPECT_EQ(d.mla->q_lora_rank, 32);
    EXPECT_EQ(d.mla->kv_lora_rank, 16);
    EXPECT_EQ(d.mla->qk_rope_head_dim, 8);
    EXPECT_EQ(d.rope.rotary_dim, 8);
    EXPECT_EQ(d.rope.pairing, RopePairing::interleaved);
    EXPECT_EQ(d.rope.type, "yarn");   // v4 "type" alias
    EXPECT_DOUBLE_EQ(d.rope.factor, 4.0);
    EXPECT_EQ(d.rope.original_max_position_embeddings, 64);
    EXPECT_EQ(d.rope.mscale_all_dim, 1.0);
    ASSERT_TRUE(d.fp8_block_size);
    EXPECT_EQ((*d.fp8_block_size)[0], 32);
    EXPECT_FALSE(read_model_config(fixture_dir("tiny-deepseek-v3")).fp8_block_size);
}

TEST(FamilyTable, UnknownModelTypeListsSupportedOnes) {
    try {
        find_family("gpt_neo");
        FAIL() << "no exception";
    } catch (const UnknownArchitecture& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("gpt_neo"), std::string::npos);
        for (std::string_view type : supported_model_types())
            EXPECT_NE(message.find(std::string(type)), std::string::npos) << type;
    }
    EXPECT_EQ(supported_model_types().size(), 13u);
}

TEST(FamilyTable, RowsAreConsistent) {
    for (const FamilySpec& spec : family_table()) {
        EXPECT_FALSE(spec.architectures.empty()) << spec.model_type;
        EXPECT_EQ(&find_family(spec.model_type), &spec);
        EXPECT_EQ(spec.is_moe(), !spec.expert_count_key.empty()) << spec.model_type;
        EXPECT_EQ(spec.is_moe(), spec.router != RouterRule::none) << spec.model_type;
        EXPECT_EQ(spec.has_shared_experts(), !spec.shared_width_key.empty()) << spec.model_type;
    }
    for (int r = 0; r < static_cast<int>(TensorRole::count_); ++r)
        EXPECT_FALSE(tensor_role_name(static_cast<TensorRole>(r)).empty()) << r;
}

// ---- tensor names ---------------------------------------------------------------------------

struct NameRow {
    const char* model_type;
    TensorRole role;
    int layer;
    int expert;
    ExpertLayout layout;
    const char* name;
};

void PrintTo(const NameRow& row, std::ostream* out) {
    *out << row.model_type << " " << tensor_role_name(row.role) << " " << expert_layout_name(row.layout);
}

class TensorNames : public ::testing::TestWithParam<NameRow> {};

TEST_P(TensorNames, FormatsAndParsesBack) {
    const NameRow& row = GetParam();
    const FamilySpec& spec = find_family(row.model_type);
    EXPECT_EQ(tensor_name(spec, row.role, row.layer, row.expert, row.layout), row.name);
    if (row.expert >= 0) {
        EXPECT_EQ(match_expert_index(spec, row.role, row.layer, row.name), row.expert);
    }
}

const auto kFused = ExpertLayout::fused;
using R = TensorRole;
INSTANTIATE_TEST_SUITE_P(
    AllRoles, TensorNames,
    ::testing::Values(
        NameRow{"qwen3_moe", R::token_embedding, -1, -1, kPer, "model.embed_tokens.weight"},
        NameRow{"qwen3_moe", R::final_norm, -1, -1, kFused, "model.norm.weight"},
        NameRow{"qwen3_moe", R::lm_head, -1, -1, kPer, "lm_head.weight"},
        NameRow{"qwen3_moe", R::attn_norm, 3, -1, kPer, "model.layers.3.input_layernorm.weight"},
        NameRow{"qwen3_moe", R::ffn_norm, 3, -1, kFused, "model.layers.3.post_attention_layernorm.weight"},
        NameRow{"qwen3_moe", R::attn_q, 3, -1, kPer, "model.layers.3.self_attn.q_proj.weight"},
        NameRow{"qwen3_moe", R::attn_k, 3, -1, kPer, "model.layers.3.self_attn.k_proj.weight"},
        NameRow{"qwen3_moe", R::attn_v, 3, -1, kFused, "model.layers.3.self_attn.v_proj.weight"},
        NameRow{"qwen3_moe", R::attn_o, 3, -1, kPer, "model.layers.3.self_attn.o_proj.weight"},
        NameRow{"qwen3_moe", R::attn_q_norm, 3, -1, kPer, "model.layers.3.self_attn.q_norm.weight"},
        NameRow{"qwen3_moe", R::attn_k_norm, 3, -1, kFused, "model.layers.3.self_attn.k_norm.weight"},
        NameRow{"qwen2_moe", R::attn_q_bias, 1, -1, kPer, "model.layers.1.self_attn.q_proj.bias"},
        NameRow{"qwen2_moe", R::attn_k_bias, 1, -1, kPer, "model.layers.1.self_attn.k_proj.bias"},
        NameRow{"qwen2_moe", R::attn_v_bias, 1, -1, kPer, "model.layers.1.self_attn.v_proj.bias"},
        NameRow{"llama", R::attn_o_bias, 1, -1, kPer, "model.layers.1.self_attn.o_proj.bias"},
        NameRow{"qwen3_moe", R::router, 3, -1, kPer, "model.layers.3.mlp.gate.weight"},
        NameRow{"qwen3_moe", R::router, 3, -1, kFused, "model.layers.3.mlp.gate.weight"},
        NameRow{"qwen3_moe", R::expert_gate, 3, 5, kPer, "model.layers.3.mlp.experts.5.gate_proj.weight"},
        NameRow{"qwen3_moe", R::expert_up, 3, 5, kPer, "model.layers.3.mlp.experts.5.up_proj.weight"},
        NameRow{"qwen3_moe", R::expert_down, 3, 5, kPer, "model.layers.3.mlp.experts.5.down_proj.weight"},
        NameRow{"qwen3_moe", R::expert_gate_up, 3, -1, kFused, "model.layers.3.mlp.experts.gate_up_proj"},
        NameRow{"qwen3_moe", R::expert_down, 3, -1, kFused, "model.layers.3.mlp.experts.down_proj"},
        NameRow{"qwen3_moe", R::ffn_gate, 0, -1, kPer, "model.layers.0.mlp.gate_proj.weight"},
        NameRow{"qwen3_moe", R::ffn_up, 0, -1, kPer, "model.layers.0.mlp.up_proj.weight"},
        NameRow{"qwen3_moe", R::ffn_down, 0, -1, kFused, "model.layers.0.mlp.down_proj.weight"},
        NameRow{"mixtral", R::router, 2, -1, kPer, "model.layers.2.block_sparse_moe.gate.weight"},
        NameRow{"mixtral", R::router, 2, -1, kFused, "model.layers.2.mlp.gate.weight"},
        NameRow{"mixtral", R::expert_gate, 2, 7, kPer, "model.layers.2.block_sparse_moe.experts.7.w1.weight"},
        NameRow{"mixtral", R::expert_up, 2, 7, kPer, "model.layers.2.block_sparse_moe.experts.7.w3.weight"},
        NameRow{"mixtral", R::expert_down, 2, 7, kPer, "model.layers.2.block_sparse_moe.experts.7.w2.weight"},
        NameRow{"mixtral", R::expert_gate_up, 2, -1, kFused, "model.layers.2.mlp.experts.gate_up_proj"},
        NameRow{"mixtral", R::expert_down, 2, -1, kFused, "model.layers.2.mlp.experts.down_proj"},
        NameRow{"qwen2_moe", R::shared_gate, 0, -1, kPer, "model.layers.0.mlp.shared_expert.gate_proj.weight"},
        NameRow{"qwen2_moe", R::shared_up, 0, -1, kFused, "model.layers.0.mlp.shared_expert.up_proj.weight"},
        NameRow{"qwen2_moe", R::shared_down, 0, -1, kPer, "model.layers.0.mlp.shared_expert.down_proj.weight"},
        NameRow{"qwen2_moe", R::shared_expert_gate, 0, -1, kPer, "model.layers.0.mlp.shared_expert_gate.weight"},
        NameRow{"deepseek_v3", R::shared_gate, 1, -1, kPer, "model.layers.1.mlp.shared_experts.gate_proj.weight"},
        NameRow{"deepseek_v3", R::shared_up, 1, -1, kFused, "model.layers.1.mlp.shared_experts.up_proj.weight"},
        NameRow{"deepseek_v3", R::shared_down, 1, -1, kPer, "model.layers.1.mlp.shared_experts.down_proj.weight"},
        NameRow{"deepseek_v3", R::router_score_bias, 1, -1, kPer, "model.layers.1.mlp.gate.e_score_correction_bias"},
        NameRow{"deepseek_v3", R::expert_down, 1, 15, kPer, "model.layers.1.mlp.experts.15.down_proj.weight"},
        NameRow{"deepseek_v3", R::expert_gate_up, 1, -1, kFused, "model.layers.1.mlp.experts.gate_up_proj"},
        NameRow{"deepseek_v2", R::attn_q, 0, -1, kPer, "model.layers.0.self_attn.q_proj.weight"},
        NameRow{"deepseek_v3", R::mla_q_a, 0, -1, kPer, "model.layers.0.self_attn.q_a_proj.weight"},
        NameRow{"deepseek_v3", R::mla_q_a_bias, 0, -1, kPer, "model.layers.0.self_attn.q_a_proj.bias"},
        NameRow{"deepseek_v3", R::mla_q_a_norm, 0, -1, kPer, "model.layers.0.self_attn.q_a_layernorm.weight"},
        NameRow{"deepseek_v3", R::mla_q_b, 0, -1, kPer, "model.layers.0.self_attn.q_b_proj.weight"},
        NameRow{"deepseek_v3", R::mla_kv_a, 0, -1, kPer, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"},
        NameRow{"deepseek_v3", R::mla_kv_a_bias, 0, -1, kPer, "model.layers.0.self_attn.kv_a_proj_with_mqa.bias"},
        NameRow{"deepseek_v3", R::mla_kv_a_norm, 0, -1, kFused, "model.layers.0.self_attn.kv_a_layernorm.weight"},
        NameRow{"deepseek_v3", R::mla_kv_b, 0, -1, kPer, "model.layers.0.self_attn.kv_b_proj.weight"},
        NameRow{"deepseek_v3", R::attn_o, 0, -1, kPer, "model.layers.0.self_attn.o_proj.weight"},
        NameRow{"olmoe", R::expert_gate, 15, 63, kPer, "model.layers.15.mlp.experts.63.gate_proj.weight"},
        NameRow{"mistral", R::ffn_up, 31, -1, kPer, "model.layers.31.mlp.up_proj.weight"},
        NameRow{"qwen2", R::attn_q_bias, 27, -1, kPer, "model.layers.27.self_attn.q_proj.bias"}));

TEST(TensorNamesMisuse, WrongIndicesOrLayoutThrow) {
    const FamilySpec& qwen = find_family("qwen3_moe");
    EXPECT_THROW(tensor_name(qwen, R::expert_gate, 0, 1, kFused), std::invalid_argument);   // fused has no gate
    EXPECT_THROW(tensor_name(qwen, R::expert_gate_up, 0, -1, kPer), std::invalid_argument);
    EXPECT_THROW(tensor_name(qwen, R::expert_down, 0, -1, kPer), std::invalid_argument);     // needs expert
    EXPECT_THROW(tensor_name(qwen, R::expert_down, 0, 3, kFused), std::invalid_argument);    // takes none
    EXPECT_THROW(tensor_name(qwen, R::attn_q, -1), std::invalid_argument);
    EXPECT_THROW(tensor_name(qwen, R::lm_head, 2), std::invalid_argument);
    EXPECT_THROW(tensor_name(qwen, R::shared_gate, 0), std::invalid_argument);   // no shared expert
    EXPECT_FALSE(has_tensor_role(qwen, R::mla_q_a));
    EXPECT_TRUE(role_is_per_expert(qwen, R::expert_up, kPer));
    EXPECT_FALSE(role_is_per_expert(qwen, R::expert_down, kFused));
    EXPECT_TRUE(role_is_per_layer(qwen, R::attn_q));
    EXPECT_TRUE(role_is_per_layer(qwen, R::expert_down, kFused));
    EXPECT_FALSE(role_is_per_layer(qwen, R::lm_head));
    EXPECT_FALSE(role_is_per_layer(qwen, R::shared_gate));   // no such tensor in the row
}

TEST(TensorNamesMisuse, MatchExpertIndexRejectsOtherNames) {
    const FamilySpec& qwen = find_family("qwen3_moe");
    EXPECT_FALSE(match_expert_index(qwen, R::expert_up, 1, "model.layers.1.mlp.experts.3.gate_proj.weight"));
    EXPECT_FALSE(match_expert_index(qwen, R::expert_up, 1, "model.layers.11.mlp.experts.3.up_proj.weight"));
    EXPECT_FALSE(match_expert_index(qwen, R::expert_up, 1, "model.layers.1.mlp.experts.x.up_proj.weight"));
    EXPECT_FALSE(match_expert_index(qwen, R::expert_up, 1, "model.layers.1.mlp.experts..up_proj.weight"));
    EXPECT_EQ(match_expert_index(qwen, R::expert_up, 1, "model.layers.1.mlp.experts.127.up_proj.weight"), 127);
    EXPECT_EQ(scale_inv_name("model.layers.1.mlp.experts.gate_up_proj"), "model.layers.1.mlp.experts.gate_up_proj_scale_inv");
}

// ---- config parsing beyond the fixtures -----------------------------------------------------

TEST(ModelConfig, V5RopeParametersWithYarn) {
    const std::string config = R"({"model_type": "deepseek_v3", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "vocab_size": 100, "rms_norm_eps": 1e-6, "kv_lora_rank": 16,
        "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "n_routed_experts": 8,
        "num_experts_per_tok": 2, "moe_intermediate_size": 32, "intermediate_size": 96,
        "first_k_dense_replace": 1, "n_group": 2, "topk_group": 1, "routed_scaling_factor": 2.5,
        "rope_theta": 1.0,
        "rope_parameters": {"rope_type": "yarn", "rope_theta": 50000.0, "factor": 40,
                            "original_max_position_embeddings": 4096, "beta_fast": 16,
                            "mscale": 0.707, "mscale_all_dim": 0.707}})";
    const ModelDescription d = parse_model_config(config, "config.json");
    EXPECT_DOUBLE_EQ(d.rope.theta, 50000.0);   // rope_parameters wins over top-level rope_theta
    EXPECT_EQ(d.rope.type, "yarn");
    EXPECT_DOUBLE_EQ(d.rope.factor, 40.0);
    EXPECT_EQ(d.rope.original_max_position_embeddings, 4096);
    EXPECT_DOUBLE_EQ(d.rope.beta_fast, 16.0);
    EXPECT_DOUBLE_EQ(d.rope.beta_slow, 1.0);   // HF default
    EXPECT_EQ(d.rope.mscale, 0.707);
    EXPECT_FALSE(d.mla->q_lora_rank);          // absent: plain q_proj
    EXPECT_EQ(d.shared_expert_count, 0);
    EXPECT_EQ(d.moe_layers, (std::vector<int>{1}));
}

TEST(ModelConfig, FamilyRopeThetaDefault) {
    const std::string base = R"({"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
        "vocab_size": 100, "rms_norm_eps": 1e-5, "intermediate_size": 32, "num_local_experts": 4,
        "num_experts_per_tok": 2, "model_type": )";
    EXPECT_DOUBLE_EQ(parse_model_config(base + "\"mixtral\"}", "c").rope.theta, 1e6);
    EXPECT_DOUBLE_EQ(parse_model_config(base + "\"llama\"}", "c").rope.theta, 10000.0);
}

TEST(ModelConfig, DeepseekV2GreedyIsOneGroup) {
    const std::string config = R"({"model_type": "deepseek_v2", "hidden_size": 64, "num_hidden_layers": 3,
        "num_attention_heads": 4, "vocab_size": 100, "rms_norm_eps": 1e-6, "kv_lora_rank": 16,
        "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "n_routed_experts": 8,
        "n_shared_experts": 2, "num_experts_per_tok": 3, "moe_intermediate_size": 32,
        "intermediate_size": 96, "first_k_dense_replace": 1, "moe_layer_freq": 1,
        "topk_method": "greedy", "n_group": 4, "topk_group": 2, "scoring_func": "softmax"})";
    const ModelDescription d = parse_model_config(config, "config.json");
    EXPECT_EQ(d.family->router, RouterRule::softmax_group_topk);
    EXPECT_EQ(d.n_group, 1);
    EXPECT_DOUBLE_EQ(d.routed_scaling_factor, 1.0);
    EXPECT_EQ(d.shared_expert_count, 2);
    EXPECT_EQ(d.shared_expert_intermediate_size, 64);
}

// Published figures: Mixtral-8x7B "12.9B active of 46.7B"; DeepSeek-V3 "37B active of 671B".
TEST(ModelSummary, ParamCountsMatchPublishedFigures) {
    const std::string mixtral = R"({"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8,
        "num_experts_per_tok": 2, "rope_theta": 1e6, "rms_norm_eps": 1e-5, "vocab_size": 32000})";
    const ParamCounts m = count_params(parse_model_config(mixtral, "config.json"));
    EXPECT_NEAR(m.total / 1e9, 46.7, 0.05);
    EXPECT_NEAR(m.active / 1e9, 12.9, 0.05);

    const std::string v3 = R"({"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61,
        "num_attention_heads": 128, "num_key_value_heads": 128, "vocab_size": 129280, "rms_norm_eps": 1e-6,
        "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
        "v_head_dim": 128, "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
        "moe_intermediate_size": 2048, "intermediate_size": 18432, "first_k_dense_replace": 3,
        "moe_layer_freq": 1, "n_group": 8, "topk_group": 4, "routed_scaling_factor": 2.5,
        "num_nextn_predict_layers": 1})";
    const ParamCounts d = count_params(parse_model_config(v3, "config.json"));
    EXPECT_NEAR(d.total / 1e9, 671, 1.0);
    EXPECT_NEAR(d.active / 1e9, 37.5, 0.6);
}

// DeepSeek quotes active parameters without the input embedding (V2-Lite "2.4B active of
// 15.7B", V3 "37B"); Mixtral's "12.9B" counts it. inspect prints both, labelled.
TEST(ModelSummary, ActiveParametersInBothConventions) {
    const std::string v2_lite = R"({"model_type": "deepseek_v2", "vocab_size": 102400, "hidden_size": 2048,
        "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": 27,
        "num_attention_heads": 16, "num_key_value_heads": 16, "n_shared_experts": 2, "n_routed_experts": 64,
        "routed_scaling_factor": 1.0, "kv_lora_rank": 512, "q_lora_rank": null, "qk_rope_head_dim": 64,
        "v_head_dim": 128, "qk_nope_head_dim": 128, "topk_method": "greedy", "n_group": 1, "topk_group": 1,
        "num_experts_per_tok": 6, "moe_layer_freq": 1, "first_k_dense_replace": 1, "norm_topk_prob": false,
        "scoring_func": "softmax", "rms_norm_eps": 1e-6, "tie_word_embeddings": false})";
    const ParamCounts lite = count_params(parse_model_config(v2_lite, "config.json"));
    EXPECT_NEAR(lite.total / 1e9, 15.7, 0.05);
    EXPECT_GE(lite.active_without_embedding / 1e9, 2.4);   // 2.45B: DeepSeek writes "2.4B"
    EXPECT_LT(lite.active_without_embedding / 1e9, 2.5);
    EXPECT_GT(lite.active / 1e9, 2.6);                       // 2.66B with the embedding
    EXPECT_EQ(lite.active - lite.active_without_embedding, 102400 * 2048);

    const std::string v3 = R"({"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61,
        "num_attention_heads": 128, "num_key_value_heads": 128, "vocab_size": 129280, "rms_norm_eps": 1e-6,
        "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
        "v_head_dim": 128, "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
        "moe_intermediate_size": 2048, "intermediate_size": 18432, "first_k_dense_replace": 3,
        "moe_layer_freq": 1, "n_group": 8, "topk_group": 4, "routed_scaling_factor": 2.5})";
    const ParamCounts d = count_params(parse_model_config(v3, "config.json"));
    EXPECT_NEAR(d.active_without_embedding / 1e9, 37.0, 0.5);   // 36.6B
    EXPECT_EQ(d.active - d.active_without_embedding, int64_t(129280) * 7168);

    // Tied embeddings: the one matrix also does the lm_head's work, so both conventions agree.
    const std::string tied = R"({"model_type": "qwen3_moe", "hidden_size": 64, "intermediate_size": 128,
        "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "num_experts": 8, "num_experts_per_tok": 2, "vocab_size": 1000, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": true})";
    const ParamCounts t = count_params(parse_model_config(tied, "config.json"));
    EXPECT_EQ(t.active, t.active_without_embedding);
}

// transformers' deepseek_v2 (DeepseekV2Moe.route_tokens_to_experts) scales the top-k softmax
// weights by routed_scaling_factor and never renormalises, whatever norm_topk_prob says.
TEST(ModelConfig, DeepseekV2NeverRenormalisesWhateverNormTopkProbSays) {
    for (const char* norm : {"true", "false"}) {
        const std::string config = std::string(R"({"model_type": "deepseek_v2", "hidden_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "rms_norm_eps": 1e-6,
            "kv_lora_rank": 16, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16,
            "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
            "intermediate_size": 96, "first_k_dense_replace": 1, "routed_scaling_factor": 16.0,
            "norm_topk_prob": )") + norm + "}";
        const ModelDescription d = parse_model_config(config, "config.json");
        EXPECT_FALSE(d.norm_topk_prob) << norm;
        EXPECT_DOUBLE_EQ(d.routed_scaling_factor, 16.0) << norm;
    }
}

}  // namespace
