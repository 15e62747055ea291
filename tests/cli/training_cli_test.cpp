// `switchyard unlearn` and `switchyard tune` end to end through the main binary (exec'd into
// switchyard-torch): the outputs open in inspect, eval and trace; switchyard-edit.json names
// exactly the trained tensors with the sha256 of their input and output bytes (checked against
// digests tests/cli/tensor_sha256.py computes with Python's hashlib), and every other tensor
// keeps its bytes; bad input is one error line, exit 1 and nothing written.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "domain_records.h"
#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string q(const fs::path& p) { return shell_quote(p.string()); }
fs::path mixtral() { return examples_dir() / "tiny-mixtral"; }
fs::path corpus(const std::string& file) { return data_dir() / "corpus" / file; }

// The records of corpus `file` whose domain is (keep) or is not (!keep) `domain`, as dir/name.
fs::path domain_file(const fs::path& dir, const std::string& name, const std::string& file, const std::string& domain,
                     bool keep) {
    return domain_records(corpus(file), dir / name, domain, keep);
}

// {tensor name: sha256 of its stored bytes}, computed by Python's hashlib.
Json tensor_digests(const fs::path& model) {
    const CliResult r = run_cli_binary("/usr/bin/python3", q(cli_test_dir() / "tensor_sha256.py") +
                                                               " " + q(model));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out);
}

// The output opens in inspect, evaluates and traces.
void expect_loads_back(const fs::path& out, const fs::path& scratch) {
    const CliResult inspect = run_cli("inspect " + q(out) + " --json");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_EQ(Json::parse(inspect.out)["family"], "mixtral");
    const CliResult eval = run_cli("eval " + q(out) + " --data " + q(corpus("valid-mixed.jsonl")) + " --max-tokens 1024 -q --json");
    ASSERT_EQ(eval.exit_code, 0) << eval.err;
    const double nll = Json::parse(eval.out)["all"]["mean_nll"].get<double>();
    EXPECT_TRUE(nll > 0 && nll < 10) << nll;
    const fs::path trace = scratch / (out.filename().string() + ".h5");
    const CliResult t = run_cli("trace " + q(out) + " --data " + q(corpus("valid-mixed.jsonl")) + " --max-tokens 512 -q -o " + q(trace));
    EXPECT_EQ(t.exit_code, 0) << t.err;
    EXPECT_TRUE(fs::exists(trace));
}

// switchyard-edit.json lists exactly `trained` under tensors.changed, with the input and output
// sha256 of their bytes; every tensor not listed has the input's bytes.
void expect_recorded_changes(const fs::path& out, const std::set<std::string>& trained, const std::string& op) {
    const Json record = Json::parse(slurp(out / "switchyard-edit.json"));
    EXPECT_EQ(record["edits"][0]["op"], op);
    const Json input = tensor_digests(mixtral()), output = tensor_digests(out);
    ASSERT_EQ(input.size(), output.size());
    std::set<std::string> listed;
    for (const Json& t : record["tensors"]["changed"]) {
        const std::string name = t["name"].get<std::string>();
        listed.insert(name);
        EXPECT_EQ(t["input_sha256"], input[name]) << name;
        EXPECT_EQ(t["output_sha256"], output[name]) << name;
        EXPECT_NE(input[name], output[name]) << name << " was trained but kept its bytes";
    }
    EXPECT_EQ(listed, trained);
    for (const auto& [name, digest] : input.items())
        if (!trained.count(name)) EXPECT_EQ(output[name], digest) << name << " changed but was not trained";
    EXPECT_TRUE(fs::exists(out / "training-log.h5"));
    EXPECT_FALSE(fs::exists(fs::path(out.string() + ".training"))) << "the run's work folder is left behind";
}

std::set<std::string> expert_tensors(int layer, int expert) {
    const std::string p = "model.layers." + std::to_string(layer) + ".block_sparse_moe.experts." + std::to_string(expert) + ".";
    return {p + "w1.weight", p + "w2.weight", p + "w3.weight"};
}

// Small, quick runs: a few steps of 512 tokens.
const std::string k_small = " --seq-len 128 --batch-tokens 512 --max-tokens 4096 -q";

// Exit 1, one "error: ..." line holding `fragment`, and nothing in `dir` but `kept`.
void expect_refused(const std::string& args, const std::string& fragment, const fs::path& dir,
                    const std::set<std::string>& kept = {"data"}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << "\n" << r.err;
    for (const auto& entry : fs::directory_iterator(dir))
        EXPECT_TRUE(kept.count(entry.path().filename().string())) << args << "\nleft behind: " << entry.path();
}

}  // namespace

TEST(CliTrainingIntegration, UnlearnOutputLoadsBackAndRecordsItsTensors) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data", out = tmp.path() / "unlearned";
    const fs::path forget = domain_file(data, "python.jsonl", "train-sample.jsonl", "python", true);
    const fs::path retain = domain_file(data, "other.jsonl", "train-sample.jsonl", "python", false);
    const CliResult r = run_cli("unlearn " + q(mixtral()) + " --forget " + q(forget) + " --retain " + q(retain) +
                                " --expert 3:3 --steps 3 --eval " + q(corpus("valid-mixed.jsonl")) + k_small + " -o " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("trained expert   layer 3 expert 3"), std::string::npos) << r.out;
    expect_loads_back(out, tmp.path());
    std::set<std::string> trained = expert_tensors(3, 3);
    trained.insert("model.layers.3.block_sparse_moe.gate.weight");
    expect_recorded_changes(out, trained, "unlearn");
}

TEST(CliTrainingIntegration, TuneOutputLoadsBackAndRecordsItsTensors) {
    TempDir tmp;
    const fs::path out = tmp.path() / "tuned";
    const fs::path json = domain_file(tmp.path() / "data", "json.jsonl", "train-sample.jsonl", "json", true);
    const CliResult r = run_cli("tune " + q(mixtral()) + " --data " + q(json) + " --experts 0:1,2:5 --steps 3 --lr 1e-3 --eval " +
                                q(corpus("valid-mixed.jsonl")) + k_small + " -o " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_loads_back(out, tmp.path());
    std::set<std::string> trained = expert_tensors(0, 1);
    for (const std::string& name : expert_tensors(2, 5)) trained.insert(name);
    expect_recorded_changes(out, trained, "tune");
}

TEST(CliTrainingIntegration, BadInputIsOneErrorAndWritesNothing) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
    const fs::path python = domain_file(data, "python.jsonl", "train-sample.jsonl", "python", true);
    const fs::path other = domain_file(data, "other.jsonl", "train-sample.jsonl", "python", false);
    const std::string unlearn = "unlearn " + q(mixtral()) + " -o " + q(out) + k_small + " --steps 2";
    const std::string pair = " --forget " + q(python) + " --retain " + q(other);

    // Forget and retain share documents: the whole sample holds the python records too.
    expect_refused(unlearn + " --forget " + q(python) + " --retain " + q(corpus("train-sample.jsonl")), "share a document", tmp.path());
    expect_refused(unlearn + " --forget " + q(python) + " --retain " + q(python), "share a document", tmp.path());
    // Experts that do not exist: tiny-mixtral has layers 0..3, experts 0..7.
    expect_refused(unlearn + pair + " --expert 9:0", "layer 9", tmp.path());
    expect_refused(unlearn + pair + " --expert 1:8", "expert 8", tmp.path());
    const std::string tune = "tune " + q(mixtral()) + " -o " + q(out) + k_small + " --steps 2 --data " + q(python);
    expect_refused(tune + " --experts 0:99", "expert 99", tmp.path());
    expect_refused(tune + " --experts 7:0", "layer 7", tmp.path());
    // A dense model has no expert to unlearn.
    expect_refused("unlearn " + q(data_dir() / "models" / "tiny-llama") + " -o " + q(out) + pair, "dense model", tmp.path());
    // Learning rates that are not > 0.
    for (const auto& [lr, found] : std::vector<std::pair<std::string, std::string>>{{"0", "0"}, {"-1e-3", "-0.001"}, {"nan", "nan"}}) {
        expect_refused(unlearn + pair + " --expert 3:3 --lr " + lr, "--lr must be > 0, found " + found, tmp.path());
        expect_refused(tune + " --experts 0:1 --lr " + lr, "--lr must be > 0, found " + found, tmp.path());
    }
}

TEST(CliTrainingIntegration, ResumeRefusesTheStateOfAnotherRun) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data", out = tmp.path() / "out", work = tmp.path() / "out.training";
    const fs::path python = domain_file(data, "python.jsonl", "train-sample.jsonl", "python", true);
    const fs::path other = domain_file(data, "other.jsonl", "train-sample.jsonl", "python", false);
    const std::string run = " --forget " + q(python) + " --retain " + q(other) + " -o " + q(out) +
                            " --seq-len 128 --batch-tokens 128 --steps 100000 --expert 1:3";
    // A run stopped with SIGTERM at a step boundary leaves its state beside the output.
    const fs::path err = tmp.path() / "err";
    const pid_t child = start_cli("unlearn " + q(mixtral()) + run, err);
    ASSERT_TRUE(wait_for_text(err, "train step")) << slurp(err);
    ::kill(child, SIGTERM);
    EXPECT_NE(wait_exit(child), 0);
    ASSERT_TRUE(fs::exists(work / "state" / "state.json")) << slurp(err);
    fs::remove(err);
    ASSERT_FALSE(fs::exists(out));
    const std::string state_before = slurp(work / "state" / "state.json");

    const std::set<std::string> kept = {"data", "out.training"};
    expect_refused("unlearn " + q(mixtral()) + run + " --lr 1e-3 --resume", "belongs to another run", tmp.path(), kept);
    expect_refused("unlearn " + q(mixtral()) + run + " --retain-weight 2 --resume", "belongs to another run", tmp.path(), kept);
    // Another model: tiny-qwen3-moe has an expert 3 in layer 1 too.
    expect_refused("unlearn " + q(data_dir() / "models" / "tiny-qwen3-moe") + run + " --resume", "belongs to another run",
                   tmp.path(), kept);
    EXPECT_EQ(slurp(work / "state" / "state.json"), state_before) << "a refused --resume changed the state";
}
