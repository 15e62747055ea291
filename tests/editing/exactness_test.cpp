// Exactness properties of edits (editing.md §2.7, §7): removing experts that are never chosen
// leaves a renormalising router's outputs bit-identical (prune, and the equivalent inference
// mask); the preview's edited model computes what the exported checkpoint computes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "editing_fixtures.h"
#include "switchyard/compute/edit_preview.h"
#include "switchyard/editing/edit_export.h"
#include "switchyard/editing/plan_patch.h"

using namespace sy;
using namespace sy::test;

namespace {

// Per MoE layer, which experts the batch never chooses, and (group-limited routers) which
// never rank among the two best selection scores of their group either (group scores are the
// sum of the two best, so such an expert never influences the choice of groups).
class DeadExperts final : public RoutingObserver {
public:
    explicit DeadExperts(const ModelDescription& d) : m_d(d) {}
    void on_layer_routing(const LayerRouting& r) override {
        std::set<int>& used = m_used[r.layer];
        for (int64_t i = 0; i < r.tokens * r.top_k; ++i) used.insert(int(r.topk_ids[i]));
        if (!(m_d.family->uses_expert_groups() && m_d.n_group > 1)) return;
        const int64_t size = r.experts / m_d.n_group;
        for (int64_t t = 0; t < r.tokens; ++t)
            for (int64_t g = 0; g < m_d.n_group; ++g) {
                std::vector<std::pair<float, int>> scores;
                for (int64_t e = g * size; e < (g + 1) * size; ++e) scores.push_back({r.selection_scores[t * r.experts + e], int(e)});
                std::sort(scores.rbegin(), scores.rend());
                used.insert(scores[0].second);
                used.insert(scores[1].second);
            }
    }
    // One unused expert per router group in every MoE layer.
    ExpertsByLayer pick() const {
        ExpertsByLayer out;
        const int64_t groups = m_d.family->uses_expert_groups() && m_d.n_group > 1 ? m_d.n_group : 1;
        for (std::size_t i = 0; i < m_d.moe_layers.size(); ++i) {
            const int layer = m_d.moe_layers[i];
            const int64_t size = m_d.num_experts[i] / groups;
            for (int64_t g = 0; g < groups; ++g)
                for (int64_t e = g * size; e < (g + 1) * size; ++e)
                    if (!m_used.count(layer) || !m_used.at(layer).count(int(e))) {
                        out[layer].push_back(int(e));
                        break;
                    }
        }
        return out;
    }

private:
    const ModelDescription& m_d;
    std::map<int, std::set<int>> m_used;
};

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct DeadCase {
    std::string model;
    int tokens;   // few enough that an expert stays unused in every router group
};

class DeadExpertPrune : public ::testing::TestWithParam<DeadCase> {};

}  // namespace

TEST_P(DeadExpertPrune, LeavesLogitsBitIdentical) {
    const Model model = open_model(model_dir(GetParam().model));
    const ModelDescription& d = model.description;
    const Batch batch = pattern_batch(d.vocab_size, 1, GetParam().tokens);
    DeadExperts dead(d);
    ModelRunner runner(model, {});
    const BatchOutput before = runner.run(batch, &dead, true);
    const ExpertsByLayer removed = dead.pick();
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i)
        ASSERT_EQ(removed.count(d.moe_layers[i]) ? int64_t(removed.at(d.moe_layers[i]).size()) : 0,
                  d.family->uses_expert_groups() && d.n_group > 1 ? d.n_group : 1)
            << "the batch must leave an expert unused in every router group of layer " << d.moe_layers[i];
    // The inference-time mask of those experts changes nothing either.
    RunnerOptions masked;
    masked.masked_experts = removed;
    EXPECT_TRUE(bitwise_equal(run_logits(model, batch, masked).logits, before.logits));

    TempDir tmp;
    PruneEdit prune;
    prune.experts = removed;
    NullProgress progress;
    CancelToken cancel;
    ExportOptions options;
    options.output_dir = tmp.path() / "pruned";
    export_edited(model, plan_edits(model, {prune}, progress, cancel), options, EditRecord{}, progress, cancel);
    const Model pruned = open_model(options.output_dir);
    EXPECT_TRUE(bitwise_equal(run_logits(pruned, batch).logits, before.logits));
}

// Mixtral always renormalises; Qwen3-MoE and DeepSeek-V3 fixtures have norm_topk_prob true.
INSTANTIATE_TEST_SUITE_P(RenormalisingFamilies, DeadExpertPrune,
                         ::testing::Values(DeadCase{"tiny-mixtral", 6}, DeadCase{"tiny-qwen3-moe", 6},
                                           DeadCase{"tiny-deepseek-v3", 2}),
                         [](const auto& info) {
                             std::string name = info.param.model;
                             for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return name;
                         });

TEST(EditPreview, EditedModelComputesWhatTheExportComputes) {
    // A merge (fitted router row) and a prune, previewed in memory and exported: the preview's
    // "after" loss is the exported model's loss.
    const Model model = open_model(model_dir("tiny-mixtral"));
    MergeEdit merge;
    merge.router = MergeRouter::fitted;
    PruneEdit prune;
    for (int l : model.description.moe_layers) {
        merge.groups[l] = {MergeGroup{{1, 2}, 2, {0.4, 0.6}}};
        merge.router_rows[l] = {std::vector<float>(size_t(model.description.hidden_size), 0.01f * float(l + 1))};
        prune.experts[l] = {5};   // index 5 after the merge: original expert 6
    }
    NullProgress progress;
    CancelToken cancel;
    const EditPlan plan = plan_edits(model, {merge, prune}, progress, cancel);
    EvalOptions eval;
    eval.corpus.data = {corpus("valid-sample.jsonl")};
    eval.corpus.max_tokens = 2048;
    const PlanPatch patch = patch_for_plan(model, plan, ExportDType::keep);
    const PreviewResult preview = run_edit_preview(model, patch.masks, patch.patch, eval, progress, cancel);
    TempDir tmp;
    ExportOptions options;
    options.output_dir = tmp.path() / "edited";
    export_edited(model, plan, options, EditRecord{}, progress, cancel);
    const Model edited = open_model(options.output_dir);
    const EvalResult exported = run_eval(edited, eval, progress, cancel);
    const EvalResult original = run_eval(model, eval, progress, cancel);
    EXPECT_EQ(preview.after.all.tokens, exported.all.tokens);
    EXPECT_NEAR(preview.after.all.mean_nll, exported.all.mean_nll, 1e-6);
    EXPECT_NEAR(preview.before.all.mean_nll, original.all.mean_nll, 1e-9);
    EXPECT_GT(preview.after.all.mean_nll, preview.before.all.mean_nll);
    ASSERT_EQ(preview.relative_error.size(), 4u);
    for (double e : preview.relative_error) EXPECT_GT(e, 0.0);
}

TEST(EditPreview, NonRenormalisingRouterReportsTheChange) {
    // Qwen2-MoE (norm_topk_prob false): slicing a row rescales every surviving gate by
    // 1 / (1 - p_removed), so even an unused expert's removal changes the outputs a little.
    const Model model = open_model(model_dir("tiny-qwen2-moe"));
    PruneEdit prune;
    for (int l : model.description.moe_layers) prune.experts[l] = {7};
    NullProgress progress;
    CancelToken cancel;
    const EditPlan plan = plan_edits(model, {prune}, progress, cancel);
    EvalOptions eval;
    eval.corpus.data = {corpus("valid-sample.jsonl")};
    eval.corpus.max_tokens = 512;
    const PlanPatch patch = patch_for_plan(model, plan, ExportDType::keep);
    const PreviewResult preview = run_edit_preview(model, patch.masks, patch.patch, eval, progress, cancel);
    for (double e : preview.relative_error) {
        EXPECT_GT(e, 0.0);
        EXPECT_TRUE(std::isfinite(e));
    }
    EXPECT_NE(preview.after.all.mean_nll, preview.before.all.mean_nll);
}
