// patch_for_trained (expert_training.h): the trained model as a ModelPatch computes exactly what
// the exported model computes (trained values rounded as the export stores them), and trained
// roles the patch does not cover are refused by name.
#include <gtest/gtest.h>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/editing/expert_training.h"

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

// Two experts and every router train a few steps; exported as bf16 (the trained f32 values are
// rounded), the export's NLL and the patched forward's agree per domain.
TEST(TrainedPatchIntegration, PatchedForwardEqualsTheExportedModel) {
    TempDir dir;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    TuneOptions o;
    o.data = {test::corpus("train-json.jsonl")};
    o.select = TuneOptions::Select::listed;
    o.experts = {{0, 1}, {2, 5}};
    o.train_routers = true;
    o.training.steps = 3;
    o.training.lr = 1e-3;
    o.training.seq_len = 64;
    o.training.batch_tokens = 512;
    o.training.max_tokens = 4096;
    o.training.eval_data = {test::corpus("valid-sample.jsonl")};
    NullProgress progress;
    CancelToken cancel;
    SurgeryPlan plan = plan_tune(model, o, progress, cancel);
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
