// patch_for_trained (expert_training.h): the trained model as a ModelPatch computes exactly what
// the exported model computes (trained values rounded as the export stores them), and trained
// roles the patch does not cover are refused by name. patch_for_plan_then_trained (plan_patch.h):
// the same for a training entry after prune / merge entries, on the original model's numbering.
#include <gtest/gtest.h>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/editing/edit_plan.h"
#include "switchyard/editing/expert_training.h"
#include "switchyard/editing/plan_patch.h"

namespace sy {
namespace {

using test::TempDir;

EvalOptions sample(int64_t tokens) {
    EvalOptions eval;
    eval.corpus.data = {test::corpus("valid-sample.jsonl")};
    eval.corpus.seq_len = 64;
    eval.corpus.max_tokens = tokens;
    return eval;
}

// `experts` (layer, expert) and every router, three steps on json.
TuneOptions small_tune(const decltype(TuneOptions::experts)& experts) {
    TuneOptions o;
    o.data = {test::corpus("train-json.jsonl")};
    o.select = TuneOptions::Select::listed;
    o.experts = experts;
    o.train_routers = true;
    o.training.steps = 3;
    o.training.lr = 1e-3;
    o.training.seq_len = 64;
    o.training.batch_tokens = 512;
    o.training.max_tokens = 4096;
    o.training.eval_data = {test::corpus("valid-sample.jsonl")};
    return o;
}

// Two experts and every router train a few steps; exported as bf16 (the trained f32 values are
// rounded), the export's NLL and the patched forward's agree per domain.
TEST(TrainedPatchIntegration, PatchedForwardEqualsTheExportedModel) {
    TempDir dir;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    SurgeryPlan plan = plan_tune(model, small_tune({{0, 1}, {2, 5}}), progress, cancel);
    const TrainingResult result = run_training(model, plan.training, progress, cancel);

    ExportOptions options;
    options.output_dir = dir.path() / "tuned";
    options.dtype = ExportDType::bf16;
    export_trained(model, plan, result, options, progress, cancel);
    const Model exported = open_model(options.output_dir);

    const std::shared_ptr<const ModelPatch> patch = patch_for_trained(model, result, ExportDType::bf16);
    ASSERT_EQ(patch->layers.size(), model.description.num_experts.size());   // every MoE layer's router
    EXPECT_EQ(patch->layers.at(0).replaced_experts, std::vector<int>{1});
    EXPECT_EQ(patch->layers.at(2).replaced_experts, std::vector<int>{5});

    // The original model's stored dtypes rounded to bf16 too, so the untouched tensors match.
    EvalOptions patched = sample(2048), plain = sample(2048);
    patched.runner.patch = patch;
    const Model bf16 = [&]() {
        ExportOptions b;
        b.output_dir = dir.path() / "bf16";
        b.dtype = ExportDType::bf16;
        export_checkpoint(model, b, progress, cancel);
        return open_model(b.output_dir);
    }();
    const EvalResult want = run_eval(exported, plain, progress, cancel);
    const EvalResult got = run_eval(bf16, patched, progress, cancel);
    ASSERT_GT(want.all.tokens, 0);
    EXPECT_EQ(got.all.tokens, want.all.tokens);
    EXPECT_NEAR(got.all.mean_nll, want.all.mean_nll, 1e-6);
    for (const auto& [domain, stats] : want.domains) EXPECT_NEAR(got.domains.at(domain).mean_nll, stats.mean_nll, 1e-6) << domain;
    // And the training did change the model.
    const EvalResult base = run_eval(bf16, plain, progress, cancel);
    EXPECT_NE(base.all.mean_nll, got.all.mean_nll);
}

// Prune and merge entries, then a tune entry that trains the model they leave (two experts that
// moved, one of them the merged one, and every router), exported as f32 from BF16: the patch on
// the original model holds, at each home slot, exactly the values the export wrote (the merged
// expert it did not train rounded to BF16 by the prefix export first), and computes the exported
// model's NLL.
TEST(TrainedPatchIntegration, AfterStructuralEntriesEqualsTheExportedStack) {
    TempDir dir;
    NullProgress progress;
    CancelToken cancel;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    Recipe structural;
    structural.edits.push_back(PruneEdit{{{0, {2}}, {1, {6}}}});
    MergeEdit merge;
    merge.groups[2] = {MergeGroup{{3, 4}, 3, {0.5, 0.5}}};
    merge.groups[3] = {MergeGroup{{0, 5}, 5, {0.7, 0.3}}};
    merge.align = false;
    structural.edits.push_back(merge);
    const Model edited = export_structural_prefix(model, structural, dir.path() / "edited", "test", progress, cancel);
    const EditPlan plan = plan_edits(model, structural.edits, progress, cancel);

    // Layer 0: expert 6 of the original; layer 2: the merged 3+4.
    SurgeryPlan tune = plan_tune(edited, small_tune({{0, 5}, {2, 3}}), progress, cancel);
    const TrainingResult result = run_training(edited, tune.training, progress, cancel);
    ExportOptions options;
    options.output_dir = dir.path() / "tuned";
    options.dtype = ExportDType::f32;
    export_trained(edited, tune, result, options, progress, cancel);
    const Model exported = open_model(options.output_dir);

    const PlanPatch patch = patch_for_plan_then_trained(model, plan, edited, result, ExportDType::f32);
    EXPECT_EQ(patch.masks.at(0), std::vector<int>{2});
    EXPECT_EQ(patch.masks.at(1), std::vector<int>{6});
    EXPECT_EQ(patch.masks.at(2), std::vector<int>{4});
    EXPECT_EQ(patch.masks.at(3), std::vector<int>{0});
    const int64_t h = model.description.hidden_size;
    for (const LayerPlan& layer : plan.layers) {
        const LayerPatch& lp = patch.patch->layers.at(layer.layer);
        const std::vector<float> router = load_router_f32(exported, layer.layer);
        for (std::size_t j = 0; j < layer.experts.size(); ++j) {
            const int home = layer.experts[j].home;
            const std::vector<float> want(router.begin() + static_cast<int64_t>(j) * h, router.begin() + static_cast<int64_t>(j + 1) * h);
            EXPECT_EQ(lp.router_rows.at(home), want) << "layer " << layer.layer << " router row of expert " << j;
            const bool replaced = std::find(lp.replaced_experts.begin(), lp.replaced_experts.end(), home) != lp.replaced_experts.end();
            const ExpertTensorsF32 stored = load_expert_f32(exported, layer.layer, static_cast<int>(j));
            const ExpertTensorsF32 got = replaced ? patch.patch->expert_weights(layer.layer, home) : load_expert_f32(model, layer.layer, home);
            EXPECT_EQ(got.gate, stored.gate) << "layer " << layer.layer << " expert " << j << " (slot " << home << ")";
            EXPECT_EQ(got.up, stored.up) << "layer " << layer.layer << " expert " << j;
            EXPECT_EQ(got.down, stored.down) << "layer " << layer.layer << " expert " << j;
        }
    }
    // The moved trained experts and the merged ones are patched in at their slots.
    const auto& replaced = [&](int layer) { return patch.patch->layers.at(layer).replaced_experts; };
    EXPECT_NE(std::find(replaced(0).begin(), replaced(0).end(), 6), replaced(0).end());
    EXPECT_NE(std::find(replaced(2).begin(), replaced(2).end(), 3), replaced(2).end());
    EXPECT_NE(std::find(replaced(3).begin(), replaced(3).end(), 5), replaced(3).end());

    EvalOptions patched = sample(2048), plain = sample(2048);
    patched.runner.patch = patch.patch;
    patched.runner.masked_experts = patch.masks;
    const EvalResult want = run_eval(exported, plain, progress, cancel);
    const EvalResult got = run_eval(model, patched, progress, cancel);
    ASSERT_GT(want.all.tokens, 0);
    EXPECT_EQ(got.all.tokens, want.all.tokens);
    EXPECT_NEAR(got.all.mean_nll, want.all.mean_nll, 1e-6);
    for (const auto& [domain, stats] : want.domains) EXPECT_NEAR(got.domains.at(domain).mean_nll, stats.mean_nll, 1e-6) << domain;
    // The training changed the model the entries left.
    EXPECT_NE(run_eval(edited, plain, progress, cancel).all.mean_nll, want.all.mean_nll);
}

TEST(TrainedPatch, RefusesRolesItDoesNotPatch) {
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    const int64_t h = model.description.hidden_size, i = model.description.expert_intermediate_size;
    TrainingResult partial;
    partial.tensors.push_back({ParameterRef{TensorRole::expert_gate, 0, 1}, {i, h}, std::vector<float>(static_cast<std::size_t>(i * h))});
    try {
        patch_for_trained(model, partial, ExportDType::keep);
        FAIL() << "a lone gate was accepted";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("layer 0 expert 1"), std::string::npos) << e.what();
    }
    TrainingResult attention;
    attention.tensors.push_back({ParameterRef{TensorRole::attn_q, 0, -1}, {h, h}, std::vector<float>(static_cast<std::size_t>(h * h))});
    EXPECT_THROW(patch_for_trained(model, attention, ExportDType::keep), UsageError);
}

}  // namespace
}  // namespace sy
