// Prune and merge exports on every MoE fixture family (per-expert and fused layouts, BF16 and
// FP8): config count, tensor set, kept tensors byte-identical, merged values, loads back.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "editing_fixtures.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/edit_export.h"

using namespace sy;
using namespace sy::test;

namespace {

struct Exported {
    TempDir tmp;
    std::filesystem::path reference() const { return tmp.path() / "reference"; }
    std::filesystem::path edited() const { return tmp.path() / "edited"; }
};

// The input in Hub layout (identity export), so fused inputs compare name by name too.
void export_reference(const Model& model, const std::filesystem::path& out) {
    ExportOptions options;
    options.output_dir = out;
    NullProgress progress;
    CancelToken cancel;
    export_checkpoint(model, options, progress, cancel);
}

void export_edit(const Model& model, const Edit& edit, const std::filesystem::path& out, ExportDType dtype = ExportDType::keep) {
    NullProgress progress;
    CancelToken cancel;
    const EditPlan plan = plan_edits(model, {edit}, progress, cancel);
    ExportOptions options;
    options.output_dir = out;
    options.dtype = dtype;
    EditRecord record;
    record.command_line = "test";
    record.edits = {edit};
    export_edited(model, plan, options, record, progress, cancel);
}

int64_t router_groups(const ModelDescription& d) { return d.family->uses_expert_groups() && d.n_group > 1 ? d.n_group : 1; }

std::set<std::string> names(const std::filesystem::path& dir) {
    std::set<std::string> out;
    const Checkpoint checkpoint = Checkpoint::open(dir);   // tensors() refers into it
    for (const TensorInfo& t : checkpoint.tensors()) out.insert(t.name);
    return out;
}

nlohmann::json config(const std::filesystem::path& dir) {
    std::ifstream in(dir / "config.json");
    return nlohmann::json::parse(in);
}

// Output expert j of a layer came from input expert kept[j]: every part (and FP8 scale) equal.
void expect_experts_copied(const FamilySpec& spec, int layer, const std::vector<int>& kept, const std::filesystem::path& ref,
                           const std::filesystem::path& out) {
    const std::set<std::string> ref_names = names(ref);
    for (std::size_t j = 0; j < kept.size(); ++j)
        for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
            const std::string to = tensor_name(spec, role, layer, int(j)), from = tensor_name(spec, role, layer, kept[j]);
            EXPECT_EQ(tensor_bytes(out, to), tensor_bytes(ref, from)) << to << " <- " << from;
            if (ref_names.count(scale_inv_name(from))) {
                EXPECT_EQ(tensor_bytes(out, scale_inv_name(to)), tensor_bytes(ref, scale_inv_name(from))) << to;
            }
        }
}

class EditedExport : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(EditedExport, PruneKeepsEveryOtherTensorByteIdentical) {
    const Model model = open_model(model_dir(GetParam()));
    const ModelDescription& d = model.description;
    const FamilySpec& spec = *d.family;
    const int64_t experts = d.num_experts[0], groups = router_groups(d);
    PruneEdit prune;
    std::vector<int> kept;
    for (int e = 0; e < experts; ++e)
        if (e % (experts / groups) != 1) kept.push_back(e);
    for (int layer : d.moe_layers)
        for (int64_t g = 0; g < groups; ++g) prune.experts[layer].push_back(int(g * (experts / groups) + 1));
    Exported x;
    export_reference(model, x.reference());
    export_edit(model, prune, x.edited());

    EXPECT_EQ(config(x.edited())[std::string(spec.expert_count_key)], experts - groups);
    // Tensor set: the reference's minus the last `groups` experts of every MoE layer.
    std::set<std::string> expected = names(x.reference());
    for (int layer : d.moe_layers)
        for (int64_t e = experts - groups; e < experts; ++e)
            for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
                expected.erase(tensor_name(spec, role, layer, int(e)));
                expected.erase(scale_inv_name(tensor_name(spec, role, layer, int(e))));
            }
    EXPECT_EQ(names(x.edited()), expected);
    // Everything outside the MoE layers' routers and experts is byte-identical.
    for (const std::string& name : expected) {
        if (name.find(".experts.") != std::string::npos || name.find("gate.weight") != std::string::npos ||
            name.find("e_score_correction_bias") != std::string::npos)
            continue;
        EXPECT_EQ(tensor_bytes(x.edited(), name), tensor_bytes(x.reference(), name)) << name;
    }
    for (int layer : d.moe_layers) {
        expect_experts_copied(spec, layer, kept, x.reference(), x.edited());
        // Router rows (and correction-bias entries) are the kept experts' rows, byte for byte.
        const std::string router = tensor_name(spec, TensorRole::router, layer);
        const auto in = tensor_bytes(x.reference(), router), out = tensor_bytes(x.edited(), router);
        const std::size_t row = in.size() / std::size_t(experts);
        ASSERT_EQ(out.size(), row * kept.size());
        for (std::size_t j = 0; j < kept.size(); ++j)
            EXPECT_TRUE(std::equal(out.begin() + long(j * row), out.begin() + long((j + 1) * row), in.begin() + long(size_t(kept[j]) * row)))
                << router << " row " << j;
        if (spec.has_router_score_bias()) {
            const std::string bias = tensor_name(spec, TensorRole::router_score_bias, layer);
            const auto bin = tensor_bytes(x.reference(), bias), bout = tensor_bytes(x.edited(), bias);
            const std::size_t w = bin.size() / std::size_t(experts);
            for (std::size_t j = 0; j < kept.size(); ++j)
                EXPECT_TRUE(std::equal(bout.begin() + long(j * w), bout.begin() + long((j + 1) * w), bin.begin() + long(size_t(kept[j]) * w)));
        }
    }
    // The edited model opens, validates and runs.
    const Model back = open_model(x.edited());
    EXPECT_EQ(back.description.num_experts[0], experts - groups);
    const BatchOutput out = run_logits(back, pattern_batch(d.vocab_size, 2, 16));
    EXPECT_EQ(out.nll.size(), 32u);
    // The provenance record names the source and the expert map.
    std::ifstream record_file(x.edited() / "switchyard-edit.json");
    const auto record = nlohmann::json::parse(record_file);
    EXPECT_EQ(record["format"], "switchyard-edit");
    EXPECT_EQ(record["edits"][0]["op"], "prune");
    EXPECT_EQ(record["expert_map"][std::to_string(d.moe_layers[0])].size(), kept.size());
    EXPECT_EQ(record["expert_map"][std::to_string(d.moe_layers[0])][1][0], kept[1]);
}

TEST_P(EditedExport, MergeWritesTheWeightedAverage) {
    const Model model = open_model(model_dir(GetParam()));
    const ModelDescription& d = model.description;
    const FamilySpec& spec = *d.family;
    const int64_t experts = d.num_experts[0], groups = router_groups(d), size = experts / groups;
    MergeEdit merge;
    merge.align = false;
    for (int layer : d.moe_layers)
        for (int64_t g = 0; g < groups; ++g)
            merge.groups[layer].push_back(MergeGroup{{int(g * size), int(g * size + 1)}, int(g * size), {0.75, 0.25}});
    Exported x;
    export_reference(model, x.reference());
    export_edit(model, merge, x.edited());
    EXPECT_EQ(config(x.edited())[std::string(spec.expert_count_key)], experts - groups);
    const Model back = open_model(x.edited());
    const int layer = d.moe_layers.back();
    const bool fp8 = Checkpoint::open(x.reference()).at(tensor_name(spec, TensorRole::expert_down, layer, 0)).dtype == DType::f8_e4m3;
    for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_down}) {
        const std::string merged = tensor_name(spec, role, layer, 0);
        EXPECT_EQ(back.checkpoint.at(merged).dtype, fp8 ? DType::f8_e4m3 : DType::bf16) << merged;
        if (fp8) {
            EXPECT_NE(back.checkpoint.find(scale_inv_name(merged)), nullptr) << "merged FP8 experts carry new block scales";
            continue;   // FP8 values: covered by the FP8 quantisation test
        }
        const auto a = bf16_values(tensor_bytes(x.reference(), tensor_name(spec, role, layer, 0)));
        const auto b = bf16_values(tensor_bytes(x.reference(), tensor_name(spec, role, layer, 1)));
        const auto out = bf16_values(tensor_bytes(x.edited(), merged));
        ASSERT_EQ(out.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            ASSERT_EQ(out[i], bf16_bits_to_f32(f32_to_bf16_bits(0.f + 0.75f * a[i] + 0.25f * b[i]))) << merged << " [" << i << "]";
    }
    // Expert 1 of the output is input expert 2 (the second of the group was folded away).
    EXPECT_EQ(tensor_bytes(x.edited(), tensor_name(spec, TensorRole::expert_up, layer, 1)),
              tensor_bytes(x.reference(), tensor_name(spec, TensorRole::expert_up, layer, 2)));
    EXPECT_EQ(run_logits(back, pattern_batch(d.vocab_size, 2, 16)).nll.size(), 32u);
}

// switchyard-edit.json's `tensors` against the input and output files themselves (docs/recipes.md
// "Edit record"): every output tensor not under `changed` is the input's bytes under its name or
// its `renamed` source, or is listed under `converted` (another dtype, or per-expert slices of a
// fused input); every input tensor the output lacks is under `removed`, and nothing else is.
TEST_P(EditedExport, RecordAccountsForEveryTensor) {
    const std::filesystem::path input = model_dir(GetParam());
    const Model model = open_model(input);
    const ModelDescription& d = model.description;
    const int64_t experts = d.num_experts[0], groups = router_groups(d);
    PruneEdit prune;
    for (int layer : d.moe_layers)
        for (int64_t g = 0; g < groups; ++g) prune.experts[layer].push_back(int(g * (experts / groups) + 1));
    for (const ExportDType dtype : {ExportDType::keep, ExportDType::f32}) {
        Exported x;
        export_edit(model, prune, x.edited(), dtype);
        std::ifstream record_file(x.edited() / "switchyard-edit.json");
        const auto tensors = nlohmann::json::parse(record_file)["tensors"];
        std::set<std::string> changed, converted, removed;
        std::map<std::string, std::string> renamed;
        for (const auto& t : tensors["changed"]) changed.insert(t["name"].get<std::string>());
        for (const auto& t : tensors["renamed"]) renamed[t["name"].get<std::string>()] = t["from"].get<std::string>();
        for (const auto& t : tensors["removed"]) removed.insert(t.get<std::string>());
        const Checkpoint in = Checkpoint::open(input), out = Checkpoint::open(x.edited());
        for (const auto& t : tensors["converted"]) {
            const std::string name = t["name"], from = t["from"];
            converted.insert(name);
            ASSERT_NE(in.find(from), nullptr) << name << " <- " << from;
            EXPECT_EQ(t["dtype"], std::string(dtype_name(out.at(name).dtype))) << name;
            // Kept as stored, only a fused input tensor (gone from the output, written per
            // expert) is converted; a copied tensor listed here would be a wrong record.
            if (dtype == ExportDType::keep) EXPECT_EQ(removed.count(from), 1u) << name << " <- " << from;
            // A BF16 tensor widened to F32 holds exactly the input's values.
            if (name == from && in.at(from).dtype == DType::bf16 && out.at(name).dtype == DType::f32) {
                const std::vector<float> widened = bf16_values(tensor_bytes(input, from));
                const std::vector<unsigned char> bytes = tensor_bytes(x.edited(), name);
                ASSERT_EQ(bytes.size(), widened.size() * sizeof(float)) << name;
                EXPECT_EQ(std::memcmp(bytes.data(), widened.data(), bytes.size()), 0) << name;
            }
        }
        if (dtype == ExportDType::f32) EXPECT_FALSE(converted.empty());
        const std::set<std::string> output_names = names(x.edited());
        for (const std::string& name : output_names) {
            if (changed.count(name) || converted.count(name)) continue;
            const auto from = renamed.find(name);
            const std::string source = from == renamed.end() ? name : from->second;
            ASSERT_NE(in.find(source), nullptr) << name << ": neither changed, converted nor an input tensor";
            EXPECT_EQ(tensor_bytes(x.edited(), name), tensor_bytes(input, source)) << name << " <- " << source;
        }
        std::set<std::string> absent;
        for (const TensorInfo& t : in.tensors())
            if (!output_names.count(t.name)) absent.insert(t.name);
        EXPECT_EQ(removed, absent);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, EditedExport, ::testing::ValuesIn(moe_fixtures()),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return name;
                         });
