// The training engine (training.h) on the trained tiny-mixtral and the four-domain corpus
// samples: only the chosen tensors move, the loss falls, a seed repeats a CPU run bit for bit,
// a run stopped at a step boundary and resumed ends where the uninterrupted run ends, activation
// checkpointing computes the same gradients, and bad options are refused before any weight loads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "switchyard/compute/training.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/core/tensor_names.h"
#include "test_paths.h"

namespace sy {
namespace {

using test::TempDir;

Model mixtral() { return open_model(test::examples_dir() / "tiny-mixtral"); }

CorpusOptions corpus(const std::string& file, int64_t max_tokens) {
    CorpusOptions c;
    c.data = {test::data_dir() / "corpus" / file};
    c.seq_len = 64;
    c.max_tokens = max_tokens;
    return c;
}

// One routed expert and its layer's router, trained on next-token cross-entropy over the
// twelve-document mixed sample, which is also evaluated.
TrainingOptions expert_options() {
    TrainingOptions o;
    o.parameters = expert_parameters(1, 3);
    o.parameters.push_back({TensorRole::router, 1, -1});
    TrainingStream train;
    train.name = "train";
    train.corpus = corpus("valid-mixed.jsonl", 0);   // every domain, ~4k tokens
    train.tokens_per_step = 512;
    train.holdout = 0.1;
    o.streams = {train};
    o.optimizer.lr = 2e-3;
    o.optimizer.warmup_steps = 2;
    o.steps = 8;
    o.seed = 7;
    EvalSet valid;
    valid.name = "valid";
    valid.corpus = corpus("valid-mixed.jsonl", 0);
    valid.experts = {{1, 3}};
    o.evaluations = {valid};
    o.run_id = "training-test";
    return o;
}

// Cancels the run once the progress line reports training step `at` (the engine checks the
// token right after reporting a finished step).
class CancelAtStep final : public Progress {
public:
    CancelAtStep(CancelToken& token, int64_t at) : m_token(token), m_at(at) {}
    void report(double, std::string_view stage) override {
        const std::string text(stage);
        const std::string want = "train step " + std::string(6 - std::to_string(m_at).size(), ' ') + std::to_string(m_at) + "/";
        if (text.rfind(want, 0) == 0) m_token.cancel();
    }

private:
    CancelToken& m_token;
    int64_t m_at;
};

void expect_same_bytes(const TrainingResult& a, const TrainingResult& b) {
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (std::size_t i = 0; i < a.tensors.size(); ++i) {
        ASSERT_EQ(a.tensors[i].values.size(), b.tensors[i].values.size());
        EXPECT_EQ(0, std::memcmp(a.tensors[i].values.data(), b.tensors[i].values.data(), a.tensors[i].values.size() * 4))
            << parameter_name(a.tensors[i].ref);
    }
}

TEST(TrainingEngine, TrainsOnlyTheChosenTensorsAndTheLossFalls) {
    const Model model = mixtral();
    const TrainingOptions options = expert_options();
    NullProgress progress;
    CancelToken cancel;
    const TrainingResult r = run_training(model, options, progress, cancel);
    ASSERT_EQ(r.tensors.size(), 4u);
    EXPECT_EQ(r.steps, 8);
    EXPECT_EQ(r.tensors[0].shape, (std::vector<int64_t>{256, 128}));   // expert_gate [I, H]
    EXPECT_EQ(r.tensors[2].shape, (std::vector<int64_t>{128, 256}));   // expert_down [H, I]
    EXPECT_EQ(r.tensors[3].shape, (std::vector<int64_t>{8, 128}));     // router [E, H]
    EXPECT_EQ(parameter_count(model, options.parameters), 3 * 256 * 128 + 8 * 128);
    ASSERT_EQ(r.before.size(), 1u);
    ASSERT_EQ(r.after.size(), 1u);
    // The model already learnt this corpus: the NLL of the training data still falls (the
    // evaluation set is the training file), by more than bf16 rounding of the stored weights.
    EXPECT_LT(r.after[0].all.mean_nll, r.before[0].all.mean_nll - 0.01);
    ASSERT_EQ(r.heldout_before.size(), 1u);
    EXPECT_TRUE(std::isfinite(r.heldout_before[0]) && std::isfinite(r.heldout_after[0]));
    // Every trained tensor moved away from the checkpoint's values.
    for (const TrainedTensor& t : r.tensors) {
        const std::string name =
            tensor_name(*model.description.family, t.ref.role, t.ref.layer, t.ref.expert, model.layout);
        const TensorInfo& info = model.checkpoint.at(name);
        EXPECT_EQ(info.shape, t.shape) << name;
        const std::vector<float> stored = to_f32(model.checkpoint.view(info));
        double moved = 0;
        for (std::size_t i = 0; i < stored.size(); ++i) moved = std::max(moved, double(std::abs(stored[i] - t.values[i])));
        EXPECT_GT(moved, 1e-4) << name;
    }
    ASSERT_EQ(r.before[0].selection_rate.size(), 1u);
    EXPECT_GT(r.before[0].selection_rate[0], 0.0);
}

TEST(TrainingEngine, ASeedRepeatsACpuRunBitForBit) {
    const Model model = mixtral();
    TrainingOptions options = expert_options();
    options.steps = 4;
    options.evaluations.clear();
    NullProgress progress;
    CancelToken cancel;
    const TrainingResult a = run_training(model, options, progress, cancel);
    const TrainingResult b = run_training(model, options, progress, cancel);
    expect_same_bytes(a, b);
    options.seed = 8;   // another seed draws other windows
    const TrainingResult c = run_training(model, options, progress, cancel);
    EXPECT_NE(0, std::memcmp(a.tensors[0].values.data(), c.tensors[0].values.data(), a.tensors[0].values.size() * 4));
}

TEST(TrainingEngine, AStoppedRunResumesToTheSameWeights) {
    const Model model = mixtral();
    TempDir dir;
    TrainingOptions options = expert_options();
    options.steps = 6;
    options.evaluations.clear();
    options.streams[0].loss = TokenLoss::npo;   // NPO's references travel with the state too
    NullProgress quiet;
    CancelToken never;
    const TrainingResult whole = run_training(model, options, quiet, never);

    options.state_dir = dir.path() / "state";
    options.log_file = dir.path() / "training-log.h5";
    CancelToken stop;
    CancelAtStep progress(stop, 3);
    EXPECT_THROW(run_training(model, options, progress, stop), Cancelled);
    ASSERT_TRUE(std::filesystem::exists(options.state_dir / "state.json"));

    options.resume = true;
    TrainingOptions other = options;
    other.run_id = "another run";
    EXPECT_THROW(run_training(model, other, quiet, never), UsageError);   // a state of another run

    const TrainingResult resumed = run_training(model, options, quiet, never);
    EXPECT_EQ(resumed.resumed_from, 3);
    EXPECT_EQ(resumed.steps, 6);
    expect_same_bytes(whole, resumed);
    EXPECT_FALSE(std::filesystem::exists(options.state_dir));   // finished: nothing left to resume
    EXPECT_TRUE(std::filesystem::exists(options.log_file));
}

TEST(TrainingEngine, CheckpointedLayersComputeTheSameUpdate) {
    const Model model = mixtral();
    TrainingOptions options = expert_options();
    options.steps = 2;
    options.evaluations.clear();
    RoutingLoss balance;
    balance.kind = RoutingLoss::Kind::load_balance;
    balance.weight = 0.01;
    RoutingLoss anchor{RoutingLoss::Kind::anchor, 1, 3, 1.0};
    options.streams[0].routing = {balance, anchor};
    NullProgress progress;
    CancelToken cancel;
    options.checkpointing = ActivationCheckpointing::off;
    const TrainingResult plain = run_training(model, options, progress, cancel);
    options.checkpointing = ActivationCheckpointing::on;
    const TrainingResult checkpointed = run_training(model, options, progress, cancel);
    EXPECT_FALSE(plain.checkpointing);
    EXPECT_TRUE(checkpointed.checkpointing);
    for (std::size_t i = 0; i < plain.tensors.size(); ++i) {
        double most = 0;
        for (std::size_t j = 0; j < plain.tensors[i].values.size(); ++j)
            most = std::max(most, double(std::abs(plain.tensors[i].values[j] - checkpointed.tensors[i].values[j])));
        EXPECT_LT(most, 1e-5) << parameter_name(plain.tensors[i].ref);
    }
    // The expert load counts the forward pass once: a checkpointed layer's re-run adds nothing.
    ASSERT_EQ(plain.load_cv.size(), 2u);
    ASSERT_EQ(checkpointed.load_cv.size(), 2u);
    for (std::size_t m = 0; m < plain.load_cv[0].size(); ++m)
        EXPECT_NEAR(plain.load_cv[0][m], checkpointed.load_cv[0][m], 1e-9) << "layer " << plain.load_layers[m];
}

// Routers alone, with and without the load-balancing term: the load CV is reported per step and
// MoE layer, lies between 0 and the collapse value sqrt(E/k - 1), and the balance term lowers it.
TEST(TrainingEngine, LoadBalanceLossLowersTheLoadCv) {
    const Model model = mixtral();
    TrainingOptions options = expert_options();
    options.parameters.clear();
    for (int l : model.description.moe_layers) options.parameters.push_back({TensorRole::router, l, -1});
    options.evaluations.clear();
    options.streams[0].holdout = 0;
    options.optimizer.lr = 3e-2;
    options.optimizer.warmup_steps = 0;
    options.optimizer.schedule = LrSchedule::constant;
    options.steps = 12;
    NullProgress progress;
    CancelToken cancel;
    const TrainingResult free_run = run_training(model, options, progress, cancel);
    RoutingLoss balance;
    balance.kind = RoutingLoss::Kind::load_balance;
    balance.weight = 1.0;
    options.streams[0].routing = {balance};
    const TrainingResult balanced = run_training(model, options, progress, cancel);

    const std::size_t layers = model.description.moe_layers.size();
    ASSERT_EQ(balanced.load_layers, model.description.moe_layers);
    ASSERT_EQ(balanced.load_cv.size(), 12u);
    ASSERT_EQ(balanced.load_cv_collapsed.size(), layers);
    EXPECT_NEAR(balanced.load_cv_collapsed[0], std::sqrt(8.0 / 2.0 - 1.0), 1e-12);   // tiny-mixtral: 8 experts, top-2
    double free_last = 0, balanced_last = 0;
    for (std::size_t m = 0; m < layers; ++m) {
        for (const auto& row : balanced.load_cv) {
            ASSERT_EQ(row.size(), layers);
            EXPECT_GE(row[m], 0.0);
            EXPECT_LE(row[m], balanced.load_cv_collapsed[m] + 1e-9);
        }
        // Steps 1 of both runs route with the same weights and data.
        EXPECT_DOUBLE_EQ(free_run.load_cv[0][m], balanced.load_cv[0][m]);
        free_last += free_run.load_cv.back()[m] / double(layers);
        balanced_last += balanced.load_cv.back()[m] / double(layers);
    }
    EXPECT_LT(balanced_last, free_last) << "mean CV at the last step, with the balance term vs without";
    EXPECT_NE(format_load_summary(balanced).find("collapsed 1.732"), std::string::npos) << format_load_summary(balanced);
}

TEST(TrainingEngine, BadOptionsAreRefusedBeforeLoading) {
    const Model model = mixtral();
    NullProgress progress;
    CancelToken cancel;
    TrainingOptions options = expert_options();
    options.optimizer.lr = 0;
    EXPECT_THROW(run_training(model, options, progress, cancel), UsageError);
    options = expert_options();
    options.parameters = expert_parameters(1, 8);   // tiny-mixtral has experts 0..7
    EXPECT_THROW(run_training(model, options, progress, cancel), UsageError);
    options = expert_options();
    options.parameters = {{TensorRole::token_embedding, 0, -1}};
    EXPECT_THROW(run_training(model, options, progress, cancel), UsageError);
    options = expert_options();
    options.parameters.push_back(options.parameters.front());
    EXPECT_THROW(run_training(model, options, progress, cancel), UsageError);
    options = expert_options();
    options.runner.max_memory_bytes = 1 << 20;   // the weights alone need more
    EXPECT_THROW(run_training(model, options, progress, cancel), OutOfMemory);
}

TEST(TrainingEngine, PlanCountsTrainedStateAndCheckpointing) {
    const Model model = mixtral();
    TrainingOptions options = expert_options();
    const TrainingPlan plan = plan_training(model, options);
    EXPECT_EQ(plan.trained_parameters, 3 * 256 * 128 + 8 * 128);
    EXPECT_EQ(plan.trained_state_bytes, uint64_t(plan.trained_parameters) * 16);
    EXPECT_EQ(plan.first_trained_layer, 1);
    EXPECT_LT(plan.activation_bytes_checkpointed, plan.activation_bytes_full);
    EXPECT_NE(format_training_plan(model, options, plan).find("fits             yes"), std::string::npos);
}

TEST(TrainingEngine, LearningRateScheduleWarmsUpThenDecays) {
    OptimizerOptions o;
    o.lr = 1.0;
    o.warmup_steps = 2;
    o.schedule = LrSchedule::cosine;
    EXPECT_DOUBLE_EQ(learning_rate_at(o, 1, 10), 0.5);
    EXPECT_DOUBLE_EQ(learning_rate_at(o, 2, 10), 1.0);
    EXPECT_DOUBLE_EQ(learning_rate_at(o, 3, 10), 1.0);   // first decay step: full rate
    EXPECT_NEAR(learning_rate_at(o, 7, 10), 0.5, 1e-12);  // half way through the 8 decay steps
    o.schedule = LrSchedule::linear;
    EXPECT_NEAR(learning_rate_at(o, 7, 10), 0.5, 1e-12);
    o.schedule = LrSchedule::constant;
    EXPECT_DOUBLE_EQ(learning_rate_at(o, 10, 10), 1.0);
}

}  // namespace
}  // namespace sy
