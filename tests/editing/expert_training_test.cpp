// unlearn / tune (expert_training.h) on the trained tiny-mixtral and the four-domain corpus
// samples: at the verbs' defaults, forgetting python and tuning on json meet docs/training.md's
// targets; the export replaces only the trained tensors (every other tensor's bytes equal the
// plain export's and, where the export keeps them as stored, the input's, on every MoE fixture
// family), and bad input is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "editing_fixtures.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/expert_training.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// The records of `file` whose domain is (or, with `keep` false, is not) `domain`, as a new file.
fs::path domain_file(const fs::path& dir, const std::string& file, const std::string& domain, bool keep) {
    const fs::path out = dir / ((keep ? "" : "not-") + domain + "-" + file);
    std::ifstream in(test::corpus(file));
    std::ofstream o(out);
    std::string line;
    while (std::getline(in, line))
        if ((nlohmann::json::parse(line).value("domain", "") == domain) == keep) o << line << "\n";
    return out;
}

SurgeryTraining small_training() {
    SurgeryTraining t;
    t.seq_len = 128;
    t.batch_tokens = 1024;
    t.seed = 3;
    t.eval_data = {test::corpus("valid-sample.jsonl")};
    return t;
}

std::map<std::string, double> domain_nll(const EvalReport& r) {
    std::map<std::string, double> out;
    for (const auto& [domain, stats] : r.domains) out[domain] = stats.mean_nll;
    return out;
}

// Every tensor of `b` equals `a`'s, except the listed names.
void expect_identical_except(const fs::path& a, const fs::path& b, const std::set<std::string>& changed) {
    const Checkpoint ca = Checkpoint::open(a), cb = Checkpoint::open(b);
    ASSERT_EQ(ca.tensors().size(), cb.tensors().size());
    int differing = 0;
    for (const TensorInfo& t : ca.tensors()) {
        const TensorInfo* other = cb.find(t.name);
        ASSERT_NE(other, nullptr) << t.name;
        ASSERT_EQ(t.dtype, other->dtype) << t.name;
        ASSERT_EQ(t.shape, other->shape) << t.name;
        const bool same = std::memcmp(ca.view(t).data, cb.view(*other).data, t.nbytes()) == 0;
        if (changed.count(t.name)) differing += !same;
        else EXPECT_TRUE(same) << t.name << " changed but was not trained";
    }
    EXPECT_EQ(differing, static_cast<int>(changed.size()));
}

std::set<std::string> changed_names(const fs::path& out) {
    std::ifstream in(out / "switchyard-edit.json");
    const nlohmann::json record = nlohmann::json::parse(in);
    std::set<std::string> names;
    const Checkpoint c = Checkpoint::open(out);
    for (const auto& t : record.at("tensors").at("changed")) {
        names.insert(t.at("name").get<std::string>());
        const TensorInfo& info = c.at(t.at("name").get<std::string>());
        EXPECT_EQ(t.at("output_sha256").get<std::string>(), sha256_hex(c.view(info).data, info.nbytes()));
        EXPECT_NE(t.at("input_sha256"), t.at("output_sha256"));
    }
    return names;
}

// exp(delta NLL) - 1: the change of perplexity.
double perplexity_change(double before, double after) { return std::exp(after - before) - 1.0; }

// The quality targets of docs/training.md at the verbs' defaults (seed 0), CI-sized: training on
// the corpus samples of tests/data/corpus, evaluated on valid-sample.jsonl (held-out documents).
TEST(ExpertTrainingIntegration, UnlearningPythonMeetsTheTargetAndTouchesOneExpert) {
    TempDir dir;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    UnlearnOptions o;
    o.forget = {domain_file(dir.path(), "train-sample.jsonl", "python", true)};
    o.retain = {domain_file(dir.path(), "train-sample.jsonl", "python", false)};
    o.training.eval_data = {test::corpus("valid-sample.jsonl")};
    NullProgress progress;
    CancelToken cancel;
    SurgeryPlan plan = plan_unlearn(model, o, progress, cancel);
    ASSERT_EQ(plan.experts.size(), 1u);
    ASSERT_EQ(plan.parameters.size(), 4u);   // gate, up, down and the layer's router
    EXPECT_EQ(plan.parameters.back().role, TensorRole::router);
    EXPECT_EQ(plan.parameters.back().layer, plan.experts.front().layer);
    EXPECT_EQ(plan.ranking.front().layer, plan.experts.front().layer);
    const fs::path out = dir.path() / "out";
    set_run_files(model, plan, out, false, "test");
    const TrainingResult result = run_training(model, plan.training, progress, cancel);
    const std::map<std::string, double> before = domain_nll(result.before.at(0)), after = domain_nll(result.after.at(0));
    // Python forgotten: +0.69 nats (perplexity doubled) or more; every retained domain's
    // perplexity up by 15% at most.
    EXPECT_GE(after.at("python") - before.at("python"), 0.69);
    for (const char* kept : {"english", "c", "json"})
        EXPECT_LE(perplexity_change(before.at(kept), after.at(kept)), 0.15) << kept;
    // The anchor keeps the target expert chosen.
    EXPECT_GE(result.after.at(0).selection_rate.at(0), result.before.at(0).selection_rate.at(0));

    ExportOptions export_options;
    export_options.output_dir = out;
    export_trained(model, plan, result, export_options, progress, cancel);
    ExportOptions plain_options;
    plain_options.output_dir = dir.path() / "plain";
    export_checkpoint(model, plain_options, progress, cancel);
    const std::set<std::string> changed = changed_names(out);
    const RankedExpert& e = plan.experts.front();
    const FamilySpec& family = *model.description.family;
    std::set<std::string> expected = {tensor_name(family, TensorRole::router, e.layer, -1)};
    for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down})
        expected.insert(tensor_name(family, role, e.layer, e.expert));
    EXPECT_EQ(changed, expected);
    expect_identical_except(plain_options.output_dir, out, changed);
    EXPECT_TRUE(fs::exists(out / "training-log.h5"));
}

TEST(ExpertTrainingIntegration, TuningOnJsonMeetsTheTargetWithEsft) {
    TempDir dir;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    TuneOptions o;
    o.data = {test::corpus("train-json.jsonl")};
    o.training.eval_data = {test::corpus("valid-sample.jsonl")};
    // The rate the lr probe chooses on the full corpus. On this sample's 10% held-out slice it
    // chooses 1e-3, which passes at seed 0 but not at seed 1 (docs/training.md has the numbers);
    // at 3e-4 both seeds pass with the other domains within +0.5%.
    o.training.lr = 3e-4;
    NullProgress progress;
    CancelToken cancel;
    SurgeryPlan plan = plan_tune(model, o, progress, cancel);
    EXPECT_GE(plan.experts.size(), 4u);   // at least one per MoE layer
    EXPECT_LT(plan.experts.size(), 32u);  // not every expert
    for (const ParameterRef& ref : plan.parameters) EXPECT_GE(ref.expert, 0) << "routers stay frozen";
    const TrainingResult result = run_training(model, plan.training, progress, cancel);
    const std::map<std::string, double> before = domain_nll(result.before.at(0)), after = domain_nll(result.after.at(0));
    // json's NLL down by 1% of itself or more; every other domain's perplexity up by 2% at most.
    EXPECT_LE(after.at("json"), 0.99 * before.at("json"));
    for (const char* other : {"english", "c", "python"})
        EXPECT_LE(perplexity_change(before.at(other), after.at(other)), 0.02) << other;
}

// Every output tensor that keeps its input's name, dtype and shape keeps its bytes unless it is
// listed; returns how many were compared.
int expect_input_bytes_except(const fs::path& input, const fs::path& output, const std::set<std::string>& changed) {
    const Checkpoint in = Checkpoint::open(input), out = Checkpoint::open(output);
    int compared = 0;
    for (const TensorInfo& t : out.tensors()) {
        const TensorInfo* source = in.find(t.name);
        if (changed.count(t.name) || !source || source->dtype != t.dtype || source->shape != t.shape) continue;
        EXPECT_EQ(0, std::memcmp(in.view(*source).data, out.view(t).data, t.nbytes())) << t.name << " changed but was not trained";
        ++compared;
    }
    return compared;
}

// A few steps on one routed expert and its layer's router (what unlearn trains) of every MoE
// fixture; gpt-oss experts cannot be trained (check_parameters), so its router alone.
TEST(ExpertTrainingIntegration, ExportChangesOnlyTrainedTensorsOnEveryMoeFamily) {
    std::vector<std::string> fixtures = test::moe_fixtures();
    fixtures.insert(fixtures.end(), {"tiny-gpt-oss", "tiny-gpt-oss-bf16"});
    TempDir data;
    const fs::path python = domain_file(data.path(), "valid-mixed.jsonl", "python", true);
    const fs::path other = domain_file(data.path(), "valid-mixed.jsonl", "python", false);
    for (const std::string& name : fixtures) {
        SCOPED_TRACE(name);
        TempDir dir;
        const Model model = open_model(test::model_dir(name));
        const int layer = model.description.moe_layers.front();
        NullProgress progress;
        CancelToken cancel;
        SurgeryPlan plan;
        if (model.description.family->has_expert_biases()) {
            plan.op = "tune";
            plan.parameters = {{TensorRole::router, layer, -1}};
            plan.details_json = R"({"op": "tune", "select": "listed"})";
            TrainingStream train;
            train.name = "train";
            train.corpus.data = {test::corpus("valid-mixed.jsonl")};
            train.corpus.seq_len = 128;
            train.corpus.max_tokens = 512;
            train.tokens_per_step = 512;
            plan.training.parameters = plan.parameters;
            plan.training.streams = {train};
        } else {
            UnlearnOptions o;
            o.forget = {python};
            o.retain = {other};
            o.expert = std::make_pair(layer, 1);
            o.training = small_training();
            o.training.eval_data.clear();
            o.training.max_tokens = 512;
            plan = plan_unlearn(model, o, progress, cancel);
            plan.training.evaluations.clear();
        }
        plan.training.steps = 2;
        plan.training.optimizer.lr = 1e-2;
        const TrainingResult result = run_training(model, plan.training, progress, cancel);
        ExportOptions options;
        options.output_dir = dir.path() / "out";
        if (name == "tiny-deepseek-v3-fp8") {   // trained FP8 experts need a float dtype
            EXPECT_THROW(check_trained_export(model, plan.parameters, options), UsageError);
            options.dtype = ExportDType::bf16;
        }
        export_trained(model, plan, result, options, progress, cancel);
        ExportOptions plain = options;
        plain.output_dir = dir.path() / "plain";
        export_checkpoint(model, plain, progress, cancel);
        const std::set<std::string> changed = changed_names(options.output_dir);
        EXPECT_EQ(changed.size(), plan.parameters.size());
        expect_identical_except(plain.output_dir, options.output_dir, changed);
        // Against the input itself too, wherever the export keeps a tensor's name and dtype.
        const int compared = expect_input_bytes_except(test::model_dir(name), options.output_dir, changed);
        if (name != "tiny-deepseek-v3-fp8") EXPECT_GT(compared, 0);
        const Model reopened = open_model(options.output_dir);   // loads back
        EXPECT_EQ(reopened.description.num_layers, model.description.num_layers);
    }
}

TEST(ExpertTraining, BadInputIsRefusedBeforeAnythingRuns) {
    TempDir dir;
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    NullProgress progress;
    CancelToken cancel;
    UnlearnOptions o;
    o.forget = {domain_file(dir.path(), "train-sample.jsonl", "python", true)};
    o.retain = {test::corpus("train-sample.jsonl")};   // holds the python documents too
    o.training = small_training();
    EXPECT_THROW(plan_unlearn(model, o, progress, cancel), UsageError);
    o.retain = {domain_file(dir.path(), "train-sample.jsonl", "python", false)};
    o.expert = std::make_pair(1, 8);   // experts 0..7
    EXPECT_THROW(plan_unlearn(model, o, progress, cancel), UsageError);
    o.expert = std::make_pair(9, 0);   // layers 0..3
    EXPECT_THROW(plan_unlearn(model, o, progress, cancel), UsageError);
    o.expert.reset();
    o.training.lr = 0.0;
    EXPECT_THROW(plan_unlearn(model, o, progress, cancel), UsageError);
    o.training.lr = -1e-3;
    EXPECT_THROW(plan_unlearn(model, o, progress, cancel), UsageError);
    o.training.lr.reset();
    const Model dense = open_model(test::model_dir("tiny-llama"));
    EXPECT_THROW(plan_unlearn(dense, o, progress, cancel), UsageError);
    TuneOptions t;
    t.data = {test::corpus("valid-mixed.jsonl")};
    EXPECT_THROW(plan_tune(dense, t, progress, cancel), UsageError);   // ESFT needs routed experts
    t.select = TuneOptions::Select::all;
    t.training.steps = 1;
    const SurgeryPlan all = plan_tune(dense, t, progress, cancel);   // a dense model's MLPs
    EXPECT_EQ(all.parameters.size(), 3u * static_cast<std::size_t>(dense.description.num_layers));
}

// Continued training of an upcycled model: `--select all` on a MoE model trains every router
// too, with the load-balancing term at Switch's 0.01; ESFT's selections keep routers frozen.
TEST(ExpertTraining, SelectAllTrainsRoutersWithTheBalanceLoss) {
    const Model model = open_model(test::model_dir("tiny-mixtral"));
    const ModelDescription& d = model.description;
    NullProgress progress;
    CancelToken cancel;
    TuneOptions t;
    t.data = {test::corpus("valid-mixed.jsonl")};
    t.training.steps = 1;
    t.training.lr = 1e-3;
    t.select = TuneOptions::Select::all;
    const auto routers = [](const SurgeryPlan& plan) {
        std::vector<int> layers;
        for (const ParameterRef& ref : plan.parameters)
            if (ref.role == TensorRole::router) layers.push_back(ref.layer);
        return layers;
    };
    const SurgeryPlan all = plan_tune(model, t, progress, cancel);
    EXPECT_EQ(routers(all), d.moe_layers);
    EXPECT_EQ(all.parameters.size(), d.moe_layers.size() * (1 + 3 * static_cast<std::size_t>(d.experts_in_layer(d.moe_layers[0]))));
    ASSERT_EQ(all.training.streams[0].routing.size(), 1u);
    EXPECT_EQ(all.training.streams[0].routing[0].kind, RoutingLoss::Kind::load_balance);
    EXPECT_DOUBLE_EQ(all.training.streams[0].routing[0].weight, k_default_load_balance);
    const nlohmann::json details = nlohmann::json::parse(all.details_json);
    EXPECT_EQ(details["routers"], true);
    EXPECT_DOUBLE_EQ(details["load_balance"].get<double>(), 0.01);

    t.train_routers = false;   // --routers freeze: the experts only, no balance term by default
    const SurgeryPlan frozen = plan_tune(model, t, progress, cancel);
    EXPECT_TRUE(routers(frozen).empty());
    EXPECT_TRUE(frozen.training.streams[0].routing.empty());

    t.train_routers.reset();
    t.select = TuneOptions::Select::listed;   // ESFT-style: routers frozen unless asked
    t.experts = {{1, 2}};
    t.load_balance = 0.1;
    const SurgeryPlan listed = plan_tune(model, t, progress, cancel);
    EXPECT_TRUE(routers(listed).empty());
    ASSERT_EQ(listed.training.streams[0].routing.size(), 1u);
    EXPECT_DOUBLE_EQ(listed.training.streams[0].routing[0].weight, 0.1);
    t.load_balance = -1.0;
    EXPECT_THROW(plan_tune(model, t, progress, cancel), UsageError);

    const Model dense = open_model(test::model_dir("tiny-llama"));
    TuneOptions u;
    u.data = t.data;
    u.training.steps = 1;
    u.select = TuneOptions::Select::all;
    EXPECT_TRUE(plan_tune(dense, u, progress, cancel).training.streams[0].routing.empty());
    u.load_balance = 0.01;
    EXPECT_THROW(plan_tune(dense, u, progress, cancel), UsageError);   // no router to balance
    u.load_balance.reset();
    u.train_routers = true;
    EXPECT_THROW(plan_tune(dense, u, progress, cancel), UsageError);
}

TEST(ExpertTraining, EsftTakesTheSmallestPrefixReachingTheThreshold) {
    ExpertScores scores;
    LayerExpertScores l;
    l.layer = 2;
    l.experts = 4;
    l.gate_mass = {1.0, 6.0, 2.0, 1.0};          // shares 0.1, 0.6, 0.2, 0.1
    l.frequency = {0.25, 0.25, 0.25, 0.25};
    l.mean_prob = {0.1, 0.5, 0.3, 0.1};
    scores.layers = {l};
    std::vector<RankedExpert> chosen = esft_select(scores, EsftScore::gate, 0.1);
    ASSERT_EQ(chosen.size(), 1u);
    EXPECT_EQ(chosen[0].expert, 1);
    chosen = esft_select(scores, EsftScore::gate, 0.75);
    ASSERT_EQ(chosen.size(), 2u);
    EXPECT_EQ(chosen[1].expert, 2);
    chosen = esft_select(scores, EsftScore::token, 0.5);   // ties: lower index first
    ASSERT_EQ(chosen.size(), 2u);
    EXPECT_EQ(chosen[0].expert, 0);
    EXPECT_EQ(chosen[1].expert, 1);
    EXPECT_THROW(esft_select(scores, EsftScore::gate, 0.0), UsageError);
    const std::vector<RankedExpert> ranked = rank_by_affinity(scores);
    EXPECT_EQ(ranked.front().expert, 1);
    EXPECT_EQ(ranked.front().layer, 2);
}

}  // namespace
}  // namespace sy
