// Checkpoint folders: single file, sharded with index, missing shards, stray files ignored.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "switchyard/core/checkpoint.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/tensor_convert.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using sy::test::TempDir;

namespace {

void write_f32(const fs::path& file, const std::vector<std::pair<std::string, std::vector<float>>>& tensors) {
    std::vector<sy::TensorDecl> decls;
    for (const auto& [name, values] : tensors) decls.push_back({name, sy::DType::f32, {int64_t(values.size())}});
    sy::SafetensorsWriter w(file, decls, {});
    for (const auto& [name, values] : tensors) w.write(values.data(), values.size() * 4);
    w.finish();
}

void write_text(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

std::string open_error(const fs::path& dir) {
    try {
        sy::Checkpoint::open(dir);
    } catch (const sy::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

}  // namespace

TEST(Checkpoint, SingleFileIgnoresOtherSafetensors) {
    TempDir dir;
    write_f32(dir.path() / "model.safetensors", {{"a", {1, 2}}, {"b", {3}}});
    write_f32(dir.path() / "consolidated.safetensors", {{"zzz", {9}}});
    write_f32(dir.path() / "goldens.safetensors", {{"logits", {9}}});
    auto ckpt = sy::Checkpoint::open(dir.path());
    ASSERT_EQ(ckpt.tensors().size(), 2u);
    EXPECT_FALSE(ckpt.is_sharded());
    EXPECT_EQ(ckpt.find("zzz"), nullptr);
    EXPECT_EQ(sy::to_f32(ckpt.view(ckpt.at("a"))), (std::vector<float>{1, 2}));
}

TEST(Checkpoint, ShardedWithUnpredictableNamesAndEmptyMetadata) {
    TempDir dir;
    write_f32(dir.path() / "weights-b.safetensors", {{"x", {1}}});
    write_f32(dir.path() / "weights-a.safetensors", {{"y", {2, 3}}});
    write_text(dir.path() / "model.safetensors.index.json",
               R"({"metadata": {}, "weight_map": {"x": "weights-b.safetensors", "y": "weights-a.safetensors"}})");
    auto ckpt = sy::Checkpoint::open(dir.path());
    EXPECT_TRUE(ckpt.is_sharded());
    EXPECT_EQ(ckpt.files().size(), 2u);
    EXPECT_EQ(sy::to_f32(ckpt.view(ckpt.at("y"))), (std::vector<float>{2, 3}));
    EXPECT_EQ(ckpt.total_tensor_bytes(), 12u);
}

TEST(Checkpoint, MissingShardIsNamed) {
    TempDir dir;
    write_f32(dir.path() / "s1.safetensors", {{"x", {1}}});
    write_text(dir.path() / "model.safetensors.index.json",
               R"({"weight_map": {"x": "s1.safetensors", "y": "s2.safetensors"}})");
    const auto msg = open_error(dir.path());
    EXPECT_NE(msg.find("s2.safetensors: shard named in model.safetensors.index.json is missing"), std::string::npos) << msg;
}

TEST(Checkpoint, TensorNamedByIndexButAbsentFromShard) {
    TempDir dir;
    write_f32(dir.path() / "s1.safetensors", {{"x", {1}}});
    write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map": {"x": "s1.safetensors", "q": "s1.safetensors"}})");
    EXPECT_NE(open_error(dir.path()).find("tensor q is named by model.safetensors.index.json"), std::string::npos);
}

TEST(Checkpoint, NoWeightsAtAll) {
    TempDir dir;
    write_f32(dir.path() / "consolidated.safetensors", {{"x", {1}}});
    const auto msg = open_error(dir.path());
    EXPECT_NE(msg.find("no model.safetensors or model.safetensors.index.json"), std::string::npos);
    EXPECT_NE(msg.find("consolidated.safetensors"), std::string::npos);
}

TEST(Checkpoint, BadIndexJson) {
    TempDir dir;
    write_text(dir.path() / "model.safetensors.index.json", "{not json");
    EXPECT_NE(open_error(dir.path()).find("not valid JSON"), std::string::npos);
    write_text(dir.path() / "model.safetensors.index.json", R"({"metadata": {}})");
    EXPECT_NE(open_error(dir.path()).find("missing \"weight_map\""), std::string::npos);
}

TEST(Checkpoint, DuplicateTensorAcrossShards) {
    TempDir dir;
    write_f32(dir.path() / "s1.safetensors", {{"x", {1}}});
    write_f32(dir.path() / "s2.safetensors", {{"x", {1}}});
    write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map": {"x": "s1.safetensors"}})");
    // The index decides: the copy in s2 is not part of the model, so this opens.
    auto ckpt = sy::Checkpoint::open(dir.path());
    EXPECT_EQ(ckpt.files()[ckpt.at("x").file_index], "s1.safetensors");
}

TEST(Checkpoint, NotADirectory) {
    EXPECT_NE(open_error("/nonexistent/switchyard").find("not a directory"), std::string::npos);
}
