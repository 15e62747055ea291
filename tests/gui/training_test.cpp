// Training entries in the edit stack (training_panel.h): a tune entry trained through the window
// fills its loss curve while the run is still going, is added with the learning rate and steps
// it used, saves and opens again as the same recipe, and the window's export writes the same
// safetensors bytes as `switchyard apply` of the saved recipe; its preview shows what the export
// computes, also after other entries (at the slots those leave); Cancel stops a run and adds nothing.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <QPushButton>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compare_view.h"
#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_selection.h"
#include "cli/checkpoint_compare.h"
#include "gui/gui_test_util.h"
#include "training_panel.h"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A small tune of two selected experts on the bundled corpus.
void configure_tune(gui::TrainingPanel* panel, int steps) {
    panel->set_mode(QStringLiteral("tune"));
    panel->set_data(q(data_dir() / "corpus" / "valid-mixed.jsonl"));
    panel->set_expert_choice(QStringLiteral("selected"));
    panel->set_steps(steps);
    panel->set_lr(1e-3);
    panel->set_batch(256, 64, 4096, 3);
}

TEST(GuiTrainingIntegration, TuneEntryTrainsLiveExportsAsApplyAndRoundTrips) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    gui::EditStackPanel* panel = window.edit_panel();
    gui::TrainingPanel* training = panel->training_panel();
    configure_tune(training, 6);
    window.selection()->set({{0, {1}}, {2, {5}}});
    bool added = false, live = false;
    QObject::connect(panel, &gui::EditStackPanel::entry_added, [&added]() { added = true; });
    panel->train_entry();
    ASSERT_TRUE(wait_until([&]() {
        if (panel->busy() && !training->curve().steps.isEmpty()) live = true;   // points while the run still goes
        return added || !window.last_error().isEmpty();
    }));
    ASSERT_TRUE(added) << window.last_error().toStdString();
    EXPECT_TRUE(live);
    EXPECT_EQ(training->curve().steps.size(), 6);
    EXPECT_EQ(training->plot()->graph(0)->dataCount(), 6);
    gui::EditStack* stack = window.edit_stack();
    ASSERT_EQ(stack->size(), 1);
    EXPECT_TRUE(stack->trains());
    EXPECT_TRUE(panel->list_text(0).contains(QStringLiteral("tune  experts 0:1, 2:5, 6 steps"))) << panel->list_text(0).toStdString();
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard tune"))) << window.log_text().toStdString();

    const QString recipe = q(dir.path() / "tune.json");
    panel->save_recipe(recipe);
    const nlohmann::json saved = nlohmann::json::parse(slurp(dir.path() / "tune.json"));
    EXPECT_EQ(saved["edits"][0]["op"], "tune");
    EXPECT_EQ(saved["edits"][0]["steps"], 6);

    gui::MainWindow other;
    ASSERT_TRUE(open_model_and_wait(other));
    other.edit_panel()->open_recipe(recipe);
    ASSERT_TRUE(other.last_error().isEmpty()) << other.last_error().toStdString();
    EXPECT_EQ(sy::recipe_to_json(other.edit_stack()->recipe_with_source()), sy::recipe_to_json(stack->recipe_with_source()));
    EXPECT_EQ(other.edit_panel()->list_text(0), panel->list_text(0));

    // The window's export, then `switchyard apply` of the saved recipe: the same tensors, bit for bit.
    const fs::path from_window = dir.path() / "from-window", from_cli = dir.path() / "from-cli";
    ASSERT_FALSE(export_and_wait(window, q(from_window)).isEmpty()) << window.last_error().toStdString();
    const std::string command = std::string(SY_CLI_BINARY) + " apply " + recipe.toStdString() + " -q -o " + from_cli.string() +
                                " > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    expect_same_safetensors_but_command(from_window, from_cli);
    // The window exported the tensors it trained (no second run), with that run's log.
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("as trained in this window"))) << window.log_text().toStdString();
    EXPECT_TRUE(fs::exists(from_window / "training-log.h5"));
    // And the trained experts did change.
    EXPECT_EQ(nlohmann::json::parse(slurp(from_window / "switchyard-edit.json"))["edits"][0]["op"], "tune");

    // A training entry stays last.
    window.selection()->set({{1, {0}}});
    panel->prune_selection();
    EXPECT_TRUE(window.last_error().contains(QStringLiteral("stays last"))) << window.last_error().toStdString();
    EXPECT_EQ(stack->size(), 1);

    // Removing the training entry frees the stack again.
    window.edit_stack()->remove(0);
    EXPECT_TRUE(window.edit_stack()->empty());
}

// stdout of a shell command (empty when it fails).
std::string command_output(const std::string& command) {
    std::string out;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
        if (pclose(pipe) != 0) out.clear();
    }
    return out;
}

// The "after" NLL of a preview against `switchyard eval` of an exported model on the same tokens.
void expect_preview_matches_eval(const sy::PreviewResult& preview, gui::MainWindow& window, const fs::path& output) {
    const std::string command = std::string(SY_CLI_BINARY) + " eval " + output.string() + " " +
                                window.run_panel()->command_flags(512).join(QLatin1Char(' ')).toStdString() + " --json -q";
    const std::string text = command_output(command);
    ASSERT_FALSE(text.empty()) << command;
    const nlohmann::json eval = nlohmann::json::parse(text);
    ASSERT_EQ(eval["all"]["tokens"].get<int64_t>(), preview.after.all.tokens);
    EXPECT_NEAR(eval["all"]["mean_nll"].get<double>(), preview.after.all.mean_nll, 1e-5);
    ASSERT_EQ(eval["domains"].size(), preview.after.domains.size());
    for (const auto& [domain, stats] : preview.after.domains)
        EXPECT_NEAR(eval["domains"][domain]["mean_nll"].get<double>(), stats.mean_nll, 1e-5) << domain;
}

// A stack that is one trained entry previews its trained tensors as Export stores them: the
// Compare view's "after" NLL is `switchyard eval` of the exported model on the same tokens.
TEST(GuiTrainingIntegration, TrainedEntryPreviewsWhatExportWrites) {
    TempDir dir;
    gui::MainWindow window;
    ASSERT_TRUE(open_with_bundled_corpus(window));
    gui::EditStackPanel* panel = window.edit_panel();
    configure_tune(panel->training_panel(), 3);
    window.selection()->set({{0, {1}}, {2, {5}}});
    bool added = false;
    QObject::connect(panel, &gui::EditStackPanel::entry_added, [&added]() { added = true; });
    panel->train_entry();
    ASSERT_TRUE(wait_until([&]() { return added || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(added) << window.last_error().toStdString();
    EXPECT_TRUE(panel->preview_button()->isEnabled()) << panel->preview_button()->toolTip().toStdString();

    const std::shared_ptr<const gui::Comparison> comparison = preview_and_wait(window, 512);
    ASSERT_TRUE(comparison) << window.last_error().toStdString();
    EXPECT_EQ(window.current_view(), window.compare_view());
    EXPECT_TRUE(window.compare_view()->has_data());
    ASSERT_TRUE(comparison->preview);
    const sy::PreviewResult& preview = *comparison->preview;
    EXPECT_FALSE(preview.before.domains.empty());
    EXPECT_NE(preview.before.all.mean_nll, preview.after.all.mean_nll);   // the trained experts changed something
    EXPECT_GT(preview.relative_error.at(0), 0.0);                        // layer 0 holds a trained expert
    EXPECT_NEAR(comparison->compare.all.mean_nll_b, preview.after.all.mean_nll, 1e-4);

    const fs::path output = dir.path() / "tuned";
    ASSERT_FALSE(export_and_wait(window, q(output)).isEmpty()) << window.last_error().toStdString();
    expect_preview_matches_eval(preview, window, output);
}

// A tune entry trained after a prune entry trains the pruned model (experts renumbered); its
// preview puts the trained experts back at their slots of the open model, and equals `switchyard
// eval` of what Export writes. The saved recipe opened in another window holds no trained
// weights: no preview until Train entry trains it there (recorded lr and steps), then the same.
TEST(GuiTrainingIntegration, TrainingAfterOtherEntriesPreviewsWhatExportWrites) {
    TempDir dir;
    gui::MainWindow window;
    ASSERT_TRUE(open_with_bundled_corpus(window));
    gui::EditStackPanel* panel = window.edit_panel();
    window.selection()->set({{0, {2}}, {1, {6}}, {2, {3}}, {3, {0}}});
    panel->prune_selection();
    ASSERT_EQ(window.edit_stack()->size(), 1) << window.last_error().toStdString();
    configure_tune(panel->training_panel(), 3);
    window.selection()->set({{0, {6}}, {2, {5}}});   // the pruned model's experts 5 and 4
    bool added = false;
    QObject::connect(panel, &gui::EditStackPanel::entry_added, [&added]() { added = true; });
    panel->train_entry();
    ASSERT_TRUE(wait_until([&]() { return added || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(added) << window.last_error().toStdString();
    ASSERT_EQ(window.edit_stack()->size(), 2);
    EXPECT_TRUE(panel->list_text(1).contains(QStringLiteral("experts 0:6, 2:5"))) << panel->list_text(1).toStdString();
    EXPECT_TRUE(panel->preview_button()->isEnabled()) << panel->preview_button()->toolTip().toStdString();
    EXPECT_FALSE(panel->train_entry_button()->isVisibleTo(panel));

    const std::shared_ptr<const gui::Comparison> comparison = preview_and_wait(window, 512);
    ASSERT_TRUE(comparison && comparison->preview) << window.last_error().toStdString();
    const sy::PreviewResult preview = *comparison->preview;
    EXPECT_NE(preview.before.all.mean_nll, preview.after.all.mean_nll);
    const fs::path output = dir.path() / "pruned-tuned";
    ASSERT_FALSE(export_and_wait(window, q(output)).isEmpty()) << window.last_error().toStdString();
    expect_preview_matches_eval(preview, window, output);

    const QString recipe = q(dir.path() / "prune-tune.json");
    panel->save_recipe(recipe);
    gui::MainWindow other;
    ASSERT_TRUE(open_with_bundled_corpus(other));
    gui::EditStackPanel* opened = other.edit_panel();
    opened->open_recipe(recipe);
    ASSERT_EQ(other.edit_stack()->size(), 2) << other.last_error().toStdString();
    EXPECT_FALSE(opened->preview_button()->isEnabled());
    EXPECT_TRUE(opened->preview_button()->toolTip().contains(QStringLiteral("Train entry"))) << opened->preview_button()->toolTip().toStdString();
    ASSERT_TRUE(opened->train_entry_button()->isVisibleTo(opened));
    opened->train_recorded_entry();
    ASSERT_TRUE(wait_until([&]() { return opened->preview_button()->isEnabled() || !other.last_error().isEmpty(); }));
    ASSERT_TRUE(other.last_error().isEmpty()) << other.last_error().toStdString();
    EXPECT_EQ(opened->training_panel()->curve().steps.size(), 3);
    const std::shared_ptr<const gui::Comparison> again = preview_and_wait(other, 512);
    ASSERT_TRUE(again && again->preview) << other.last_error().toStdString();
    expect_preview_matches_eval(*again->preview, other, output);

    // Entries above it changed: its trained weights no longer apply, Preview says so.
    sy::Recipe changed = other.edit_stack()->recipe_with_source();
    changed.edits.front() = sy::PruneEdit{{{0, {1}}, {1, {6}}, {2, {3}}, {3, {0}}}};
    const QString changed_path = q(dir.path() / "changed.json");
    sy::write_recipe(changed, changed_path.toStdString());
    opened->open_recipe(changed_path);
    ASSERT_EQ(other.edit_stack()->size(), 2) << other.last_error().toStdString();
    EXPECT_FALSE(opened->preview_button()->isEnabled());
    EXPECT_TRUE(opened->train_entry_button()->isVisibleTo(opened));
}

TEST(GuiTrainingIntegration, CancelStopsTheRunAndAddsNothing) {
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    gui::EditStackPanel* panel = window.edit_panel();
    gui::TrainingPanel* training = panel->training_panel();
    configure_tune(training, 100000);
    window.selection()->set({{0, {1}}});
    bool cancelled = false;
    QObject::connect(panel, &gui::EditStackPanel::cancelled, [&cancelled]() { cancelled = true; });
    panel->train_entry();
    ASSERT_TRUE(panel->busy());
    ASSERT_TRUE(wait_until([&]() { return !training->curve().steps.isEmpty() || !window.last_error().isEmpty(); }))
        << window.last_error().toStdString();
    panel->cancel_job();
    ASSERT_TRUE(wait_until([&]() { return cancelled || !window.last_error().isEmpty(); }, 60000));
    EXPECT_TRUE(cancelled) << window.last_error().toStdString();
    EXPECT_FALSE(panel->busy());
    EXPECT_TRUE(window.edit_stack()->empty());
    EXPECT_LT(training->curve().steps.size(), 1000);
}

}  // namespace
}  // namespace sy::test
