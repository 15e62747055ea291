// Edit plans: composition of edits, renumbering, and every refusal a config cannot express.
#include <gtest/gtest.h>

#include "editing_fixtures.h"
#include "switchyard/core/errors.h"
#include "switchyard/editing/edit_plan.h"

using namespace sy;
using namespace sy::test;

namespace {

std::string refusal(const Model& model, const std::vector<Edit>& edits) {
    NullProgress progress;
    CancelToken cancel;
    try {
        plan_edits(model, edits, progress, cancel);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(accepted)";
}

PruneEdit prune(ExpertsByLayer experts) {
    PruneEdit p;
    p.experts = std::move(experts);
    return p;
}

MergeEdit merge(std::map<int, std::vector<MergeGroup>> groups, bool align = false) {
    MergeEdit m;
    m.groups = std::move(groups);
    m.align = align;
    return m;
}

EditPlan plan(const Model& model, const std::vector<Edit>& edits) {
    NullProgress progress;
    CancelToken cancel;
    return plan_edits(model, edits, progress, cancel);
}

}  // namespace

TEST(EditPlan, PruneRenumbersSurvivorsInOrder) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    const EditPlan p = plan(model, {prune({{0, {1, 5}}, {1, {0, 7}}, {2, {3, 4}}, {3, {2, 6}}})});
    EXPECT_EQ(p.expert_count(), 6);
    std::vector<int> sources;
    for (const PlannedExpert& e : p.layer(0).experts) {
        EXPECT_TRUE(e.is_copy());
        sources.push_back(e.copy_source());
        EXPECT_EQ(e.router_source, e.copy_source());
    }
    EXPECT_EQ(sources, std::vector<int>({0, 2, 3, 4, 6, 7}));
    EXPECT_FALSE(p.layer(0).unchanged());
}

TEST(EditPlan, LaterEditsReferToTheEditedIndices) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    // After removing expert 0, index 0 is the original expert 1: merging 0+1 merges originals 1+2.
    std::map<int, std::vector<MergeGroup>> groups;
    for (int l = 0; l < 4; ++l) groups[l] = {MergeGroup{{0, 1}, 1, {0.25, 0.75}}};
    const EditPlan p = plan(model, {prune({{0, {0}}, {1, {0}}, {2, {0}}, {3, {0}}}), merge(groups)});
    EXPECT_EQ(p.expert_count(), 6);
    const PlannedExpert& merged = p.layer(2).experts[0];
    EXPECT_EQ(merged.origin, std::vector<int>({1, 2}));
    ASSERT_EQ(merged.terms.size(), 2u);
    EXPECT_EQ(merged.terms[0].expert, 1);
    EXPECT_DOUBLE_EQ(merged.terms[0].weight, 0.25);
    EXPECT_EQ(merged.terms[1].expert, 2);
    EXPECT_EQ(merged.home, 2);            // the dominant member's slot
    EXPECT_EQ(merged.router_source, 2);   // and its router row
}

TEST(EditPlan, DuplicateLayoutKeepsEverySlot) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    std::map<int, std::vector<MergeGroup>> groups{{0, {MergeGroup{{2, 3}, 2, {0.5, 0.5}}}}};
    MergeEdit m = merge(groups);
    m.layout = MergeLayout::duplicate;
    const EditPlan p = plan(model, {m});
    EXPECT_EQ(p.expert_count(), 8);
    EXPECT_EQ(p.layer(0).experts[2].terms.size(), 2u);
    EXPECT_EQ(p.layer(0).experts[3].terms.size(), 2u);
    EXPECT_EQ(p.layer(0).experts[3].router_source, 3);
    EXPECT_TRUE(p.layer(1).unchanged());
}

TEST(EditPlan, RefusesWhatAConfigCannotHold) {
    const Model model = open_model(model_dir("tiny-mixtral"));
    EXPECT_NE(refusal(model, {prune({{0, {1}}})}).find("one expert count"), std::string::npos);
    EXPECT_NE(refusal(model, {prune({{0, {9}}})}).find("experts 0..7, found 9"), std::string::npos);
    EXPECT_NE(refusal(model, {prune({{7, {1}}})}).find("not a MoE layer"), std::string::npos);
    ExpertsByLayer most;
    for (int l = 0; l < 4; ++l) most[l] = {0, 1, 2, 3, 4, 5, 6};
    EXPECT_NE(refusal(model, {prune(most)}).find("fewer than top_k"), std::string::npos);
    EXPECT_NE(refusal(model, {merge({{0, {MergeGroup{{1, 2}, 1, {1, 1}}, MergeGroup{{2, 3}, 2, {1, 1}}}}})}).find("more than one group"),
              std::string::npos);
    EXPECT_NE(refusal(model, {merge({{0, {MergeGroup{{1, 2}, 4, {1, 1}}}}})}).find("not a member"), std::string::npos);
    const Model dense = open_model(model_dir("tiny-llama"));
    EXPECT_NE(refusal(dense, {prune({{0, {1}}})}).find("dense model"), std::string::npos);
}

TEST(EditPlan, GroupLimitedRoutersKeepEqualGroups) {
    // tiny-deepseek-v3: 16 experts in 4 router groups of 4 (n_group), MoE layers 1 and 2.
    const Model model = open_model(model_dir("tiny-deepseek-v3"));
    EXPECT_NE(refusal(model, {prune({{1, {0, 1, 2, 3}}, {2, {0, 1, 2, 3}}})}).find("equal size"), std::string::npos);
    const EditPlan ok = plan(model, {prune({{1, {0, 4, 8, 12}}, {2, {1, 5, 9, 13}}})});
    EXPECT_EQ(ok.expert_count(), 12);
    // Merging across router groups unbalances them.
    EXPECT_NE(refusal(model, {merge({{1, {MergeGroup{{0, 4}, 0, {1, 1}}}}, {2, {MergeGroup{{0, 4}, 0, {1, 1}}}}})}).find("group"),
              std::string::npos);
}

TEST(EditPlan, MaskUsesTheSelectionBiasWhereTheRouterHasOne) {
    NullProgress progress;
    CancelToken cancel;
    const Model v3 = open_model(model_dir("tiny-deepseek-v3"));
    const EditPlan masked = plan(v3, {MaskEdit{{{1, {3}}}}});
    EXPECT_EQ(masked.expert_count(), 16);
    EXPECT_EQ(masked.layer(1).experts[3].bias_source, -1);
    EXPECT_EQ(masked.layer(1).experts[3].bias_value, mask_bias_value);
    EXPECT_TRUE(masked.notes.empty());
    const Model mixtral = open_model(model_dir("tiny-mixtral"));
    ExpertsByLayer one_each;
    for (int l = 0; l < 4; ++l) one_each[l] = {l};
    const EditPlan sliced = plan(mixtral, {MaskEdit{one_each}});
    EXPECT_EQ(sliced.expert_count(), 7);
    ASSERT_EQ(sliced.notes.size(), 1u);
    EXPECT_NE(sliced.notes[0].find("removed"), std::string::npos);
}
