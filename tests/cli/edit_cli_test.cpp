// score / prune / merge / apply end to end on the bundled model: outputs load back, the recipe
// of a run reproduces it byte for byte, dry runs write nothing, bad input writes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_cli.h"
#include "switchyard/core/checkpoint.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

std::string q(const fs::path& p) { return shell_quote(p.string()); }
fs::path mixtral() { return examples_dir() / "tiny-mixtral"; }
fs::path calib() { return data_dir() / "corpus" / "train-sample.jsonl"; }
fs::path valid() { return data_dir() / "corpus" / "valid-sample.jsonl"; }

nlohmann::json json_file(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }

void expect_same_tensors(const fs::path& a_dir, const fs::path& b_dir) {
    const auto a = sy::Checkpoint::open(a_dir), b = sy::Checkpoint::open(b_dir);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const auto& t : a.tensors()) {
        const auto* u = b.find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        const auto va = a.view(t), vb = b.view(*u);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(va.data), t.nbytes()),
                  std::string(reinterpret_cast<const char*>(vb.data), u->nbytes()))
            << t.name;
    }
}

// One error line, exit 1, and nothing created at `out`.
void expect_refused(const std::string& args, const fs::path& out, const std::string& message) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(out)) << args;
}

}  // namespace

TEST(CliEditIntegration, ScorePruneApplyRoundTrip) {
    TempDir tmp;
    const fs::path scores = tmp.path() / "scores.h5", pruned = tmp.path() / "pruned", recipe = tmp.path() / "prune.json";
    CliResult r = run_cli("score " + q(mixtral()) + " --data " + q(calib()) + " --max-tokens 4096 -q -o " + q(scores));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("lowest REAP"), std::string::npos);
    // h5py reads the layout documented in docs/hdf5-schema.md without our code.
    const std::string check = "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1]); "
                              "assert f.attrs['kind']==b'score' or f.attrs['kind']=='score'; "
                              "c=f['scores/layer_0/count'][:]; assert c.sum()==2*f.attrs['tokens']; "
                              "assert f['scores/layer_3/reap'].shape==(8,)\" " + q(scores);
    EXPECT_EQ(std::system(check.c_str()), 0);

    r = run_cli("prune " + q(mixtral()) + " --method reap --ratio 0.25 --scores " + q(scores) + " -q -o " + q(pruned) +
                " --save-recipe " + q(recipe));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("8 -> 6 experts"), std::string::npos) << r.out;
    EXPECT_EQ(json_file(pruned / "config.json")["num_local_experts"], 6);
    const auto record = json_file(pruned / "switchyard-edit.json");
    EXPECT_EQ(record["edits"][0]["method"], "reap");
    EXPECT_EQ(record["scores_file"], "switchyard-scores.h5");
    EXPECT_TRUE(fs::exists(pruned / "switchyard-scores.h5"));
    EXPECT_EQ(record["calibration"]["tokens"], 4096);
    EXPECT_EQ(record["expert_map"]["0"].size(), 6u);
    // The edited model runs.
    r = run_cli("eval " + q(pruned) + " --data " + q(valid()) + " --max-tokens 512 -q --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The saved recipe reproduces the same tensors without the scores.
    const fs::path applied = tmp.path() / "applied";
    r = run_cli("apply " + q(recipe) + " -q -o " + q(applied));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_tensors(pruned, applied);
    EXPECT_EQ(json_file(applied / "switchyard-edit.json")["edits"], record["edits"]);
}

TEST(CliEditIntegration, MergeWithoutDataAndDryRunPreview) {
    TempDir tmp;
    const fs::path merged = tmp.path() / "merged";
    // User-given groups need no data: uniform weights, aligned to the first-listed member.
    CliResult r = run_cli("merge " + q(mixtral()) + " --groups 0:1+2,1:1+2,2:3+4,3:0+7 -q -o " + q(merged));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto record = json_file(merged / "switchyard-edit.json");
    const auto& group = record["edits"][0]["groups"]["3"][0];
    EXPECT_EQ(group["dominant"], 0);
    EXPECT_EQ(group["weights"][0], 0.5);
    EXPECT_EQ(record["edits"][0]["router"], "dominant");
    EXPECT_EQ(record["expert_map"]["3"][0], nlohmann::json({0, 7}));
    EXPECT_EQ(json_file(merged / "config.json")["num_local_experts"], 7);

    // A dry run with data previews on those tokens and writes nothing.
    const fs::path none = tmp.path() / "none";
    r = run_cli("prune " + q(mixtral()) + " --experts 0:1,1:1,2:1,3:1 --dry-run --data " +
                q(data_dir() / "corpus" / "valid-mixed.jsonl") + " --max-tokens 4096 -q -o " + q(none));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(none));
    EXPECT_NE(r.out.find("MoE output rel. error"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nll_before"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("python"), std::string::npos) << r.out;
}

TEST(CliEditIntegration, BadInputIsRefusedAndNothingIsWritten) {
    TempDir tmp;
    const fs::path out = tmp.path() / "out";
    const std::string base = " " + q(mixtral()) + " -q -o " + q(out);
    expect_refused("prune" + base + " --experts 9:1", out, "not a MoE layer");
    expect_refused("prune" + base + " --experts 0:8,1:8,2:8,3:8", out, "experts 0..7, found 8");
    expect_refused("prune" + base + " --experts 0:1", out, "one expert count");
    expect_refused("prune" + base + " --method reap --ratio 1.5 --data " + q(calib()), out, "between 0 and 1");
    expect_refused("prune" + base + " --method reap --ratio 0", out, "between 0 and 1");
    expect_refused("prune" + base + " --method ean --ratio 0.25", out, "--data FILE");
    expect_refused("merge" + base + " --groups 0:1+2,0:2+3", out, "more than one group");
    expect_refused("merge" + base + " --groups 0:1+1", out, "more than one group");
    expect_refused("prune " + q(data_dir() / "models" / "tiny-llama") + " -q -o " + q(out) + " --experts 0:1", out,
                   "dense model");
    // Scores of another model.
    const fs::path scores = tmp.path() / "qwen.h5";
    ASSERT_EQ(run_cli("score " + q(data_dir() / "models" / "tiny-qwen3-moe") + " --data " + q(calib()) +
                      " --max-tokens 256 -q -o " + q(scores))
                  .exit_code,
              0);
    expect_refused("prune" + base + " --method reap --ratio 0.25 --scores " + q(scores), out, "another model");
    // An existing, non-empty output is refused before any calibration pass.
    fs::create_directories(out);
    std::ofstream(out / "keep.txt") << "x";
    const CliResult r = run_cli("prune" + base + " --method reap --ratio 0.25 --data " + q(calib()));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(out / "keep.txt"));
}

TEST(CliEditIntegration, MaskedExpertsAreNeverTracedAndRecorded) {
    TempDir tmp;
    const fs::path trace = tmp.path() / "t.h5";
    const CliResult r = run_cli("trace " + q(mixtral()) + " --data " + q(valid()) + " --max-tokens 1024 --mask-experts 0:2,3:5 -q -o " +
                                q(trace));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string check =
        "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1]); ids=f['routing/topk_ids']; "
        "assert (ids[0]!=2).all() and (ids[3]!=5).all() and (ids[1]==2).any(); "
        "m=f['meta'].attrs['masked_experts']; m=m.decode() if isinstance(m,bytes) else m; assert m=='0:2,3:5', m\" " + q(trace);
    EXPECT_EQ(std::system(check.c_str()), 0);
    expect_refused("eval " + q(mixtral()) + " --data " + q(valid()) + " --mask-experts 0:0,0:1,0:2,0:3,0:4,0:5,0:6", tmp.path() / "x",
                   "fewer than top_k");
}

TEST(CliEditIntegration, UpcycleRecipeReproducesTheUpcycle) {
    TempDir tmp;
    const fs::path dense = data_dir() / "models" / "tiny-llama", recipe = tmp.path() / "up.json";
    CliResult r = run_cli("upcycle " + q(dense) + " --experts 4 --top-k 2 --drop-upcycling 0.25 --seed 3 -q -o " +
                          q(tmp.path() / "a") + " --save-recipe " + q(recipe));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto saved = json_file(recipe);
    EXPECT_EQ(saved["edits"][0]["op"], "upcycle");
    EXPECT_EQ(saved["edits"][0]["experts"], 4);
    r = run_cli("apply " + q(recipe) + " -q -o " + q(tmp.path() / "b"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_tensors(tmp.path() / "a", tmp.path() / "b");
}

// --save-recipe never destroys a file: not in the model folder, not in the output folder the
// export replaces, not over an existing file without --force; checked before any work.
TEST(CliEditIntegration, RecipeDestinationIsCheckedFirst) {
    TempDir tmp;
    const fs::path model = tmp.path() / "model", out = tmp.path() / "out";
    fs::copy(mixtral(), model);
    const std::string config_before = slurp(model / "config.json");
    const std::string base = "prune " + q(model) + " -q --experts 0:1,1:1,2:1,3:1 -o " + q(out);
    expect_refused(base + " --save-recipe " + q(model / "config.json"), out, "inside the model folder");
    EXPECT_EQ(slurp(model / "config.json"), config_before);
    expect_refused(base + " --save-recipe " + q(out / "r.json"), out, "inside the output folder");
    const fs::path existing = tmp.path() / "existing.json";
    std::ofstream(existing) << "mine";
    expect_refused(base + " --save-recipe " + q(existing), out, "already exists");
    EXPECT_EQ(slurp(existing), "mine");
    expect_refused(base + " --save-recipe " + q(tmp.path() / "no" / "r.json"), out, "no folder");
    // The model folder is no place for a score file either, even with --force.
    const CliResult score = run_cli("score " + q(model) + " --data " + q(calib()) + " --max-tokens 64 -q --force -o " +
                                    q(model / "model.safetensors"));
    EXPECT_EQ(score.exit_code, 1) << score.err;
    EXPECT_NE(score.err.find("inside the model folder"), std::string::npos) << score.err;
    EXPECT_TRUE(sy::Checkpoint::open(model).tensors().size() > 0);
    // A dry run writes the recipe it was asked for, and nothing else; --force replaces a recipe.
    const fs::path recipe = tmp.path() / "dry.json";
    ASSERT_EQ(run_cli(base + " --dry-run --save-recipe " + q(recipe)).exit_code, 0);
    EXPECT_EQ(json_file(recipe)["edits"][0]["op"], "prune");
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(run_cli(base + " --force --save-recipe " + q(recipe)).exit_code, 0);
    EXPECT_TRUE(fs::exists(out / "switchyard-edit.json"));
    // Nor in a training run's working folder (OUT.training), removed when the run completes.
    fs::create_directories(tmp.path() / "healed.training");
    expect_refused("tune " + q(model) + " -q --data " + q(calib()) + " -o " + q(tmp.path() / "healed") + " --save-recipe " +
                       q(tmp.path() / "healed.training" / "r.json"),
                   tmp.path() / "healed", "working folder");
    // An output folder whose parent is missing is refused before the work, as for every edit verb.
    expect_refused("tune " + q(model) + " -q --data " + q(calib()) + " -o " + q(tmp.path() / "a" / "b"), tmp.path() / "a",
                   "does not exist");
}

// Flags that would be ignored in the combination given are refused instead.
TEST(CliEditIntegration, ContradictoryFlagsAreRefused) {
    TempDir tmp;
    const fs::path out = tmp.path() / "out";
    const std::string base = " " + q(mixtral()) + " -q -o " + q(out);
    const auto refused = [&](const std::string& args, const std::string& message) {
        const CliResult r = run_cli(args);
        EXPECT_NE(r.exit_code, 0) << args;
        EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
        EXPECT_FALSE(fs::exists(out)) << args;
    };
    refused("prune" + base + " --experts 0:1,1:1,2:1,3:1 --keep 6", "--keep requires --method");
    refused("prune" + base + " --experts 0:1,1:1,2:1,3:1 --ratio 0.25", "--ratio requires --method");
    refused("prune" + base + " --method reap --ratio 0.25 --seed 5 --data " + q(calib()), "--seed seeds --method random");
    refused("prune" + base + " --experts 0:1,1:1,2:1,3:1 --mask-experts 0:2", "--mask-experts masks experts");
    refused("merge" + base + " --groups 0:1+2,1:1+2,2:1+2,3:1+2 --keep 6", "--keep requires --method");
    refused("merge" + base + " --groups 0:1+2,1:1+2,2:1+2,3:1+2 --layout duplicate --router dominant",
            "--layout duplicate keeps every member's row");
    // Uniform weights and the dominant member's router row read no data: a mask would do nothing.
    refused("merge" + base + " --groups 0:1+2,1:1+2,2:1+2,3:1+2 --weights uniform --router dominant --mask-experts 0:3 --data " +
                q(calib()),
            "--mask-experts masks experts");
    refused("tune" + base + " --data " + q(calib()) + " --experts 0:1 --threshold 0.7", "--threshold excludes --experts");
    refused("tune" + base + " --data " + q(calib()) + " --threshold 0", "--threshold must lie in (0, 1]");
    refused("tune" + base + " --data " + q(calib()) + " --select all --threshold 0.5", "--select all trains every expert");
}
