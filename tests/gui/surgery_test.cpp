// The surgery loop through the window on the bundled model: prune two experts and merge two
// others in every MoE layer from the shared selection, preview the stack (per-layer output
// error, per-domain NLL, routing before / after in the Compare view), export it and load the
// result; cancel a preview; upcycle the bundled dense model.
#include <gtest/gtest.h>

#include <QFileInfo>

#include "compare_view.h"
#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_selection.h"
#include "gui/gui_test_util.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"

namespace sy::test {
namespace {

TEST(GuiSurgeryIntegration, PruneTwoMergeTwoPreviewExportAndLoad) {
    TempDir dir;
    gui::MainWindow window;
    ASSERT_TRUE(open_with_bundled_corpus(window));
    gui::EditStackPanel* panel = window.edit_panel();

    window.selection()->set(in_every_layer(window, {1, 6}));
    panel->prune_selection();
    ASSERT_EQ(window.edit_stack()->size(), 1) << window.last_error().toStdString();

    window.selection()->set(in_every_layer(window, {2, 4}));
    panel->set_merge_options(true, QStringLiteral("collapse"), QStringLiteral("dominant"), QStringLiteral("uniform"));
    bool added = false;
    QObject::connect(panel, &gui::EditStackPanel::entry_added, [&added]() { added = true; });
    panel->merge_selection();
    ASSERT_TRUE(wait_until([&]() { return added || !window.last_error().isEmpty(); }));
    ASSERT_EQ(window.edit_stack()->size(), 2) << window.last_error().toStdString();
    // The list names the experts as the views do; the recipe as the model is after the prune.
    EXPECT_TRUE(panel->list_text(1).contains(QStringLiteral("layer 0: 2+4"))) << panel->list_text(1).toStdString();
    const auto& merge = std::get<sy::MergeEdit>(window.edit_stack()->recipe().edits[1]);
    EXPECT_EQ(merge.groups.at(0).at(0).members, (std::vector<int>{1, 3}));

    const std::shared_ptr<const gui::Comparison> comparison = preview_and_wait(window, 512);
    ASSERT_TRUE(comparison) << window.last_error().toStdString();
    EXPECT_EQ(window.current_view(), window.compare_view());
    EXPECT_TRUE(window.compare_view()->has_data());
    ASSERT_TRUE(comparison->preview);
    const sy::PreviewResult& preview = *comparison->preview;
    for (double error : preview.relative_error) EXPECT_GT(error, 0.0);   // every layer lost experts
    EXPECT_EQ(comparison->summary->experts_after, 5);
    for (const auto& layer : comparison->compare.layers) EXPECT_LT(layer.topk_overlap, 1.0);
    // The routing traces and the preview's eval saw the same tokens and models: the same loss.
    EXPECT_EQ(comparison->compare.all.tokens, preview.after.all.tokens);
    EXPECT_NEAR(comparison->compare.all.mean_nll_a, preview.before.all.mean_nll, 1e-4);
    EXPECT_NEAR(comparison->compare.all.mean_nll_b, preview.after.all.mean_nll, 1e-4);
    EXPECT_GT(window.compare_view()->changed_rows(), 0);

    const QString output = q(dir.path() / "edited");
    ASSERT_EQ(export_and_wait(window, output), output) << window.last_error().toStdString();
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard apply ") + output + QStringLiteral(".recipe.json -o ") + output));
    EXPECT_TRUE(QFileInfo::exists(output + QStringLiteral("/switchyard-edit.json")));

    // The exported model loads, has 5 experts per layer and computes what the preview showed.
    const sy::Model edited = sy::open_model(output.toStdString());
    for (int64_t experts : edited.description.num_experts) EXPECT_EQ(experts, 5);
    sy::EvalOptions eval;
    eval.corpus = window.run_panel()->corpus(512);
    sy::NullProgress progress;
    sy::CancelToken cancel;
    const sy::EvalResult result = sy::run_eval(edited, eval, progress, cancel);
    EXPECT_NEAR(result.all.mean_nll, preview.after.all.mean_nll, 1e-4);
    // The window can open what it wrote.
    ASSERT_TRUE(open_model_and_wait(window, output));
    EXPECT_EQ(window.model()->description.num_experts.front(), 5);
}

TEST(GuiSurgeryIntegration, CancelAPreview) {
    gui::MainWindow window;
    ASSERT_TRUE(open_with_bundled_corpus(window));
    gui::EditStackPanel* panel = window.edit_panel();
    window.selection()->set(in_every_layer(window, {0}));
    panel->prune_selection();
    ASSERT_EQ(window.edit_stack()->size(), 1) << window.last_error().toStdString();
    bool cancelled = false, ready = false;
    QObject::connect(panel, &gui::EditStackPanel::cancelled, [&cancelled]() { cancelled = true; });
    QObject::connect(panel, &gui::EditStackPanel::comparison_ready, [&ready]() { ready = true; });
    panel->set_preview_tokens(1 << 20);   // the whole corpus: many batches
    panel->preview();
    ASSERT_TRUE(panel->busy());
    // Cancel once the preview is under way (a progress report came back).
    ASSERT_TRUE(wait_until([&]() { return panel->job_fraction() > 0 || ready || !window.last_error().isEmpty(); }));
    ASSERT_FALSE(ready) << "the preview ended before it could be cancelled";
    panel->cancel_job();
    ASSERT_TRUE(wait_until([&]() { return cancelled || ready || !window.last_error().isEmpty(); }));
    EXPECT_TRUE(cancelled) << window.last_error().toStdString();
    EXPECT_FALSE(ready);
    EXPECT_FALSE(panel->busy());
    EXPECT_EQ(window.compare_view()->comparison(), nullptr);
    // The panel works again after a cancel.
    panel->set_preview_tokens(256);
    panel->preview();
    ASSERT_TRUE(wait_until([&]() { return ready || !window.last_error().isEmpty(); }));
    EXPECT_TRUE(ready) << window.last_error().toStdString();
}

TEST(GuiSurgeryIntegration, UpcyclesTheBundledDenseModel) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window, q(examples_dir() / "tiny-llama")));
    gui::EditStackPanel* panel = window.edit_panel();
    panel->add_upcycle();
    ASSERT_EQ(window.edit_stack()->size(), 1) << window.last_error().toStdString();
    EXPECT_TRUE(panel->list_text(0).contains(QStringLiteral("upcycle"))) << panel->list_text(0).toStdString();
    // A dense model has no experts to prune: the stack says why.
    window.selection()->set({{0, {0}}});
    panel->prune_selection();
    EXPECT_FALSE(window.last_error().isEmpty());
    const QString output = q(dir.path() / "moe");
    QString exported;
    QObject::connect(panel, &gui::EditStackPanel::exported, [&exported](const QString& path) { exported = path; });
    panel->export_model({output, QStringLiteral("keep"), QStringLiteral("5GB"), false});
    ASSERT_TRUE(wait_until([&]() { return !exported.isEmpty(); }, 120000)) << window.last_error().toStdString();
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard apply ") + output + QStringLiteral(".recipe.json -o ") + output));
    const sy::Model moe = sy::open_model(output.toStdString());
    EXPECT_FALSE(moe.description.moe_layers.empty());
    EXPECT_EQ(moe.description.num_experts.front(), 8);
    EXPECT_EQ(moe.description.top_k, 2);
}

}  // namespace
}  // namespace sy::test
