// Recipes: JSON round trip (exact numbers) and one clear error per malformed entry.
#include <gtest/gtest.h>

#include <fstream>

#include "switchyard/core/errors.h"
#include "switchyard/editing/recipe.h"
#include "test_paths.h"

using namespace sy;

namespace {

Recipe sample() {
    Recipe r;
    r.source_path = "/models/m";
    r.source_fingerprint = "abc";
    r.export_settings = {"bf16", "2GB"};
    PruneEdit p;
    p.experts = {{0, {1, 5}}, {3, {2, 7}}};
    p.method = "reap";
    p.details_json = R"({"ratio":0.25})";
    MergeEdit m;
    m.groups[1] = {MergeGroup{{2, 4, 6}, 4, {0.1, 0.7, 0.2}}};
    m.align = false;
    m.layout = MergeLayout::collapse;
    m.router = MergeRouter::fitted;
    m.router_rows[1] = {{0.1f, -2.5e-8f, 3.14159274f}};
    r.edits = {p, m, MaskEdit{{{2, {0}}}}};
    return r;
}

}  // namespace

TEST(Recipe, RoundTripsExactly) {
    const Recipe r = sample();
    const Recipe back = parse_recipe(recipe_to_json(r), "test");
    EXPECT_EQ(recipe_to_json(back), recipe_to_json(r));
    ASSERT_EQ(back.edits.size(), 3u);
    const auto& m = std::get<MergeEdit>(back.edits[1]);
    EXPECT_EQ(m.groups.at(1)[0].dominant, 4);
    EXPECT_EQ(m.groups.at(1)[0].weights[1], 0.7);
    EXPECT_EQ(m.router_rows.at(1)[0][1], -2.5e-8f);
    EXPECT_EQ(m.router_rows.at(1)[0][2], 3.14159274f);
    EXPECT_FALSE(m.align);
    EXPECT_EQ(std::get<PruneEdit>(back.edits[0]).experts.at(3), std::vector<int>({2, 7}));
    EXPECT_EQ(std::get<MaskEdit>(back.edits[2]).experts.at(2), std::vector<int>({0}));
    EXPECT_EQ(back.export_settings.dtype, "bf16");
    EXPECT_EQ(back.source_fingerprint, "abc");
}

TEST(Recipe, RefusesMalformedEntriesNamingThem) {
    const auto message = [](const std::string& text) {
        try {
            parse_recipe(text, "r.json");
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    EXPECT_NE(message("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(message(R"({"format": "x", "format_version": 1, "edits": []})").find("not a Switchyard recipe"), std::string::npos);
    EXPECT_NE(message(R"({"format": "switchyard-recipe", "format_version": 9, "edits": []})").find("newer"), std::string::npos);
    EXPECT_NE(message(R"({"format": "switchyard-recipe", "format_version": 1, "edits": [{"op": "split"}]})").find("edits[0]: unknown op"),
              std::string::npos);
    EXPECT_NE(message(R"({"format": "switchyard-recipe", "format_version": 1, "edits": [{"op": "prune", "experts": {"x": [1]}}]})")
                  .find("not a layer index"),
              std::string::npos);
    EXPECT_NE(message(R"({"format": "switchyard-recipe", "format_version": 1, "edits": [{"op": "merge", "groups": {"0": [{"members": [1, 2]}]}}]})")
                  .find("missing \"dominant\""),
              std::string::npos);
}

TEST(Recipe, UpcycleEntriesStandAlone) {
    const std::string one = R"({"format": "switchyard-recipe", "format_version": 1,
        "edits": [{"op": "upcycle", "experts": 4, "top_k": 2, "exact": true}]})";
    const Recipe r = parse_recipe(one, "r.json");
    ASSERT_EQ(r.edits.size(), 1u);
    EXPECT_EQ(edit_op_name(r.edits[0]), "upcycle");
    EXPECT_EQ(std::get<UpcycleEdit>(r.edits[0]).options_json, R"({"experts":4,"top_k":2})");
    EXPECT_EQ(recipe_to_json(parse_recipe(recipe_to_json(r), "again")), recipe_to_json(r));
    const std::string two = R"({"format": "switchyard-recipe", "format_version": 1,
        "edits": [{"op": "upcycle", "experts": 4, "top_k": 2}, {"op": "mask", "experts": {"0": [1]}}]})";
    EXPECT_THROW(parse_recipe(two, "r.json"), UsageError);
}

TEST(Recipe, TrainingEntriesComeLastAndRaiseTheFormatVersion) {
    const std::string last = R"({"format": "switchyard-recipe", "format_version": 2,
        "edits": [{"op": "prune", "experts": {"0": [1]}}, {"op": "tune", "steps": 3, "seed": 1}]})";
    const Recipe r = parse_recipe(last, "r.json");
    ASSERT_EQ(r.edits.size(), 2u);
    EXPECT_EQ(edit_op_name(r.edits[1]), "tune");
    ASSERT_NE(training_entry_json(r.edits[1]), nullptr);
    EXPECT_EQ(*training_entry_json(r.edits[1]), R"({"steps":3,"seed":1})");
    EXPECT_EQ(training_entry_json(r.edits[0]), nullptr);
    const std::string text = recipe_to_json(r);
    EXPECT_NE(text.find("\"format_version\": 2"), std::string::npos);
    EXPECT_EQ(recipe_to_json(parse_recipe(text, "again")), text);
    Recipe structural = r;
    structural.edits.pop_back();   // no training entry: still version 1 for older readers
    EXPECT_NE(recipe_to_json(structural).find("\"format_version\": 1"), std::string::npos);

    const std::string first = R"({"format": "switchyard-recipe", "format_version": 2,
        "edits": [{"op": "unlearn", "steps": 3}, {"op": "mask", "experts": {"0": [1]}}]})";
    try {
        parse_recipe(first, "r.json");
        ADD_FAILURE() << "a training entry before another entry was accepted";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("edits[0]: a training entry (unlearn) must be the last entry"), std::string::npos) << e.what();
    }
}

// --save-recipe's destination (recipe.h check_recipe_destination), including a folder reached
// through a symlink into the model folder.
TEST(Recipe, DestinationNeverDestroysAFile) {
    sy::test::TempDir tmp;
    const std::filesystem::path model = tmp.path() / "model", out = tmp.path() / "out";
    std::filesystem::create_directories(model);
    std::filesystem::create_directory_symlink(model, tmp.path() / "link");
    const auto refused = [&](const std::filesystem::path& path, bool force, const std::string& message) {
        try {
            check_recipe_destination(path, model, out, force);
            ADD_FAILURE() << path << " accepted";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
    };
    refused(model / "config.json", true, "inside the model folder");
    refused(tmp.path() / "link" / "r.json", true, "inside the model folder");
    refused(out / "r.json", true, "inside the output folder");
    refused(tmp.path() / "missing" / "r.json", false, "no folder");
    refused(tmp.path(), true, "is a folder");
    const std::filesystem::path existing = tmp.path() / "r.json";
    std::ofstream(existing) << "{}";
    refused(existing, false, "already exists");
    EXPECT_NO_THROW(check_recipe_destination(existing, model, out, true));
    EXPECT_NO_THROW(check_recipe_destination(tmp.path() / "new.json", model, out, false));
    std::filesystem::create_directories(out);
    EXPECT_NO_THROW(check_recipe_destination(out / "r.json", model, "", false));   // a dry run has no output folder
}
