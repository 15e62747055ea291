// Edits of gpt-oss, whose experts are fused on disk in every layout ([E, in, out] with
// interleaved gate/up and per-expert biases, or MXFP4 `_blocks` / `_scales`): a prune gathers
// expert slabs byte for byte (MXFP4 stays MXFP4, quantization_config kept), a merge writes BF16
// (every layer, no quantization_config) holding the weighted average; both load and run.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "editing_fixtures.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/edit_export.h"

using namespace sy;
using namespace sy::test;

namespace {

nlohmann::json config_of(const std::filesystem::path& dir) {
    std::ifstream in(dir / "config.json");
    return nlohmann::json::parse(in);
}

std::filesystem::path export_edit(const Model& model, const Edit& edit, const std::filesystem::path& out) {
    NullProgress progress;
    CancelToken cancel;
    ExportOptions options;
    options.output_dir = out;
    export_edited(model, plan_edits(model, {edit}, progress, cancel), options, EditRecord{}, progress, cancel);
    return out;
}

// Bytes of expert slab `e` of a fused tensor [E, ...].
std::vector<unsigned char> slab(const std::filesystem::path& dir, const std::string& name, int e) {
    const std::vector<unsigned char> all = tensor_bytes(dir, name);
    const Checkpoint checkpoint = Checkpoint::open(dir);
    const std::size_t size = all.size() / std::size_t(checkpoint.at(name).shape.at(0));
    return {all.begin() + long(size * std::size_t(e)), all.begin() + long(size * std::size_t(e + 1))};
}

class FusedEdit : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(FusedEdit, PruneGathersExpertSlabsByteForByte) {
    const Model model = open_model(model_dir(GetParam()));
    const FamilySpec& spec = *model.description.family;
    PruneEdit prune;
    for (int l : model.description.moe_layers) prune.experts[l] = {1, 6};
    TempDir tmp;
    const auto out = export_edit(model, prune, tmp.path() / "pruned");
    EXPECT_EQ(config_of(out)["num_local_experts"], 6);
    EXPECT_EQ(config_of(out).contains("quantization_config"), config_of(model.checkpoint.dir()).contains("quantization_config"));
    const std::vector<int> kept = {0, 2, 3, 4, 5, 7};
    const Checkpoint in = Checkpoint::open(model.checkpoint.dir());
    for (TensorRole role : {TensorRole::expert_gate_up, TensorRole::expert_down, TensorRole::expert_gate_up_bias,
                            TensorRole::expert_down_bias}) {
        const std::string name = tensor_name(spec, role, 1, -1, ExpertLayout::fused);
        for (const std::string& stored : {name, mxfp4_blocks_name(name), mxfp4_scales_name(name)}) {
            if (!in.find(stored)) continue;
            for (std::size_t j = 0; j < kept.size(); ++j)
                EXPECT_EQ(slab(out, stored, int(j)), slab(model.checkpoint.dir(), stored, kept[j])) << stored << " slab " << j;
        }
    }
    const std::string router_bias = tensor_name(spec, TensorRole::router_bias, 0);
    const auto bias_in = bf16_values(tensor_bytes(model.checkpoint.dir(), router_bias));
    const auto bias_out = bf16_values(tensor_bytes(out, router_bias));
    ASSERT_EQ(bias_out.size(), kept.size());
    for (std::size_t j = 0; j < kept.size(); ++j) EXPECT_EQ(bias_out[j], bias_in[size_t(kept[j])]);
    const Model back = open_model(out);
    EXPECT_EQ(run_logits(back, pattern_batch(model.description.vocab_size, 2, 12)).nll.size(), 24u);
}

TEST_P(FusedEdit, MergeWritesTheAverageInBf16) {
    const Model model = open_model(model_dir(GetParam()));
    MergeEdit merge;
    merge.align = false;
    for (int l : model.description.moe_layers) merge.groups[l] = {MergeGroup{{2, 5}, 2, {0.5, 0.5}}};
    TempDir tmp;
    const auto out = export_edit(model, merge, tmp.path() / "merged");
    EXPECT_FALSE(config_of(out).contains("quantization_config"));
    const Model back = open_model(out);
    EXPECT_EQ(back.description.num_experts[0], 7);
    // Expert 2 of the output (parts as the forward pass sees them) is the average of input 2 and 5.
    for (ExpertPart part : expert_parts(model)) {
        const auto a = load_expert_part_f32(model, 1, 2, part), b = load_expert_part_f32(model, 1, 5, part);
        const auto merged = load_expert_part_f32(back, 1, 2, part);
        ASSERT_EQ(merged.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            ASSERT_EQ(merged[i], bf16_bits_to_f32(f32_to_bf16_bits(0.f + 0.5f * a[i] + 0.5f * b[i]))) << int(part) << " [" << i << "]";
        // Output expert 4 is input expert 4, output 5 is input 6 (5 was folded into 2).
        EXPECT_EQ(load_expert_part_f32(back, 1, 5, part), load_expert_part_f32(model, 1, 6, part));
    }
    EXPECT_EQ(run_logits(back, pattern_batch(model.description.vocab_size, 2, 12)).nll.size(), 24u);
}

INSTANTIATE_TEST_SUITE_P(GptOss, FusedEdit, ::testing::Values("tiny-gpt-oss", "tiny-gpt-oss-bf16"), [](const auto& info) {
    std::string name = info.param;
    for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name;
});
