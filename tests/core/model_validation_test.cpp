// Bad input must fail up front with a message naming file, tensor, expected and found
// (style.md rule 3). Each test breaks one thing in a copy of a fixture.
#include <gtest/gtest.h>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "test_safetensors_writer.h"

using namespace sy;
using namespace sy::test;

namespace {

// Runs `open_model(dir)` and returns the message of the expected error type.
template <typename ErrorType>
std::string open_error(const std::filesystem::path& dir) {
    try {
        open_model(dir);
    } catch (const ErrorType& error) {
        return error.what();
    } catch (const std::exception& error) {
        return std::string("wrong exception type: ") + error.what();
    }
    return "no exception";
}

// A fixture's config (optionally edited) with a checkpoint of the given tensors.
void make_model(const TempDir& tmp, const std::string& fixture, const std::vector<TensorDecl>& tensors,
                const std::vector<std::pair<std::string, std::string>>& config_edits = {}) {
    write_config(tmp.path(), fixture, config_edits);
    write_safetensors(tmp.path() / "model.safetensors", tensors);
}

TEST(ModelConfigErrors, MissingConfigJson) {
    TempDir tmp;
    const std::string expected = (tmp.path() / "config.json").string() + ": not found";
    EXPECT_EQ(open_error<ConfigError>(tmp.path()), expected);
    EXPECT_THROW(read_model_config(tmp.path() / "config.json"), ConfigError);
}

TEST(ModelConfigErrors, UnknownModelTypeListsSupported) {
    TempDir tmp;
    // Neither model_type nor architectures is known (an unknown model_type alone resolves through
    // a known architecture, see RealLayouts.KimiK2ResolvesThroughArchitectures).
    write_config(tmp.path(), "tiny-olmoe", {{"\"olmoe\"", "\"gpt_neo\""}, {"OlmoeForCausalLM", "GPTNeoForCausalLM"}});
    const std::string message = open_error<UnknownArchitecture>(tmp.path());
    EXPECT_NE(message.find("config.json: unsupported model_type \"gpt_neo\""), std::string::npos) << message;
    for (const char* type : {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v2", "deepseek_v3", "llama"})
        EXPECT_NE(message.find(type), std::string::npos) << message;
}

TEST(ModelConfigErrors, MissingKeyIsNamed) {
    TempDir tmp;
    write_config(tmp.path(), "tiny-olmoe", {{"\"hidden_size\": 64,", ""}});
    const std::string message = open_error<ConfigError>(tmp.path());
    EXPECT_NE(message.find("config.json: key \"hidden_size\" is missing"), std::string::npos) << message;
}

TEST(ModelConfigErrors, IllTypedKeysAreNamed) {
    TempDir tmp;
    write_config(tmp.path(), "tiny-olmoe", {{"\"num_experts\": 16", "\"num_experts\": \"sixteen\""}});
    std::string message = open_error<ConfigError>(tmp.path());
    EXPECT_NE(message.find("key \"num_experts\" must be an integer, found string \"sixteen\""), std::string::npos)
        << message;
    write_config(tmp.path(), "tiny-deepseek-v3", {{"\"factor\": 4.0", "\"factor\": \"big\""}});
    message = open_error<ConfigError>(tmp.path());
    EXPECT_NE(message.find("key \"rope_scaling.factor\" must be a number"), std::string::npos) << message;
}

TEST(ModelConfigErrors, InvalidJsonAndUnsupportedChoices) {
    TempDir tmp;
    std::ofstream(tmp.path() / "config.json") << "{\"model_type\": ";
    EXPECT_NE(open_error<ConfigError>(tmp.path()).find("config.json: invalid JSON"), std::string::npos);
    write_config(tmp.path(), "tiny-deepseek-v3", {{"\"sigmoid\"", "\"softmax\""}});
    EXPECT_NE(open_error<ConfigError>(tmp.path()).find("scoring_func"), std::string::npos);
    write_config(tmp.path(), "tiny-deepseek-v3-fp8", {{"\"quant_method\": \"fp8\"", "\"quant_method\": \"gptq\""}});
    EXPECT_NE(open_error<ConfigError>(tmp.path()).find("quantization_config.quant_method"), std::string::npos);
}

TEST(CheckpointValidation, MissingTensorNamesFileAndTensor) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-olmoe");
    erase_decls(tensors, "model.layers.1.mlp.gate.weight");
    make_model(tmp, "tiny-olmoe", tensors);
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()), "model.safetensors: model.layers.1.mlp.gate.weight: tensor missing");
    erase_decls(tensors, "model.layers.1.self_attn.q_norm");
    make_model(tmp, "tiny-olmoe", tensors);
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()),
              "model.safetensors: model.layers.1.self_attn.q_norm.weight: tensor missing (and 1 more missing tensors)");
}

TEST(CheckpointValidation, WrongShapeNamesExpectedAndFound) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-olmoe");
    find_decl(tensors, "model.layers.1.mlp.gate.weight").shape = {15, 64};
    make_model(tmp, "tiny-olmoe", tensors);
    EXPECT_EQ(open_error<ShapeMismatch>(tmp.path()),
              "model.safetensors: model.layers.1.mlp.gate.weight: expected shape [16, 64], found [15, 64]");
}

TEST(CheckpointValidation, WrongShapeInShardNamesTheShard) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-qwen3-moe");
    find_decl(tensors, "model.norm.weight").shape = {60};
    write_config(tmp.path(), "tiny-qwen3-moe");
    write_sharded(tmp.path(), tensors, tensors.size() / 2);
    EXPECT_EQ(open_error<ShapeMismatch>(tmp.path()),
              "model-00002-of-00002.safetensors: model.norm.weight: expected shape [64], found [60]");
    erase_decls(tensors, "lm_head.weight");
    write_sharded(tmp.path(), tensors, tensors.size() / 2);
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()), "model.safetensors.index.json: lm_head.weight: tensor missing");
}

TEST(CheckpointValidation, ExpertCountDisagreesWithConfig) {
    TempDir tmp;   // the Mixtral example from the brief: config 8, checkpoint 6
    auto tensors = fixture_tensors("tiny-mixtral");
    erase_decls(tensors, ".experts.6.");
    erase_decls(tensors, ".experts.7.");
    make_model(tmp, "tiny-mixtral", tensors);
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()),
              "config.json says num_local_experts = 8 but layer 0 has 6 experts in model.safetensors");
    make_model(tmp, "tiny-olmoe", fixture_tensors("tiny-olmoe"), {{"\"num_experts\": 16", "\"num_experts\": 20"}});
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()),
              "config.json says num_experts = 20 but layer 0 has 16 experts in model.safetensors");
}

TEST(CheckpointValidation, FusedExpertCountDisagreesWithConfig) {
    TempDir tmp;
    make_model(tmp, "tiny-qwen3-moe-fused", fixture_tensors("tiny-qwen3-moe-fused"),
               {{"\"num_experts\": 16", "\"num_experts\": 12"}});
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()),
              "config.json says num_experts = 12 but layer 0 has 16 experts in model.safetensors");
}

TEST(CheckpointValidation, UnsupportedDtype) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-olmoe");
    find_decl(tensors, "model.norm.weight").dtype = DType::i32;
    make_model(tmp, "tiny-olmoe", tensors);
    const std::string message = open_error<CheckpointError>(tmp.path());
    EXPECT_NE(message.find("model.safetensors: model.norm.weight: dtype I32 is not supported"), std::string::npos)
        << message;
}

TEST(CheckpointValidation, Fp8NeedsMatchingBlockScales) {
    TempDir tmp;
    const std::string weight = "model.layers.1.mlp.experts.3.up_proj.weight";
    auto tensors = fixture_tensors("tiny-deepseek-v3-fp8");
    find_decl(tensors, weight + "_scale_inv").shape = {2, 2};
    make_model(tmp, "tiny-deepseek-v3-fp8", tensors);
    EXPECT_EQ(open_error<ShapeMismatch>(tmp.path()),
              "model.safetensors: " + weight + "_scale_inv: expected shape [1, 2], found [2, 2]");
    erase_decls(tensors, weight + "_scale_inv");
    make_model(tmp, "tiny-deepseek-v3-fp8", tensors);
    EXPECT_NE(open_error<CheckpointError>(tmp.path()).find(weight + "_scale_inv: tensor missing"), std::string::npos);
    // F8 weights with no quantization_config in config.json.
    make_model(tmp, "tiny-deepseek-v3", fixture_tensors("tiny-deepseek-v3-fp8"));
    EXPECT_NE(open_error<CheckpointError>(tmp.path()).find("weight_block_size"), std::string::npos);
}

TEST(CheckpointValidation, Fp8ScaleShapeRoundsEdgeBlocksUp) {
    EXPECT_EQ(fp8_scale_shape({96, 64}, {32, 32}), (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(fp8_scale_shape({24, 64}, {32, 32}), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(fp8_scale_shape({256, 4096, 7168}, {128, 128}), (std::vector<int64_t>{256, 32, 56}));
}

TEST(CheckpointValidation, UnusedTensorsAreIgnored) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-deepseek-v3");
    tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", DType::f32, {4}});
    tensors.push_back({"model.layers.3.eh_proj.weight", DType::bf16, {64, 128}});   // MTP layer
    tensors.push_back({"model.layers.3.mlp.experts.0.up_proj.weight", DType::bf16, {32, 64}});
    make_model(tmp, "tiny-deepseek-v3", tensors);
    EXPECT_NO_THROW(open_model(tmp.path()));
}

TEST(CheckpointValidation, TiedEmbeddingsNeedNoLmHead) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-olmoe");
    erase_decls(tensors, "lm_head.weight");
    make_model(tmp, "tiny-olmoe", tensors, {{"\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"}});
    const Model model = open_model(tmp.path());
    EXPECT_EQ(summarize(model).params_total, summarize(open_model(fixture_dir("tiny-olmoe"))).params_total - 2048 * 64);
    make_model(tmp, "tiny-olmoe", tensors);
    EXPECT_EQ(open_error<CheckpointError>(tmp.path()), "model.safetensors: lm_head.weight: tensor missing");
}

TEST(CheckpointValidation, DenseLayerOfQwen2MoeIsChecked) {
    TempDir tmp;
    auto tensors = fixture_tensors("tiny-qwen2-moe");
    find_decl(tensors, "model.layers.1.mlp.up_proj.weight").shape = {32, 64};
    make_model(tmp, "tiny-qwen2-moe", tensors);
    EXPECT_EQ(open_error<ShapeMismatch>(tmp.path()),
              "model.safetensors: model.layers.1.mlp.up_proj.weight: expected shape [96, 64], found [32, 64]");
}

TEST(CheckpointValidation, LayoutDetection) {
    const Model fused = open_model(fixture_dir("tiny-qwen3-moe-fused"));
    EXPECT_EQ(detect_expert_layout(fused.description, fused.checkpoint), ExpertLayout::fused);
    const Model hub = open_model(fixture_dir("tiny-qwen3-moe"));
    EXPECT_EQ(detect_expert_layout(hub.description, hub.checkpoint), ExpertLayout::per_expert);
    EXPECT_THROW(validate_checkpoint(hub.description, hub.checkpoint, ExpertLayout::fused), CheckpointError);
}

}  // namespace
