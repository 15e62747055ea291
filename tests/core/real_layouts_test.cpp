// The new families on the layouts of their published checkpoints: real config.json values,
// tensor names, shapes and dtypes, shard naming, written as header-only sparse files
// (sparse_checkpoint.h). Layer counts are cut where the full tensor list (up to ~140k names)
// would only slow the suite down; the parameter counts are checked on the full configs against
// the figures the model cards publish.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sparse_checkpoint.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "test_paths.h"

using namespace sy;
using namespace sy::test;
using nlohmann::json;

namespace {

using Shape = std::vector<int64_t>;

class Decls {
public:
    void add(const std::string& name, DType dtype, Shape shape) { m_decls.push_back({name, dtype, std::move(shape)}); }
    // An F8_E4M3 weight with its 128 x 128 F32 `weight_scale_inv` (DeepSeek / MiniMax FP8).
    void fp8(const std::string& name, int64_t rows, int64_t cols) {
        add(name, DType::f8_e4m3, {rows, cols});
        add(name + "_scale_inv", DType::f32, {(rows + 127) / 128, (cols + 127) / 128});
    }
    const std::vector<TensorDecl>& all() const { return m_decls; }

private:
    std::vector<TensorDecl> m_decls;
};

std::string layer(int l) { return "model.layers." + std::to_string(l) + "."; }

// Norms and q/k/v/o of one GQA layer in `dtype`; biases on q/k/v, and on o when `o_bias`.
void add_gqa_layer(Decls& d, const std::string& p, int64_t h, int64_t q, int64_t kv, DType norm, bool bias, bool o_bias) {
    d.add(p + "input_layernorm.weight", norm, {h});
    d.add(p + "post_attention_layernorm.weight", norm, {h});
    for (const auto& [proj, rows] : {std::pair<const char*, int64_t>{"q", q}, {"k", kv}, {"v", kv}}) {
        d.add(p + "self_attn." + proj + "_proj.weight", DType::bf16, {rows, h});
        if (bias) d.add(p + "self_attn." + proj + "_proj.bias", DType::bf16, {rows});
    }
    d.add(p + "self_attn.o_proj.weight", DType::bf16, {h, q});
    if (o_bias) d.add(p + "self_attn.o_proj.bias", DType::bf16, {h});
}

void write_config(const std::filesystem::path& dir, const json& config) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << config.dump(2);
}

// ---- gpt-oss ---------------------------------------------------------------------------------

// openai/gpt-oss-20b config.json (formats.md §6.1; layer_types as the Hub file writes them).
json gpt_oss_config(int layers, int experts) {
    json types = json::array();
    for (int l = 0; l < layers; ++l) types.push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
    return {{"architectures", {"GptOssForCausalLM"}}, {"model_type", "gpt_oss"}, {"attention_bias", true},
            {"attention_dropout", 0.0}, {"eos_token_id", 200002}, {"experts_per_token", 4}, {"head_dim", 64},
            {"hidden_act", "silu"}, {"hidden_size", 2880}, {"initial_context_length", 4096},
            {"initializer_range", 0.02}, {"intermediate_size", 2880}, {"layer_types", types},
            {"max_position_embeddings", 131072}, {"num_attention_heads", 64}, {"num_experts_per_tok", 4},
            {"num_hidden_layers", layers}, {"num_key_value_heads", 8}, {"num_local_experts", experts},
            {"output_router_logits", false}, {"pad_token_id", 199999}, {"rms_norm_eps", 1e-05},
            {"rope_scaling", {{"beta_fast", 32.0}, {"beta_slow", 1.0}, {"factor", 32.0},
                              {"original_max_position_embeddings", 4096}, {"rope_type", "yarn"}, {"truncate", false}}},
            {"rope_theta", 150000}, {"router_aux_loss_coef", 0.9}, {"sliding_window", 128}, {"swiglu_limit", 7.0},
            {"tie_word_embeddings", false}, {"transformers_version", "4.55.0.dev0"}, {"use_cache", true},
            {"vocab_size", 201088},
            {"quantization_config", {{"modules_to_not_convert", {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                                 "model.embed_tokens", "lm_head"}},
                                     {"quant_method", "mxfp4"}}}};
}

// Names, shapes and dtypes of the MXFP4 release (formats.md §6.2, transformers' converter).
std::vector<TensorDecl> gpt_oss_tensors(int layers, int64_t experts) {
    const int64_t h = 2880, i = 2880, q = 64 * 64, kv = 8 * 64, vocab = 201088;
    Decls d;
    d.add("model.embed_tokens.weight", DType::bf16, {vocab, h});
    for (int l = 0; l < layers; ++l) {
        const std::string p = layer(l);
        add_gqa_layer(d, p, h, q, kv, DType::f32, true, true);
        d.add(p + "self_attn.sinks", DType::bf16, {64});
        d.add(p + "mlp.router.weight", DType::bf16, {experts, h});
        d.add(p + "mlp.router.bias", DType::bf16, {experts});
        d.add(p + "mlp.experts.gate_up_proj_blocks", DType::u8, {experts, 2 * i, h / 32, 16});
        d.add(p + "mlp.experts.gate_up_proj_scales", DType::u8, {experts, 2 * i, h / 32});
        d.add(p + "mlp.experts.gate_up_proj_bias", DType::bf16, {experts, 2 * i});
        d.add(p + "mlp.experts.down_proj_blocks", DType::u8, {experts, h, i / 32, 16});
        d.add(p + "mlp.experts.down_proj_scales", DType::u8, {experts, h, i / 32});
        d.add(p + "mlp.experts.down_proj_bias", DType::bf16, {experts, h});
    }
    d.add("model.norm.weight", DType::f32, {h});
    d.add("lm_head.weight", DType::bf16, {vocab, h});
    return d.all();
}

TEST(RealLayouts, GptOss20bMxfp4Release) {
    TempDir tmp;
    write_config(tmp.path(), gpt_oss_config(24, 32));
    write_sparse_checkpoint(tmp.path(), gpt_oss_tensors(24, 32), 3, hub_shard_names(3, /*zero_based=*/true));
    const Model model = open_model(tmp.path());
    const ModelDescription& d = model.description;
    EXPECT_EQ(d.family->model_type, "gpt_oss");
    EXPECT_EQ(model.layout, ExpertLayout::fused);
    EXPECT_EQ(d.quant_method, "mxfp4");
    EXPECT_EQ(d.moe_layers.size(), 24u);
    EXPECT_EQ(d.sliding_window, 128);
    EXPECT_EQ(d.sliding_window_of(0), 128);
    EXPECT_EQ(d.sliding_window_of(23), 0);
    EXPECT_TRUE(d.qkv_bias && d.o_bias);
    EXPECT_EQ(d.rope.type, "yarn");
    EXPECT_FALSE(d.rope.truncate);
    const ModelSummary s = summarize(model);
    EXPECT_EQ(s.files.front(), "model-00000-of-00002.safetensors");
    EXPECT_EQ(s.tensor_count, 3 + 24 * 19);
    EXPECT_EQ(s.dtypes.at("U8"), 24 * 4);
    // OpenAI's model card: 20.91B total, 3.61B active (embedding and unembedding counted in both).
    EXPECT_NEAR(s.params_total / 1e9, 20.91, 0.01);
    EXPECT_NEAR(s.params_active / 1e9, 4.19, 0.01);   // + the 0.58B unembedding the card leaves out of "active"
}

TEST(RealLayouts, GptOss120bParameterCounts) {
    const ParamCounts c = count_params(parse_model_config(gpt_oss_config(36, 128).dump(), "config.json"));
    EXPECT_NEAR(c.total / 1e9, 116.83, 0.01);   // OpenAI: 116.83B total
    EXPECT_NEAR(c.active / 1e9, 5.71, 0.01);    // 5.13B active + 0.58B unembedding
}

TEST(RealLayouts, GptOssBlocksOfTheWrongShapeAreNamed) {
    TempDir tmp;
    write_config(tmp.path(), gpt_oss_config(2, 32));
    std::vector<TensorDecl> tensors = gpt_oss_tensors(2, 32);
    for (TensorDecl& t : tensors)
        if (t.name == "model.layers.1.mlp.experts.down_proj_scales") t.shape = {32, 2880, 45};
    write_sparse_checkpoint(tmp.path(), tensors, 1, [](int) { return std::string("model.safetensors"); });
    try {
        open_model(tmp.path());
        FAIL() << "expected ShapeMismatch";
    } catch (const ShapeMismatch& error) {
        EXPECT_NE(std::string(error.what()).find("model.layers.1.mlp.experts.down_proj_scales: expected shape [32, 2880, 90], "
                                                 "found [32, 2880, 45]"),
                  std::string::npos)
            << error.what();
    }
}

// ---- GLM-4.5 ---------------------------------------------------------------------------------

// zai-org/GLM-4.5-Air config.json; GLM-4.5 differs in the values passed.
json glm_config(int layers, int64_t hidden, int64_t dense, int64_t moe, int64_t experts, int64_t dense_layers,
                double scale, bool qk_norm) {
    return {{"architectures", {"Glm4MoeForCausalLM"}}, {"attention_bias", true}, {"attention_dropout", 0.0},
            {"pad_token_id", 151329}, {"eos_token_id", {151329, 151336, 151338}}, {"head_dim", 128},
            {"hidden_act", "silu"}, {"hidden_size", hidden}, {"partial_rotary_factor", 0.5},
            {"initializer_range", 0.02}, {"intermediate_size", dense}, {"max_position_embeddings", 131072},
            {"model_type", "glm4_moe"}, {"moe_intermediate_size", moe}, {"norm_topk_prob", true},
            {"num_attention_heads", 96}, {"n_group", 1}, {"topk_group", 1}, {"n_routed_experts", experts},
            {"n_shared_experts", 1}, {"routed_scaling_factor", scale}, {"num_experts_per_tok", 8},
            {"first_k_dense_replace", dense_layers}, {"num_hidden_layers", layers}, {"num_key_value_heads", 8},
            {"rms_norm_eps", 1e-05}, {"rope_scaling", nullptr}, {"rope_theta", 1000000},
            {"num_nextn_predict_layers", 1}, {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"},
            {"transformers_version", "4.54.0"}, {"use_cache", true}, {"use_qk_norm", qk_norm}, {"vocab_size", 151552}};
}

void add_glm_layer(Decls& d, int l, bool moe, bool qk_norm, int64_t h, int64_t dense, int64_t width, int64_t experts) {
    const std::string p = layer(l);
    add_gqa_layer(d, p, h, 96 * 128, 8 * 128, DType::bf16, true, false);
    if (qk_norm) {
        d.add(p + "self_attn.q_norm.weight", DType::bf16, {128});
        d.add(p + "self_attn.k_norm.weight", DType::bf16, {128});
    }
    if (!moe) {
        d.add(p + "mlp.gate_proj.weight", DType::bf16, {dense, h});
        d.add(p + "mlp.up_proj.weight", DType::bf16, {dense, h});
        d.add(p + "mlp.down_proj.weight", DType::bf16, {h, dense});
        return;
    }
    d.add(p + "mlp.gate.weight", DType::bf16, {experts, h});
    d.add(p + "mlp.gate.e_score_correction_bias", DType::f32, {experts});
    for (int64_t e = 0; e < experts; ++e) {
        const std::string x = p + "mlp.experts." + std::to_string(e) + ".";
        d.add(x + "gate_proj.weight", DType::bf16, {width, h});
        d.add(x + "up_proj.weight", DType::bf16, {width, h});
        d.add(x + "down_proj.weight", DType::bf16, {h, width});
    }
    d.add(p + "mlp.shared_experts.gate_proj.weight", DType::bf16, {width, h});
    d.add(p + "mlp.shared_experts.up_proj.weight", DType::bf16, {width, h});
    d.add(p + "mlp.shared_experts.down_proj.weight", DType::bf16, {h, width});
}

// GLM-4.5-Air (106B total, 12B active), all 46 layers plus the MTP layer 46 the forward pass
// must not load (eh_proj, enorm, hnorm, shared_head beside a full decoder layer).
TEST(RealLayouts, Glm45AirWithItsMtpLayer) {
    TempDir tmp;
    const int64_t h = 4096, dense = 10944, width = 1408, experts = 128;
    write_config(tmp.path(), glm_config(46, h, dense, width, experts, 1, 1.0, false));
    Decls d;
    d.add("model.embed_tokens.weight", DType::bf16, {151552, h});
    for (int l = 0; l <= 46; ++l) add_glm_layer(d, l, l >= 1, false, h, dense, width, experts);
    d.add("model.layers.46.eh_proj.weight", DType::bf16, {h, 2 * h});
    d.add("model.layers.46.enorm.weight", DType::bf16, {h});
    d.add("model.layers.46.hnorm.weight", DType::bf16, {h});
    d.add("model.layers.46.shared_head.norm.weight", DType::bf16, {h});
    d.add("model.norm.weight", DType::bf16, {h});
    d.add("lm_head.weight", DType::bf16, {151552, h});
    write_sparse_checkpoint(tmp.path(), d.all(), 47, hub_shard_names(47));
    const Model model = open_model(tmp.path());
    const ModelDescription& m = model.description;
    EXPECT_EQ(m.family->model_type, "glm4_moe");
    EXPECT_EQ(m.moe_layers.front(), 1);
    EXPECT_EQ(m.moe_layers.size(), 45u);
    EXPECT_FALSE(m.qk_norm);
    EXPECT_TRUE(m.qkv_bias);
    EXPECT_FALSE(m.o_bias);
    EXPECT_EQ(m.rope.rotary_dim, 64);   // partial_rotary_factor 0.5 of head_dim 128
    EXPECT_EQ(m.n_group, 1);
    EXPECT_EQ(m.shared_expert_intermediate_size, 1408);
    const ModelSummary s = summarize(model);
    EXPECT_EQ(s.files.size(), 47u);
    EXPECT_NEAR(s.params_total / 1e9, 106.85, 0.01);   // zai-org: "106B total" (MTP layer not counted)
    EXPECT_NEAR(s.params_active / 1e9, 13.42, 0.01);   // "12B active" (+1.2B embedding and lm_head)
}

TEST(RealLayouts, Glm45ParameterCounts) {
    const ModelDescription d =
        parse_model_config(glm_config(92, 5120, 12288, 1536, 160, 3, 2.5, true).dump(), "config.json");
    EXPECT_TRUE(d.qk_norm);
    EXPECT_DOUBLE_EQ(d.routed_scaling_factor, 2.5);
    const ParamCounts c = count_params(d);
    EXPECT_NEAR(c.total / 1e9, 352.80, 0.01);   // zai-org: "355B total", which includes the MTP layer
    EXPECT_NEAR(c.active / 1e9, 33.63, 0.01);   // "32B active" (+1.6B embedding and lm_head)
}

// ---- MiniMax-M2 ------------------------------------------------------------------------------

// MiniMaxAI/MiniMax-M2 config.json (FP8 release; attn_type_list shortened with the layers).
json minimax_config(int layers) {
    return {{"architectures", {"MiniMaxM2ForCausalLM"}}, {"attn_type_list", std::vector<int>(static_cast<std::size_t>(layers), 1)},
            {"head_dim", 128}, {"hidden_act", "silu"}, {"hidden_size", 3072}, {"intermediate_size", 1536},
            {"max_position_embeddings", 196608}, {"model_type", "minimax_m2"}, {"mtp_transformer_layers", 1},
            {"num_attention_heads", 48}, {"num_experts_per_tok", 8}, {"num_hidden_layers", layers},
            {"num_key_value_heads", 8}, {"num_local_experts", 256}, {"num_mtp_modules", 3},
            {"qk_norm_type", "per_layer"}, {"rms_norm_eps", 1e-06}, {"rope_theta", 5000000}, {"rotary_dim", 64},
            {"scoring_func", "sigmoid"}, {"shared_intermediate_size", 0}, {"tie_word_embeddings", false},
            {"use_cache", true}, {"use_mtp", true}, {"use_qk_norm", true}, {"use_routing_bias", true},
            {"vocab_size", 200064}, {"torch_dtype", "bfloat16"},
            {"quantization_config", {{"activation_scheme", "dynamic"}, {"fmt", "float8_e4m3fn"}, {"quant_method", "fp8"},
                                     {"weight_block_size", {128, 128}},
                                     {"modules_to_not_convert", {"gate", "e_score_correction_bias", "lm_head"}}}}};
}

// 4 of the 62 layers (each has 256 experts x 3 FP8 weights + their scales).
TEST(RealLayouts, MiniMaxM2Fp8Release) {
    TempDir tmp;
    const int layers = 4;
    const int64_t h = 3072, i = 1536, q = 48 * 128, kv = 8 * 128;
    write_config(tmp.path(), minimax_config(layers));
    Decls d;
    d.add("model.embed_tokens.weight", DType::bf16, {200064, h});
    for (int l = 0; l < layers; ++l) {
        const std::string p = layer(l);
        d.add(p + "input_layernorm.weight", DType::bf16, {h});
        d.add(p + "post_attention_layernorm.weight", DType::bf16, {h});
        d.fp8(p + "self_attn.q_proj.weight", q, h);
        d.fp8(p + "self_attn.k_proj.weight", kv, h);
        d.fp8(p + "self_attn.v_proj.weight", kv, h);
        d.fp8(p + "self_attn.o_proj.weight", h, q);
        d.add(p + "self_attn.q_norm.weight", DType::bf16, {q});
        d.add(p + "self_attn.k_norm.weight", DType::bf16, {kv});
        d.add(p + "block_sparse_moe.gate.weight", DType::f32, {256, h});
        d.add(p + "block_sparse_moe.e_score_correction_bias", DType::f32, {256});
        for (int e = 0; e < 256; ++e) {
            const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
            d.fp8(x + "w1.weight", i, h);
            d.fp8(x + "w2.weight", h, i);
            d.fp8(x + "w3.weight", i, h);
        }
    }
    d.add("model.norm.weight", DType::bf16, {h});
    d.add("lm_head.weight", DType::bf16, {200064, h});
    write_sparse_checkpoint(tmp.path(), d.all(), 8, hub_shard_names(8));
    const Model model = open_model(tmp.path());
    const ModelDescription& m = model.description;
    EXPECT_EQ(m.family->router, RouterRule::sigmoid_topk_renorm);
    EXPECT_EQ(m.rope.rotary_dim, 64);
    EXPECT_DOUBLE_EQ(m.rope.theta, 5e6);
    EXPECT_TRUE(m.qk_norm);
    ASSERT_TRUE(m.fp8_block_size);
    EXPECT_EQ(summarize(model).dtypes.at("F8_E4M3"), layers * (4 + 256 * 3));
}

TEST(RealLayouts, MiniMaxM2ParameterCountsAndRefusedVariants) {
    const ParamCounts c = count_params(parse_model_config(minimax_config(62).dump(), "config.json"));
    EXPECT_NEAR(c.total / 1e9, 228.69, 0.01);   // MiniMax: "230B total"
    EXPECT_NEAR(c.active / 1e9, 11.03, 0.01);   // "10B active" (+1.2B embedding and lm_head)
    json lightning = minimax_config(2);
    lightning["attn_type_list"] = {0, 1};
    EXPECT_THROW(parse_model_config(lightning.dump(), "config.json"), ConfigError);
    json shared = minimax_config(2);
    shared["shared_intermediate_size"] = 512;
    EXPECT_THROW(parse_model_config(shared.dump(), "config.json"), ConfigError);
}

// ---- Qwen3-Next ------------------------------------------------------------------------------

// Qwen/Qwen3-Next-80B-A3B-Instruct config.json.
json qwen3_next_config(int layers) {
    return {{"architectures", {"Qwen3NextForCausalLM"}}, {"attention_dropout", 0.0}, {"bos_token_id", 151643},
            {"decoder_sparse_step", 1}, {"eos_token_id", 151645}, {"full_attention_interval", 4},
            {"head_dim", 256}, {"hidden_act", "silu"}, {"hidden_size", 2048}, {"initializer_range", 0.02},
            {"intermediate_size", 5120}, {"linear_conv_kernel_dim", 4}, {"linear_key_head_dim", 128},
            {"linear_num_key_heads", 16}, {"linear_num_value_heads", 32}, {"linear_value_head_dim", 128},
            {"max_position_embeddings", 262144}, {"mlp_only_layers", json::array()}, {"model_type", "qwen3_next"},
            {"moe_intermediate_size", 512}, {"norm_topk_prob", true}, {"num_attention_heads", 16},
            {"num_experts", 512}, {"num_experts_per_tok", 10}, {"num_hidden_layers", layers},
            {"num_key_value_heads", 2}, {"output_router_logits", false}, {"partial_rotary_factor", 0.25},
            {"rms_norm_eps", 1e-06}, {"rope_scaling", nullptr}, {"rope_theta", 10000000},
            {"router_aux_loss_coef", 0.001}, {"shared_expert_intermediate_size", 512},
            {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"}, {"use_cache", true},
            {"use_sliding_window", false}, {"vocab_size", 151936}};
}

// 4 of the 48 layers (3 Gated DeltaNet + 1 gated full attention; 512 experts each) and the
// checkpoint's `mtp.*` tensors.
TEST(RealLayouts, Qwen3Next80bA3b) {
    TempDir tmp;
    const int layers = 4;
    const int64_t h = 2048;
    write_config(tmp.path(), qwen3_next_config(layers));
    Decls d;
    d.add("model.embed_tokens.weight", DType::bf16, {151936, h});
    for (int l = 0; l < layers; ++l) {
        const std::string p = layer(l);
        d.add(p + "input_layernorm.weight", DType::bf16, {h});
        d.add(p + "post_attention_layernorm.weight", DType::bf16, {h});
        if (l % 4 == 3) {
            d.add(p + "self_attn.q_proj.weight", DType::bf16, {2 * 16 * 256, h});   // [query | gate] per head
            d.add(p + "self_attn.k_proj.weight", DType::bf16, {2 * 256, h});
            d.add(p + "self_attn.v_proj.weight", DType::bf16, {2 * 256, h});
            d.add(p + "self_attn.o_proj.weight", DType::bf16, {h, 16 * 256});
            d.add(p + "self_attn.q_norm.weight", DType::bf16, {256});
            d.add(p + "self_attn.k_norm.weight", DType::bf16, {256});
        } else {
            d.add(p + "linear_attn.in_proj_qkvz.weight", DType::bf16, {2 * 2048 + 2 * 4096, h});
            d.add(p + "linear_attn.in_proj_ba.weight", DType::bf16, {64, h});
            d.add(p + "linear_attn.conv1d.weight", DType::bf16, {8192, 1, 4});
            d.add(p + "linear_attn.dt_bias", DType::bf16, {32});
            d.add(p + "linear_attn.A_log", DType::f32, {32});
            d.add(p + "linear_attn.norm.weight", DType::f32, {128});
            d.add(p + "linear_attn.out_proj.weight", DType::bf16, {h, 4096});
        }
        d.add(p + "mlp.gate.weight", DType::bf16, {512, h});
        for (int e = 0; e < 512; ++e) {
            const std::string x = p + "mlp.experts." + std::to_string(e) + ".";
            d.add(x + "gate_proj.weight", DType::bf16, {512, h});
            d.add(x + "up_proj.weight", DType::bf16, {512, h});
            d.add(x + "down_proj.weight", DType::bf16, {h, 512});
        }
        d.add(p + "mlp.shared_expert.gate_proj.weight", DType::bf16, {512, h});
        d.add(p + "mlp.shared_expert.up_proj.weight", DType::bf16, {512, h});
        d.add(p + "mlp.shared_expert.down_proj.weight", DType::bf16, {h, 512});
        d.add(p + "mlp.shared_expert_gate.weight", DType::bf16, {1, h});
    }
    d.add("model.norm.weight", DType::bf16, {h});
    d.add("lm_head.weight", DType::bf16, {151936, h});
    d.add("mtp.fc.weight", DType::bf16, {h, 2 * h});
    d.add("mtp.norm.weight", DType::bf16, {h});
    d.add("mtp.pre_fc_norm_embedding.weight", DType::bf16, {h});
    d.add("mtp.pre_fc_norm_hidden.weight", DType::bf16, {h});
    write_sparse_checkpoint(tmp.path(), d.all(), 4, hub_shard_names(4));
    const Model model = open_model(tmp.path());
    const ModelDescription& m = model.description;
    EXPECT_TRUE(m.is_linear_attention_layer(0));
    EXPECT_FALSE(m.is_linear_attention_layer(3));
    ASSERT_TRUE(m.linear_attention);
    EXPECT_EQ(m.linear_attention->conv_dim(), 8192);
    EXPECT_EQ(m.rope.rotary_dim, 64);   // 0.25 of 256
    EXPECT_EQ(m.sliding_window, 0);
}

TEST(RealLayouts, Qwen3NextParameterCounts) {
    const ParamCounts c = count_params(parse_model_config(qwen3_next_config(48).dump(), "config.json"));
    EXPECT_NEAR(c.total / 1e9, 79.67, 0.01);   // Qwen: "80B total"
    EXPECT_NEAR(c.active / 1e9, 3.87, 0.01);   // "3B active" (incl. the 0.6B embedding and lm_head)
}

// ---- Kimi-K2: a re-badged DeepSeek-V3 --------------------------------------------------------

TEST(RealLayouts, KimiK2ResolvesThroughArchitectures) {
    // moonshotai/Kimi-K2-Instruct config.json, with 2 of its 61 layers.
    const json config = {
        {"architectures", {"DeepseekV3ForCausalLM"}}, {"model_type", "kimi_k2"}, {"attention_bias", false},
        {"first_k_dense_replace", 1}, {"hidden_size", 7168}, {"intermediate_size", 18432}, {"kv_lora_rank", 512},
        {"max_position_embeddings", 131072}, {"moe_intermediate_size", 2048}, {"moe_layer_freq", 1},
        {"n_group", 1}, {"n_routed_experts", 384}, {"n_shared_experts", 1}, {"norm_topk_prob", true},
        {"num_attention_heads", 64}, {"num_experts_per_tok", 8}, {"num_hidden_layers", 2},
        {"num_key_value_heads", 64}, {"num_nextn_predict_layers", 0}, {"q_lora_rank", 1536},
        {"qk_nope_head_dim", 128}, {"qk_rope_head_dim", 64}, {"rms_norm_eps", 1e-06}, {"rope_theta", 50000.0},
        {"rope_scaling", {{"beta_fast", 1.0}, {"beta_slow", 1.0}, {"factor", 32.0}, {"mscale", 1.0},
                          {"mscale_all_dim", 1.0}, {"original_max_position_embeddings", 4096}, {"type", "yarn"}}},
        {"routed_scaling_factor", 2.827}, {"scoring_func", "sigmoid"}, {"topk_group", 1}, {"topk_method", "noaux_tc"},
        {"v_head_dim", 128}, {"vocab_size", 163840}, {"torch_dtype", "bfloat16"},
        {"quantization_config", {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                 {"weight_block_size", {128, 128}}}}};
    const ModelDescription d = parse_model_config(config.dump(), "config.json");
    EXPECT_EQ(d.family->model_type, "deepseek_v3");
    EXPECT_EQ(d.model_type, "kimi_k2");
    EXPECT_EQ(d.resolved_by_architecture, "DeepseekV3ForCausalLM");
    EXPECT_EQ(d.num_experts, (std::vector<int64_t>{384}));
    EXPECT_DOUBLE_EQ(d.routed_scaling_factor, 2.827);
    json unknown = config;
    unknown["architectures"] = {"KimiForCausalLM"};
    try {
        parse_model_config(unknown.dump(), "config.json");
        FAIL() << "expected UnknownArchitecture";
    } catch (const UnknownArchitecture& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("\"kimi_k2\""), std::string::npos) << message;
        EXPECT_NE(message.find("architectures\" [KimiForCausalLM]"), std::string::npos) << message;
    }
}

}  // namespace
