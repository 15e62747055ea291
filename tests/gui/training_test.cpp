// Training entries in the edit stack (training_panel.h): a tune entry trained through the window
// fills its loss curve while the run is still going, is added with the learning rate and steps
// it used, saves and opens again as the same recipe, and the window's export writes the same
// safetensors bytes as `switchyard apply` of the saved recipe; Cancel stops a run and adds nothing.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
    QString exported;
    QObject::connect(panel, &gui::EditStackPanel::exported, [&exported](const QString& path) { exported = path; });
    panel->export_model({q(from_window), QStringLiteral("keep"), QStringLiteral("5GB"), false});
    ASSERT_TRUE(wait_until([&]() { return !exported.isEmpty() || !window.last_error().isEmpty(); }));
    ASSERT_FALSE(exported.isEmpty()) << window.last_error().toStdString();
    const std::string command = std::string(SY_CLI_BINARY) + " apply " + recipe.toStdString() + " -q -o " + from_cli.string() +
                                " > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    expect_same_safetensors_but_command(from_window, from_cli);
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
