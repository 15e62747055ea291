// `switchyard export` end to end: identity is byte-identical, fused -> per-expert matches the
// per-expert fixture, sharding writes an index, dtype conversion and FP8 dequantisation.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "checkpoint_compare.h"
#include "run_cli.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/tensor_convert.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

fs::path model(const std::string& name) { return data_dir() / "models" / name; }

CliResult export_to(const fs::path& src, const fs::path& out, const std::string& extra = "") {
    return run_cli("export " + shell_quote(src) + " -o " + shell_quote(out) + " -q " + extra);
}

}  // namespace

TEST(CliExportIntegration, IdentityExportIsByteIdenticalPerTensor) {
    TempDir tmp;
    const auto r = export_to(model("tiny-olmoe"), tmp.path() / "out");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_tensors(model("tiny-olmoe"), tmp.path() / "out");
    EXPECT_TRUE(fs::exists(tmp.path() / "out" / "config.json"));
    EXPECT_TRUE(fs::exists(tmp.path() / "out" / "tokenizer.json"));
    EXPECT_FALSE(fs::exists(tmp.path() / "out" / "goldens.safetensors"));
    // Provenance in __metadata__, and transformers' "format": "pt" kept.
    auto out = sy::Checkpoint::open(tmp.path() / "out");
    const auto& meta = out.file_metadata(0);
    EXPECT_EQ(meta.at("format"), "pt");
    EXPECT_EQ(meta.at("switchyard.version"), SWITCHYARD_VERSION);
    EXPECT_NE(meta.at("switchyard.command").find("export"), std::string::npos);
    EXPECT_NE(meta.at("switchyard.source").find("tiny-olmoe"), std::string::npos);
}

TEST(CliExportIntegration, FusedExportsToThePerExpertHubLayout) {
    TempDir tmp;
    const auto r = export_to(model("tiny-qwen3-moe-fused"), tmp.path() / "out");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_tensors(model("tiny-qwen3-moe"), tmp.path() / "out");
}

TEST(CliExportIntegration, ShardsWithIndexAndRoundTrips) {
    TempDir tmp;
    const auto r = export_to(model("tiny-qwen3-moe"), tmp.path() / "out", "--shard-size 300KB");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto index = nlohmann::json::parse(slurp(tmp.path() / "out" / "model.safetensors.index.json"));
    auto out = sy::Checkpoint::open(tmp.path() / "out");
    EXPECT_GT(out.files().size(), 2u);
    EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), out.total_tensor_bytes());
    EXPECT_EQ(out.files().front(), "model-00001-of-" + std::string(5 - std::to_string(out.files().size()).size(), '0') +
                                       std::to_string(out.files().size()) + ".safetensors");
    for (const auto& f : out.files()) EXPECT_LE(fs::file_size(tmp.path() / "out" / f), 300'000u + 20'000u) << f;
    expect_same_tensors(model("tiny-qwen3-moe"), tmp.path() / "out");
    // and back to one file
    ASSERT_EQ(export_to(tmp.path() / "out", tmp.path() / "single").exit_code, 0);
    EXPECT_TRUE(fs::exists(tmp.path() / "single" / "model.safetensors"));
    expect_same_tensors(model("tiny-qwen3-moe"), tmp.path() / "single");
}

TEST(CliExportIntegration, Bf16ToF32IsExactAndConfigSaysSo) {
    TempDir tmp;
    ASSERT_EQ(export_to(model("tiny-olmoe"), tmp.path() / "out", "--dtype f32").exit_code, 0);
    auto a = sy::Checkpoint::open(model("tiny-olmoe")), b = sy::Checkpoint::open(tmp.path() / "out");
    for (const auto& t : a.tensors()) {
        const auto& u = b.at(t.name);
        EXPECT_EQ(u.dtype, sy::DType::f32);
        EXPECT_EQ(sy::to_f32(a.view(t)), sy::to_f32(b.view(u))) << t.name;
    }
    EXPECT_EQ(nlohmann::json::parse(slurp(tmp.path() / "out" / "config.json"))["torch_dtype"], "float32");
    // f32 -> bf16 brings back the original bytes.
    ASSERT_EQ(export_to(tmp.path() / "out", tmp.path() / "back", "--dtype bf16").exit_code, 0);
    expect_same_tensors(model("tiny-olmoe"), tmp.path() / "back");
}

TEST(CliExportIntegration, Fp8DequantisesToBf16AndDropsQuantizationConfig) {
    TempDir tmp;
    const auto r = export_to(model("tiny-deepseek-v3-fp8"), tmp.path() / "out", "--dtype bf16");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto src = sy::Checkpoint::open(model("tiny-deepseek-v3-fp8")), out = sy::Checkpoint::open(tmp.path() / "out");
    int fp8 = 0;
    for (const auto& t : src.tensors()) {
        if (t.dtype != sy::DType::f8_e4m3) continue;
        ++fp8;
        EXPECT_EQ(out.find(t.name + "_scale_inv"), nullptr);
        const auto deq = sy::dequantize_fp8_blocks(src.view(t), src.view(src.at(t.name + "_scale_inv")), 32, 32);
        const auto got = sy::to_f32(out.view(out.at(t.name)));
        ASSERT_EQ(got.size(), deq.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(sy::f32_to_bf16_bits(deq[i]), sy::f32_to_bf16_bits(got[i])) << t.name << " " << i;
    }
    EXPECT_GT(fp8, 0);
    const auto config = nlohmann::json::parse(slurp(tmp.path() / "out" / "config.json"));
    EXPECT_FALSE(config.contains("quantization_config"));
    EXPECT_EQ(config["torch_dtype"], "bfloat16");
    EXPECT_EQ(run_cli("inspect " + shell_quote(tmp.path() / "out")).exit_code, 0);
}

TEST(CliExportIntegration, RefusesNonEmptyOutputUnlessForced) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "out");
    std::ofstream(tmp.path() / "out" / "keep.txt") << "x";
    const auto r = export_to(model("tiny-olmoe"), tmp.path() / "out");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--force"), std::string::npos);
    EXPECT_TRUE(fs::exists(tmp.path() / "out" / "keep.txt"));
    ASSERT_EQ(export_to(model("tiny-olmoe"), tmp.path() / "out", "--force").exit_code, 0);
    EXPECT_FALSE(fs::exists(tmp.path() / "out" / "keep.txt"));
    // No staging folder is left behind.
    for (const auto& e : fs::directory_iterator(tmp.path())) EXPECT_EQ(e.path().filename().string().find(".out.partial"), std::string::npos);
}

TEST(CliExportIntegration, NeverWritesIntoTheModelFolder) {
    TempDir tmp;
    fs::copy(model("tiny-olmoe"), tmp.path() / "m", fs::copy_options::recursive);
    const auto before = fs::last_write_time(tmp.path() / "m" / "model.safetensors");
    const auto r = export_to(tmp.path() / "m", tmp.path() / "m" / "sub", "--force");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("must not be the model folder"), std::string::npos);
    EXPECT_EQ(export_to(tmp.path() / "m", tmp.path() / "m", "--force").exit_code, 1);
    EXPECT_TRUE(fs::exists(tmp.path() / "m" / "model.safetensors"));
    EXPECT_EQ(before, fs::last_write_time(tmp.path() / "m" / "model.safetensors"));
}

TEST(CliExportIntegration, BadShardSize) {
    TempDir tmp;
    const auto r = export_to(model("tiny-olmoe"), tmp.path() / "out", "--shard-size 12XB");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("12XB"), std::string::npos);
}
