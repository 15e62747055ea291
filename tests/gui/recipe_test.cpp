// The edit stack is a recipe: saved and opened again it is the same recipe; moving an entry keeps
// what every entry means or is refused; and the window's export of a saved stack writes the same
// bytes as `switchyard apply` of that recipe file, for expert edits and for an upcycle.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_selection.h"
#include "gui/gui_test_util.h"
#include "switchyard/core/model.h"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

// prune 0, merge 2+3 (collapse, dominant router), mask 3 (the merged expert) in every layer.
bool build_stack(gui::MainWindow& window) {
    gui::EditStackPanel* panel = window.edit_panel();
    window.selection()->set(in_every_layer(window, {0}));
    panel->prune_selection();
    window.selection()->set(in_every_layer(window, {2, 3}));
    panel->set_merge_options(false, QStringLiteral("collapse"), QStringLiteral("dominant"), QStringLiteral("uniform"));
    bool added = false;
    QObject::connect(panel, &gui::EditStackPanel::entry_added, [&added]() { added = true; });
    panel->merge_selection();
    if (!wait_until([&]() { return added || !window.last_error().isEmpty(); }) || !added) return false;
    window.selection()->set(in_every_layer(window, {3}));
    panel->mask_selection();
    return window.edit_stack()->size() == 3;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(GuiRecipeIntegration, SavedStackOpensAsTheSameRecipeAndMovesKeepTheirMeaning) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    ASSERT_TRUE(build_stack(window)) << window.last_error().toStdString();
    gui::EditStack* stack = window.edit_stack();
    // The mask refers to the merged expert: as the recipe numbers it after prune 0 and the merge.
    EXPECT_EQ(std::get<sy::MaskEdit>(stack->recipe().edits[2]).experts.at(0), (std::vector<int>{1}));
    const QString path = q(dir.path() / "stack.json");
    window.edit_panel()->save_recipe(path);
    ASSERT_TRUE(window.last_error().isEmpty()) << window.last_error().toStdString();
    EXPECT_FALSE(stack->modified());

    gui::MainWindow other;
    ASSERT_TRUE(open_model_and_wait(other));
    other.edit_panel()->open_recipe(path);
    ASSERT_TRUE(other.last_error().isEmpty()) << other.last_error().toStdString();
    EXPECT_EQ(sy::recipe_to_json(other.edit_stack()->recipe_with_source()), sy::recipe_to_json(stack->recipe_with_source()));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(other.edit_panel()->list_text(i), window.edit_panel()->list_text(i));

    // Moving the prune last keeps every entry's experts (as the views number them).
    const QString merge_text = window.edit_panel()->list_text(1).section(QLatin1Char(' '), 1);
    window.edit_panel()->move_entry(0, 2);
    ASSERT_TRUE(window.last_error().isEmpty()) << window.last_error().toStdString();
    EXPECT_EQ(window.edit_panel()->list_text(0).section(QLatin1Char(' '), 1), merge_text);
    EXPECT_TRUE(window.edit_panel()->list_text(2).contains(QStringLiteral("prune  layer 0: expert 0;")));
    window.edit_panel()->move_entry(2, 0);
    EXPECT_EQ(sy::recipe_to_json(stack->recipe_with_source()), sy::recipe_to_json(other.edit_stack()->recipe_with_source()));
    // Masking expert 3 before merging it into 2 leaves the merge without its member: refused.
    window.edit_panel()->move_entry(2, 1);
    EXPECT_TRUE(window.last_error().contains(QStringLiteral("cannot move entry 3"))) << window.last_error().toStdString();
    EXPECT_EQ(sy::recipe_to_json(stack->recipe_with_source()), sy::recipe_to_json(other.edit_stack()->recipe_with_source()));
    // A selection naming an expert an earlier entry removed is refused with that reason.
    window.selection()->set(in_every_layer(window, {0, 5}));
    window.edit_panel()->mask_selection();
    EXPECT_TRUE(window.last_error().contains(QStringLiteral("removed by an earlier entry"))) << window.last_error().toStdString();
    EXPECT_EQ(stack->size(), 3);
}

// Exports the window's stack (saved as `recipe`) to a folder, then runs the command the log shows,
// typed as `switchyard apply RECIPE -o OUT` (argv[0] is what the CLI records), into another, and
// expects the same files with the same bytes (the edit record but for its creation time).
void expect_window_export_equals_apply(gui::MainWindow& window, const QString& recipe, const fs::path& dir) {
    const fs::path out = dir / "out";
    ASSERT_FALSE(export_and_wait(window, q(out)).isEmpty()) << window.last_error().toStdString();
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard apply %1 -o %2").arg(recipe, q(out)))) << window.log_text().toStdString();
    const fs::path from_window = dir / "from-window";
    fs::rename(out, from_window);

    const fs::path torch_cli = fs::path(SY_CLI_BINARY).parent_path() / "switchyard-torch";
    const std::string command = "bash -c 'exec -a switchyard \"$0\" apply \"$1\" -o \"$2\"' " + torch_cli.string() + " " +
                                recipe.toStdString() + " " + out.string() + " > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;

    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(from_window)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    std::vector<std::string> cli_names;
    for (const auto& entry : fs::directory_iterator(out)) cli_names.push_back(entry.path().filename().string());
    std::sort(cli_names.begin(), cli_names.end());
    ASSERT_EQ(names, cli_names);
    for (const std::string& name : names) {
        if (name == "switchyard-edit.json") {   // the same record but for its creation time
            auto a = nlohmann::json::parse(slurp(from_window / name)), b = nlohmann::json::parse(slurp(out / name));
            EXPECT_NE(a.value("command_line", ""), "");
            a.erase("created");
            b.erase("created");
            EXPECT_EQ(a, b);
            continue;
        }
        EXPECT_EQ(slurp(from_window / name), slurp(out / name)) << name << " differs";
    }
    EXPECT_GT(names.size(), 3u);
}

TEST(GuiRecipeIntegration, WindowExportAndSwitchyardApplyWriteTheSameBytes) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    ASSERT_TRUE(build_stack(window)) << window.last_error().toStdString();
    const QString recipe = q(dir.path() / "stack.json");
    window.edit_panel()->save_recipe(recipe);
    expect_window_export_equals_apply(window, recipe, dir.path());
}

// An upcycle stack on a dense model is the recipe `switchyard upcycle --save-recipe` writes: it
// opens again as the same stack, is refused on an MoE model, and the window's export equals
// `switchyard apply` of it byte for byte.
TEST(GuiRecipeIntegration, UpcycleStackIsARecipeForSwitchyardApply) {
    TempDir dir;
    const QString dense = q(examples_dir() / "tiny-llama");
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window, dense));
    window.edit_panel()->add_upcycle();
    ASSERT_EQ(window.edit_stack()->size(), 1) << window.last_error().toStdString();
    const QString recipe = q(dir.path() / "upcycle.json");
    window.edit_panel()->save_recipe(recipe);
    ASSERT_TRUE(window.last_error().isEmpty()) << window.last_error().toStdString();
    const nlohmann::json saved = nlohmann::json::parse(slurp(dir.path() / "upcycle.json"));
    ASSERT_EQ(saved["edits"].size(), 1u);
    EXPECT_EQ(saved["edits"][0]["op"], "upcycle");
    EXPECT_EQ(saved["edits"][0]["experts"], 8);
    EXPECT_EQ(saved["edits"][0]["top_k"], 2);

    gui::MainWindow other;
    ASSERT_TRUE(open_model_and_wait(other, dense));
    other.edit_panel()->open_recipe(recipe);
    ASSERT_TRUE(other.last_error().isEmpty()) << other.last_error().toStdString();
    EXPECT_EQ(sy::recipe_to_json(other.edit_stack()->recipe_with_source()), sy::recipe_to_json(window.edit_stack()->recipe_with_source()));
    EXPECT_EQ(other.edit_panel()->list_text(0), window.edit_panel()->list_text(0));
    gui::MainWindow moe;
    ASSERT_TRUE(open_model_and_wait(moe));
    moe.edit_panel()->open_recipe(recipe);
    EXPECT_TRUE(moe.last_error().contains(QStringLiteral("starts from a dense model"))) << moe.last_error().toStdString();
    EXPECT_TRUE(moe.edit_stack()->empty());

    expect_window_export_equals_apply(window, recipe, dir.path());
    const sy::Model upcycled = sy::open_model((dir.path() / "from-window").string());
    EXPECT_EQ(upcycled.description.num_experts.front(), 8);
}

}  // namespace
}  // namespace sy::test
