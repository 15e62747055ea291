// Checkpoint folders: single file, sharded with index, missing shards, stray files ignored; page
// advice on a range of a tensor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <cstring>

#include <sys/resource.h>

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

// Streamed loads map a tensor's pages piece by piece (populate) and drop each piece after use
// (release): the range given must be the one advised, page-rounded and clipped to the tensor.
// Observed through the process's minor page faults: touching populated pages faults none;
// touching them after they were released faults again (fewer than one per page: the kernel maps
// neighbouring pages of the page cache on each fault).
TEST(Checkpoint, PopulateAndReleaseAdviseTheGivenRangeOfATensor) {
    TempDir tmp;
    std::vector<float> values(256 * 1024);   // 1 MiB: 256 pages of 4 KiB
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i);
    write_f32(tmp.path() / "model.safetensors", {{"w", values}});
    const sy::Checkpoint ckpt = sy::Checkpoint::open(tmp.path());
    const sy::TensorInfo& info = ckpt.at("w");
    const auto* data = reinterpret_cast<const volatile unsigned char*>(ckpt.view(info).data);
    const auto minor_faults = [] {
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        return usage.ru_minflt;
    };
    // Touches one byte per page of [begin, end) bytes of the tensor; returns the faults it took.
    const auto touch = [&](std::size_t begin, std::size_t end) {
        const long before = minor_faults();
        unsigned sum = 0;
        for (std::size_t b = begin; b < end; b += 4096) sum += data[b];
        (void)sum;
        return minor_faults() - before;
    };
    const std::size_t piece = 256 * 1024, second = piece + 100;   // an unaligned piece in the middle
    ckpt.release(info);
    ckpt.populate(info, second, piece);
    EXPECT_EQ(touch(second, second + piece), 0);
    ckpt.release(info, second, piece);
    EXPECT_GT(touch(second, second + piece), 0);
    // Past the tensor's end: clipped, nothing else is touched and nothing fails.
    ckpt.populate(info, info.nbytes() - 8, 1 << 20);
    EXPECT_EQ(touch(info.nbytes() - 8, info.nbytes()), 0);
    ckpt.release(info, info.nbytes() + 4096, 10);
    EXPECT_EQ(std::memcmp(ckpt.view(info).data, values.data(), info.nbytes()), 0);
}
