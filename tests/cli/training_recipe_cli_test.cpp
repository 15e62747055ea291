// `tune` / `unlearn --save-recipe` and `switchyard apply` of the saved recipe, end to end through
// the main binary: apply writes the same safetensors bytes as the run that saved the recipe (every
// tensor byte and the header; only the command line recorded in the header differs) (the
// learning rate and steps the run chose are in the entry, so apply does not search again); a
// structural prefix (prune, then tune to heal) trains on the pruned model; a data file that
// changed or went missing stops apply with one error line and nothing written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "domain_records.h"
#include "checkpoint_compare.h"
#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

fs::path tiny_mixtral() { return examples_dir() / "tiny-mixtral"; }
fs::path corpus(const std::string& name) { return data_dir() / "corpus" / name; }
std::string q(const fs::path& p) { return shell_quote(p.string()); }

// Small runs: 64-token windows, a few thousand tokens per data set.
const std::string k_small = " -q --seq-len 64 --batch-tokens 256 --max-tokens 4096 --seed 4 ";

// The records of `file` whose "domain" is (keep) or is not (!keep) `domain`.
fs::path domain_file(const fs::path& dir, const std::string& file, const std::string& domain, bool keep) {
    return domain_records(corpus(file), dir / ((keep ? "" : "not-") + domain + "-" + file), domain, keep);
}

Json read_json(const fs::path& p) { return Json::parse(slurp(p)); }

TEST(CliTrainingRecipeIntegration, TuneWithSearchedLrAndStepsAppliesToTheSameBytes) {
    TempDir tmp;
    const fs::path direct = tmp.path() / "direct", applied = tmp.path() / "applied", recipe = tmp.path() / "tune.json";
    // Default --steps and --lr: the probe picks the rate, early stopping the step.
    auto r = run_cli("tune " + q(tiny_mixtral()) + " --data " + q(corpus("valid-mixed.jsonl")) + k_small +
                     "--threshold 0.2 --save-recipe " + q(recipe) + " -o " + q(direct));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json saved = read_json(recipe);
    EXPECT_EQ(saved["format_version"], 2);
    const Json& entry = saved["edits"].at(0);
    EXPECT_EQ(entry["op"], "tune");
    EXPECT_GT(entry["steps"].get<int>(), 0);
    EXPECT_EQ(entry["optimizer"]["schedule_steps"], entry["search"]["max_steps"]);
    EXPECT_EQ(entry["streams"][0]["data"][0]["sha256"].get<std::string>().size(), 64u);
    EXPECT_FALSE(entry["parameters"].empty());

    r = run_cli("apply " + q(recipe) + " -q -o " + q(applied));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_safetensors_but_command(direct, applied);
    EXPECT_FALSE(fs::exists(tmp.path() / "applied.training"));
    const Json record = read_json(applied / "switchyard-edit.json");
    EXPECT_EQ(record["edits"][0]["op"], "tune");
}

TEST(CliTrainingRecipeIntegration, UnlearnAppliesToTheSameBytes) {
    TempDir tmp;
    const fs::path forget = domain_file(tmp.path(), "valid-mixed.jsonl", "python", true);
    const fs::path retain = domain_file(tmp.path(), "valid-mixed.jsonl", "python", false);
    const fs::path direct = tmp.path() / "direct", applied = tmp.path() / "applied", recipe = tmp.path() / "unlearn.json";
    auto r = run_cli("unlearn " + q(tiny_mixtral()) + " --forget " + q(forget) + " --retain " + q(retain) + k_small +
                     "--steps 6 --save-recipe " + q(recipe) + " -o " + q(direct));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json entry = read_json(recipe)["edits"].at(0);
    EXPECT_EQ(entry["op"], "unlearn");
    EXPECT_EQ(entry["streams"].size(), 2u);
    EXPECT_EQ(entry["streams"][0]["routing"][0]["kind"], "anchor");
    r = run_cli("apply " + q(recipe) + " -q -o " + q(applied));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_safetensors_but_command(direct, applied);
}

TEST(CliTrainingRecipeIntegration, PruneThenTuneTrainsThePrunedModel) {
    TempDir tmp;
    const fs::path pruned = tmp.path() / "pruned", healed = tmp.path() / "healed", applied = tmp.path() / "applied";
    const fs::path prune_recipe = tmp.path() / "prune.json", tune_recipe = tmp.path() / "tune.json";
    auto r = run_cli("prune " + q(tiny_mixtral()) + " --experts 0:1,1:2,2:3,3:4 -q --save-recipe " + q(prune_recipe) +
                     " -o " + q(pruned));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_cli("tune " + q(pruned) + " --data " + q(corpus("valid-mixed.jsonl")) + k_small +
                "--experts 0:0,2:5 --steps 5 --lr 1e-3 --save-recipe " + q(tune_recipe) + " -o " + q(healed));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The training record has every record's fields and keeps the pruned model's own record.
    const Json healed_record = read_json(healed / "switchyard-edit.json");
    for (const char* key : {"sources", "calibration", "scores_file", "notes", "expert_count", "expert_map", "training"})
        EXPECT_TRUE(healed_record.contains(key)) << key;
    EXPECT_EQ(healed_record["expert_map"]["0"].size(), 7u);
    EXPECT_EQ(healed_record["expert_count"]["after"], 7);
    EXPECT_TRUE(healed_record["tensors"]["converted"].empty());
    EXPECT_TRUE(healed_record["tensors"]["removed"].empty());
    EXPECT_EQ(healed_record["previous"]["edits"][0]["op"], "prune");
    // One recipe: the prune entry, then the tune entry (made on the pruned model).
    Json both = read_json(prune_recipe);
    both["format_version"] = 2;
    both["edits"].push_back(read_json(tune_recipe)["edits"][0]);
    const fs::path recipe = tmp.path() / "prune-then-tune.json";
    std::ofstream(recipe) << both.dump(2);
    r = run_cli("apply " + q(recipe) + " -q -o " + q(applied));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_safetensors_but_command(healed, applied);
    // Applied in one go, the record's previous is the structural prefix's (the prune).
    EXPECT_EQ(read_json(applied / "switchyard-edit.json")["previous"]["edits"][0]["op"], "prune");
    for (const auto& e : fs::directory_iterator(tmp.path()))   // the structural temp folder is gone
        EXPECT_EQ(e.path().filename().string().find(".structural"), std::string::npos) << e.path();

    // A training entry must come last.
    Json reversed = both;
    std::swap(reversed["edits"][0], reversed["edits"][1]);
    std::ofstream(tmp.path() / "reversed.json") << reversed.dump(2);
    r = run_cli("apply " + q(tmp.path() / "reversed.json") + " -q -o " + q(tmp.path() / "never"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("must be the last entry"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "never"));
}

TEST(CliTrainingRecipeIntegration, ChangedOrMissingDataFileIsOneErrorAndNothingWritten) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data.jsonl", recipe = tmp.path() / "tune.json";
    fs::copy_file(corpus("valid-mixed.jsonl"), data);
    auto r = run_cli("tune " + q(tiny_mixtral()) + " --data " + q(data) + k_small +
                     "--experts 0:1 --steps 2 --lr 1e-3 --save-recipe " + q(recipe) + " -o " + q(tmp.path() / "direct"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ofstream(data, std::ios::app) << R"({"text": "one more record", "domain": "prose"})" << "\n";
    const fs::path out = tmp.path() / "applied";
    r = run_cli("apply " + q(recipe) + " -q -o " + q(out));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("changed since the entry was made"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(data.string()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(tmp.path() / "applied.training"));

    fs::remove(data);
    r = run_cli("apply " + q(recipe) + " -q -o " + q(out));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("is missing"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
}

}  // namespace
