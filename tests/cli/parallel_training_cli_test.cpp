// Data-parallel training and similarity on 2 CPU ranks (Gloo) against one process with the same
// options (docs/distributed.md "Training on several ranks"): tune (also with the load-balancing
// loss) and unlearn train the same tensors and log the same losses within f32 rounding, similarity's output cosines equal; a
// killed or hung rank stops the job with one line naming it and no output; Ctrl-C stops at a step
// boundary and --resume over 2 ranks finishes the one-process result.
#include <csignal>
#include <cstdlib>
#include <sstream>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "domain_records.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/training_log.h"
#include "trace_cli_fixture.h"

namespace sy::test {
namespace {

using nlohmann::json;

// Records of the bundled corpus sample whose domain is (or, `keep` false, is not) `domain`.
fs::path domain_file(const TempDir& tmp, const std::string& name, const std::string& domain, bool keep) {
    return domain_records(examples_dir() / "corpus-sample.jsonl", tmp.path() / name, domain, keep);
}

// 4 windows of 64 tokens per step in 2 micro-batches: each rank trains on one window of each.
const std::string k_training = " --seq-len 64 --batch-tokens 256 --accumulation 2 --max-tokens 3000 --lr 1e-3 "
                               "--out-dtype f32";

// name -> f32 values of the tensors a training verb changed (switchyard-edit.json).
std::map<std::string, std::vector<float>> trained_tensors(const fs::path& out) {
    std::map<std::string, std::vector<float>> tensors;
    const json record = json::parse(slurp(out / "switchyard-edit.json"));
    const Checkpoint c = Checkpoint::open(out);
    for (const json& t : record.at("tensors").at("changed")) {
        const TensorInfo& info = c.at(t.at("name").get<std::string>());
        EXPECT_EQ(info.dtype, DType::f32) << info.name;
        const auto* values = reinterpret_cast<const float*>(c.view(info).data);
        tensors[info.name].assign(values, values + info.nbytes() / sizeof(float));
    }
    return tensors;
}

// The two runs trained the same tensors within f32 rounding, and logged the same losses.
//
// Tolerance: the ranks add their halves of each micro-batch's gradient in another order than one
// process does (f32 sums, relative differences ~1e-7), and AdamW divides by sqrt(v): an element
// whose gradient is tiny against eps keeps the rounding difference in a sizable share of its
// step, bounded by lr per step. Measured on tune (3 steps, --lr 1e-3): 16 of 393,216 elements
// differ by more than 1e-6, the largest by 1.7e-5, the median by 0. So: at most 0.1% of the
// elements beyond 1e-6, none beyond 1e-4 (a tenth of one step at --lr 1e-3).
void expect_same_training(const fs::path& one, const fs::path& two) {
    const auto a = trained_tensors(one), b = trained_tensors(two);
    ASSERT_FALSE(a.empty());
    ASSERT_EQ(a.size(), b.size());
    float worst = 0;
    std::size_t elements = 0, beyond = 0;
    for (const auto& [name, x] : a) {
        const std::vector<float>& y = b.at(name);
        ASSERT_EQ(x.size(), y.size()) << name;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const float d = std::abs(x[i] - y[i]);
            worst = std::max(worst, d);
            beyond += d > 1e-6f;
        }
        elements += x.size();
    }
    EXPECT_LE(worst, 1e-4f);
    EXPECT_LE(double(beyond), 1e-3 * double(elements)) << beyond << " of " << elements << " elements differ by > 1e-6";
    std::printf("%zu trained tensors, %zu elements: %zu differ by > 1e-6, largest difference %.3g\n", a.size(), elements,
                beyond, double(worst));
    const TrainingLogContents la = read_training_log(one / "training-log.h5"),
                              lb = read_training_log(two / "training-log.h5");
    ASSERT_EQ(la.steps.size(), lb.steps.size());
    for (std::size_t s = 0; s < la.steps.size(); ++s) {
        const TrainingStepRow &x = la.steps[s], &y = lb.steps[s];
        EXPECT_EQ(x.tokens, y.tokens) << "step " << x.step;   // the global batch
        EXPECT_NEAR(x.loss, y.loss, 1e-5 * (1 + std::abs(x.loss))) << "step " << x.step;
        EXPECT_NEAR(x.grad_norm, y.grad_norm, 1e-4 * (1 + x.grad_norm)) << "step " << x.step;
        ASSERT_EQ(x.stream_loss.size(), y.stream_loss.size());
        for (std::size_t i = 0; i < x.stream_loss.size(); ++i)
            EXPECT_NEAR(x.stream_loss[i], y.stream_loss[i], 1e-5 * (1 + std::abs(x.stream_loss[i]))) << "step " << x.step;
        ASSERT_EQ(x.routing_loss.size(), y.routing_loss.size());
        for (std::size_t i = 0; i < x.routing_loss.size(); ++i)
            EXPECT_NEAR(x.routing_loss[i], y.routing_loss[i], 1e-5 * (1 + std::abs(x.routing_loss[i]))) << "step " << x.step;
    }
    ASSERT_EQ(la.heldout.size(), lb.heldout.size());
    for (std::size_t h = 0; h < la.heldout.size(); ++h)
        for (std::size_t i = 0; i < la.heldout[h].nll.size(); ++i)
            if (!std::isnan(la.heldout[h].nll[i])) EXPECT_NEAR(la.heldout[h].nll[i], lb.heldout[h].nll[i], 1e-5);
}

// The verbs' reports agree word for word but for the timing and output lines, numbers (NLLs before and
// after, printed to 4 decimals) within 2e-4: the weights differ in the last f32 bits.
void expect_same_report(const std::string& one, const std::string& two) {
    std::istringstream a(one), b(two);
    std::string x, y;
    while (std::getline(a, x)) {
        ASSERT_TRUE(std::getline(b, y)) << x;
        if (x.rfind("training ", 0) == 0 || x.rfind("wrote ", 0) == 0) continue;   // seconds, tok/s; the folder
        std::istringstream wx(x), wy(y);
        std::string u, v;
        while (wx >> u) {
            ASSERT_TRUE(wy >> v) << x << " | " << y;
            char* end = nullptr;
            const double n = std::strtod(u.c_str(), &end);
            if (end && *end == 0 && !u.empty()) EXPECT_NEAR(std::strtod(v.c_str(), nullptr), n, 2e-4) << x << " | " << y;
            else EXPECT_EQ(u, v) << x << " | " << y;
        }
    }
    EXPECT_FALSE(std::getline(b, y)) << y;
}

class ParallelTrainingIntegration : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path python = domain_file(tmp, "python.jsonl", "python", true);
    fs::path others = domain_file(tmp, "others.jsonl", "python", false);

    std::string tune(const fs::path& out, const std::string& extra) const {
        return "tune " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(python) + " -o " + shell_quote(out) +
               k_training + extra;
    }
    std::string unlearn(const fs::path& out, const std::string& extra) const {
        return "unlearn " + shell_quote(tiny_mixtral()) + " --forget " + shell_quote(python) + " --retain " +
               shell_quote(others) + " -o " + shell_quote(out) + k_training + extra;
    }
};

// Runs `command(out, extra)` in one process and over 2 ranks; returns both results.
template <class Command>
std::pair<CliResult, CliResult> one_and_two_ranks(const TempDir& tmp, Command command) {
    CliResult a = run_cli(command(tmp.path() / "one", " --steps 3 -q"));
    EXPECT_EQ(a.exit_code, 0) << a.err;
    CliResult b = run_cli(command(tmp.path() / "two", " --steps 3 -q --nproc 2"));
    EXPECT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(b.err, "");   // -q, and rank 1 adds nothing
    EXPECT_FALSE(fs::exists(tmp.path() / "two.training"));   // no state or log left behind
    return {a, b};
}

TEST_F(ParallelTrainingIntegration, TuneOnTwoRanksEqualsOneProcess) {
    one_and_two_ranks(tmp, [&](const fs::path& out, const std::string& extra) { return tune(out, extra); });
    expect_same_training(tmp.path() / "one", tmp.path() / "two");
}

TEST_F(ParallelTrainingIntegration, UnlearnOnTwoRanksEqualsOneProcess) {
    const auto [a, b] =
        one_and_two_ranks(tmp, [&](const fs::path& out, const std::string& extra) { return unlearn(out, extra); });
    expect_same_report(a.out, b.out);
    expect_same_training(tmp.path() / "one", tmp.path() / "two");
}

// The load-balancing loss's f_e count the whole micro-batch's routing: the ranks sum them per
// layer, so 2 ranks give one process's training; so do 3, where one rank has no window of a
// 2-window micro-batch and only joins the sums. Every router trains (the term's gradient goes
// there) with one expert: measured, the term moves 95k elements by up to 4e-3 in 3 steps, the
// ranks' run differs from one process in 4 elements by < 4e-6, and f_e of each rank's own tokens
// instead would differ in 85k elements by up to 3e-3. (--select all is not used: its many
// rarely-routed experts have gradients near AdamW's eps, which amplifies f32 rounding to 1e-4.)
TEST_F(ParallelTrainingIntegration, LoadBalancedTuneOnTwoAndThreeRanksEqualsOneProcess) {
    const auto command = [&](const fs::path& out, const std::string& extra) {
        return tune(out, " --experts 2:1 --routers train --load-balance 0.1" + extra);
    };
    const auto [a, b] = one_and_two_ranks(tmp, command);
    const TrainingLogContents log = read_training_log(tmp.path() / "one" / "training-log.h5");
    ASSERT_FALSE(log.steps.empty());
    ASSERT_EQ(log.steps.front().routing_loss.size(), 1u);   // the balance term is on
    EXPECT_GT(log.steps.front().routing_loss.front(), 0.5);
    expect_same_training(tmp.path() / "one", tmp.path() / "two");
    const CliResult c = run_cli(command(tmp.path() / "three", " --steps 3 -q --nproc 3"));
    ASSERT_EQ(c.exit_code, 0) << c.err;
    expect_same_training(tmp.path() / "one", tmp.path() / "three");
}

// kill -9 on rank 1 mid-training: one line naming it, within the grace period, and no output
// folder (rank 0 exports only after the last step).
TEST_F(ParallelTrainingIntegration, KilledRankStopsTrainingWithoutOutput) {
    const fs::path out = tmp.path() / "killed", err = tmp.path() / "err";
    const pid_t launcher = start_cli(tune(out, " --steps 400 --nproc 2"), err);
    ASSERT_TRUE(wait_for_text(err, "train step"));   // not the expert selection's pass
    const std::vector<pid_t> ranks = children_of(launcher);
    ASSERT_EQ(ranks.size(), 2u);
    ::kill(ranks[1], SIGKILL);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(wait_exit(launcher), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    const std::string text = slurp(err);
    EXPECT_NE(text.find("error: rank 1 was killed by SIGKILL"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(out));
}

// A rank that hangs (SIGSTOP) mid-training: rank 0 gives up in the gradient sum after --timeout
// and the launcher names the silent rank; no output.
TEST_F(ParallelTrainingIntegration, HungRankTimesOutWithoutOutput) {
    const fs::path out = tmp.path() / "hung", err = tmp.path() / "err";
    const pid_t launcher = start_cli(tune(out, " --steps 400 --nproc 2 --timeout 2"), err);
    ASSERT_TRUE(wait_for_text(err, "train step"));
    const std::vector<pid_t> ranks = children_of(launcher);
    ASSERT_EQ(ranks.size(), 2u);
    ::kill(ranks[1], SIGSTOP);
    EXPECT_EQ(wait_exit(launcher), 1);
    const std::string text = slurp(err);
    EXPECT_NE(text.find("error: rank 1 stopped responding and was stopped; rank 0: a rank did not answer within 2 s "
                        "(--timeout) while summing the gradients of a training step"),
              std::string::npos)
        << text;
    EXPECT_FALSE(fs::exists(out));
}

// Ctrl-C on the launcher: both ranks finish the step they are in, rank 0 saves the state, exit
// 130, no output; --resume on 2 ranks then ends where one uninterrupted process ends.
TEST_F(ParallelTrainingIntegration, CtrlCStopsAtAStepAndResumes) {
    const fs::path one = tmp.path() / "one", two = tmp.path() / "two", err = tmp.path() / "err";
    ASSERT_EQ(run_cli(tune(one, " --steps 40 -q")).exit_code, 0);
    const std::string args = tune(two, " --steps 40 --nproc 2");
    const pid_t launcher = start_cli(args, err);
    ASSERT_TRUE(wait_for_text(err, "train step"));
    ::kill(launcher, SIGINT);
    EXPECT_EQ(wait_exit(launcher), 130) << slurp(err);
    const std::string text = slurp(err);
    EXPECT_NE(text.find("stopped at a step boundary"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(two));
    ASSERT_TRUE(fs::exists(two.string() + ".training/state"));
    const CliResult resumed = run_cli(args + " --resume -q");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_training(one, two);
    const TrainingLogContents log = read_training_log(two / "training-log.h5");
    ASSERT_EQ(log.steps.size(), 40u);
}

// Output similarity over 2 ranks: each rank's batches' Gram matrices, added on rank 0 in
// dataset order, give one process's cosines.
TEST_F(ParallelTrainingIntegration, SimilarityOnTwoRanksEqualsOneProcess) {
    const std::string args = "similarity " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(others) +
                             " --layer 1 --no-align --json --seq-len 64 --batch-tokens 128 --max-tokens 1000 -q";
    const CliResult a = run_cli(args), b = run_cli(args + " --nproc 2");
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(b.err, "");
    const json x = json::parse(a.out), y = json::parse(b.out);
    EXPECT_EQ(y["tokens"], x["tokens"]);
    EXPECT_EQ(y["router"], x["router"]);
    ASSERT_EQ(y["outputs"].size(), x["outputs"].size());
    for (std::size_t i = 0; i < x["outputs"].size(); ++i)
        for (std::size_t j = 0; j < x["outputs"][i].size(); ++j) {
            const json &u = x["outputs"][i][j], &v = y["outputs"][i][j];
            ASSERT_EQ(u.is_null(), v.is_null()) << i << "," << j;   // NaN: an expert with zero output
            if (!u.is_null()) EXPECT_NEAR(v.get<double>(), u.get<double>(), 1e-6) << i << "," << j;
        }
}

}  // namespace
}  // namespace sy::test
