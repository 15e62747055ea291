// unlearn / tune resolved into a training run (expert_training.h): validation before anything
// loads, the calibration pass that picks experts, the data streams and their losses.
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "switchyard/compute/score_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/expert_training.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// SEUF's defaults on this project's models are measured in docs/training.md ("Choosing the
// defaults"); the paper's lr (1e-4 with SEUF) is for 2.7B-16B models trained for hundreds of steps.
constexpr int64_t k_unlearn_steps = 30;
constexpr double k_unlearn_lr = 1.75e-3;
// tune: the learning rate is probed on the held-out slice; steps stop when held-out NLL stops improving.
constexpr int64_t k_tune_max_steps = 200;
constexpr int64_t k_tune_eval_every = 5;
constexpr int64_t k_tune_patience = 3;
constexpr int64_t k_tune_probe_steps = 10;
const std::vector<double> k_tune_lr_candidates = {1e-4, 3e-4, 1e-3};

std::vector<fs::path> dataset_files(const std::vector<fs::path>& inputs) {
    std::vector<fs::path> files;
    for (const fs::path& p : inputs) {
        if (fs::is_directory(p)) {
            std::vector<fs::path> inside;
            for (const auto& entry : fs::recursive_directory_iterator(p))
                if (entry.is_regular_file()) inside.push_back(entry.path());
            std::sort(inside.begin(), inside.end());
            files.insert(files.end(), inside.begin(), inside.end());
        } else {
            files.push_back(p);
        }
    }
    return files;
}

// Digest of each document of `files` -> "file:line" where it is; a .jsonl record is its text or
// token ids, any other file one document.
std::map<std::string, std::string> document_digests(const std::vector<fs::path>& inputs) {
    std::map<std::string, std::string> out;
    for (const fs::path& file : dataset_files(inputs)) {
        std::ifstream in(file, std::ios::binary);
        SY_CHECK(in, IoError, file.string() + ": cannot open");
        if (file.extension() != ".jsonl") {
            std::stringstream text;
            text << in.rdbuf();
            out.emplace(sha256_hex(text.str().data(), text.str().size()), file.string());
            continue;
        }
        std::string line;
        for (int64_t n = 1; std::getline(in, line); ++n) {
            const Json record = Json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object()) continue;   // the dataset reader reports these
            std::string key;
            if (record.contains("text") && record["text"].is_string()) key = "t" + record["text"].get<std::string>();
            else if (record.contains("input_ids")) key = "i" + record["input_ids"].dump();
            else continue;
            out.emplace(sha256_hex(key.data(), key.size()), file.string() + ":" + std::to_string(n));
        }
    }
    return out;
}

void check_common(const SurgeryTraining& t) {
    if (t.lr) {
        std::ostringstream found;   // as given (1e-05, -0.001), not std::to_string's fixed 6 decimals
        found << *t.lr;
        SY_CHECK(std::isfinite(*t.lr) && *t.lr > 0, UsageError, "--lr must be > 0, found " + found.str());
    }
    if (t.steps) SY_CHECK(*t.steps > 0, UsageError, "--steps must be > 0, found " + std::to_string(*t.steps));
    SY_CHECK(t.batch_tokens >= t.seq_len, UsageError,
             "--batch-tokens (" + std::to_string(t.batch_tokens) + ") must hold one window of --seq-len (" +
                 std::to_string(t.seq_len) + ")");
}

CorpusOptions corpus_of(const std::vector<fs::path>& files, const SurgeryTraining& t) {
    CorpusOptions c;
    c.data = files;
    c.seq_len = t.seq_len;
    c.max_tokens = t.max_tokens;
    return c;
}

ExpertScores score(const Model& model, const std::vector<fs::path>& files, const SurgeryTraining& t, Progress& progress,
                   const CancelToken& cancel) {
    ScoreOptions options;
    options.corpus = corpus_of(files, t);
    options.runner = t.runner;
    options.runner.max_memory_bytes = 0;
    return run_score(model, options, progress, cancel);
}

TrainingOptions base_training(const SurgeryTraining& t) {
    TrainingOptions o;
    o.runner = t.runner;
    o.accumulation = t.accumulation;
    o.seed = t.seed;
    o.checkpointing = t.checkpointing;
    o.optimizer.schedule = t.schedule;
    o.optimizer.warmup_steps = t.warmup_steps;
    o.optimizer.clip_norm = t.clip_norm;
    o.optimizer.weight_decay = t.weight_decay;
    return o;
}

TrainingStream stream(const std::string& name, const std::vector<fs::path>& files, const SurgeryTraining& t, TokenLoss loss,
                      double weight) {
    TrainingStream s;
    s.name = name;
    s.corpus = corpus_of(files, t);
    s.tokens_per_step = t.batch_tokens;
    s.loss = loss;
    s.weight = weight;
    return s;
}

Json experts_json(const std::vector<RankedExpert>& experts) {
    Json out = Json::array();
    for (const RankedExpert& e : experts) out.push_back({{"layer", e.layer}, {"expert", e.expert}, {"score", e.score}});
    return out;
}

std::vector<std::string> strings(const std::vector<fs::path>& files) {
    std::vector<std::string> out;
    for (const fs::path& f : files) out.push_back(fs::absolute(f).lexically_normal().string());
    return out;
}

void add_expert_parameters(SurgeryPlan& plan, const RankedExpert& e) {
    for (const ParameterRef& ref : expert_parameters(e.layer, e.expert)) plan.parameters.push_back(ref);
    plan.experts.push_back(e);
}

void add_evaluations(SurgeryPlan& plan, const SurgeryTraining& t,
                     const std::vector<std::pair<std::string, std::vector<fs::path>>>& defaults,
                     const std::vector<std::pair<int, int>>& watched) {
    if (!t.eval_data.empty()) {
        EvalSet set{"eval", corpus_of(t.eval_data, t), watched};
        set.corpus.max_tokens = 0;
        plan.training.evaluations.push_back(set);
        return;
    }
    for (const auto& [name, files] : defaults) plan.training.evaluations.push_back({name, corpus_of(files, t), watched});
}

}  // namespace

void check_disjoint_data(const std::vector<fs::path>& forget, const std::vector<fs::path>& retain) {
    const std::map<std::string, std::string> forgotten = document_digests(forget);
    for (const auto& [digest, where] : document_digests(retain)) {
        auto it = forgotten.find(digest);
        SY_CHECK(it == forgotten.end(), UsageError,
                 "--forget and --retain share a document: " + it->second + " is also " + where +
                     " (a document cannot be forgotten and retained at once)");
    }
}

SurgeryPlan plan_unlearn(const Model& model, const UnlearnOptions& o, Progress& progress, const CancelToken& cancel) {
    const ModelDescription& d = model.description;
    SY_CHECK(!d.moe_layers.empty(), UsageError,
             "unlearn edits one routed expert, and " + model.checkpoint.dir().string() + " (" + d.model_type +
                 ") is a dense model: it has none (use `tune --select all` to train its MLPs)");
    SY_CHECK(!o.forget.empty(), UsageError, "unlearn needs --forget FILE");
    SY_CHECK(!o.retain.empty(), UsageError, "unlearn needs --retain FILE");
    check_common(o.training);
    SY_CHECK(o.anchor_weight >= 0 && o.retain_weight >= 0 && std::isfinite(o.anchor_weight) && std::isfinite(o.retain_weight),
             UsageError, "--anchor-weight and --retain-weight must be finite and >= 0");
    SY_CHECK(o.npo_beta > 0, UsageError, "--npo-beta must be > 0");
    SurgeryPlan plan;
    plan.op = "unlearn";
    if (o.expert) {   // checked before the data is read
        const auto [layer, expert] = *o.expert;
        std::vector<ParameterRef> refs = expert_parameters(layer, expert);
        check_parameters(model, refs);
    }
    check_disjoint_data(o.forget, o.retain);
    if (o.whole_model) {
        SY_CHECK(!o.expert, UsageError, "--whole-model trains every layer: it takes no --expert");
        plan.parameters = all_layer_parameters(model);
        check_parameters(model, plan.parameters);
    }
    RankedExpert target;
    if (o.whole_model) {
        target = {-1, -1, std::nan("")};
    } else if (o.expert) {
        target = {o.expert->first, o.expert->second, std::nan("")};
    } else {
        progress.report(0, "scoring experts on the forget data");
        plan.ranking = rank_by_affinity(score(model, o.forget, o.training, progress, cancel));
        SY_CHECK(!plan.ranking.empty(), UsageError, "the forget data reached no expert");
        target = plan.ranking.front();
        if (plan.ranking.size() > 5) plan.ranking.resize(5);
    }
    if (!o.whole_model) {
        add_expert_parameters(plan, target);
        plan.parameters.push_back({TensorRole::router, target.layer, -1});
        check_parameters(model, plan.parameters);
    }

    plan.training = base_training(o.training);
    plan.training.parameters = plan.parameters;
    plan.training.steps = o.training.steps.value_or(k_unlearn_steps);
    plan.training.optimizer.lr = o.training.lr.value_or(k_unlearn_lr);
    TrainingStream forget = stream("forget", o.forget, o.training, o.method, 1.0);
    forget.npo_beta = o.npo_beta;
    if (o.anchor_weight > 0 && !o.whole_model)
        forget.routing.push_back({RoutingLoss::Kind::anchor, target.layer, target.expert, o.anchor_weight});
    plan.training.streams.push_back(forget);
    if (o.retain_weight > 0)
        plan.training.streams.push_back(stream("retain", o.retain, o.training, TokenLoss::cross_entropy, o.retain_weight));
    std::vector<std::pair<int, int>> watched;
    if (!o.whole_model) watched.emplace_back(target.layer, target.expert);
    add_evaluations(plan, o.training, {{"forget", o.forget}, {"retain", o.retain}}, watched);

    Json details{{"op", "unlearn"},
                 {"method", token_loss_name(o.method)},
                 {"expert", o.whole_model ? Json(nullptr) : Json{{"layer", target.layer}, {"expert", target.expert}}},
                 {"choice", o.whole_model ? "whole-model" : o.expert ? "listed" : "affinity"},
                 {"affinity", std::isnan(target.score) ? Json(nullptr) : Json(target.score)},
                 {"anchor_weight", o.whole_model ? 0.0 : o.anchor_weight},
                 {"retain_weight", o.retain_weight},
                 {"npo_beta", o.npo_beta},
                 {"forget", strings(o.forget)},
                 {"retain", strings(o.retain)}};
    plan.details_json = details.dump();
    return plan;
}

SurgeryPlan plan_tune(const Model& model, const TuneOptions& o, Progress& progress, const CancelToken& cancel) {
    const ModelDescription& d = model.description;
    SY_CHECK(!o.data.empty(), UsageError, "tune needs --data FILE");
    check_common(o.training);
    SY_CHECK(o.holdout >= 0 && o.holdout <= 0.5, UsageError, "--holdout must lie in [0, 0.5]");
    using Select = TuneOptions::Select;
    SY_CHECK(!d.moe_layers.empty() || o.select == Select::all, UsageError,
             model.checkpoint.dir().string() + " (" + d.model_type +
                 ") is a dense model: it has no routed experts to select (use --select all to train its MLPs)");
    const bool moe = !d.moe_layers.empty();
    const bool routers = o.train_routers.value_or(o.select == Select::all && moe);
    const std::string dense = model.checkpoint.dir().string() + " (" + d.model_type + ") is a dense model: it has no router";
    SY_CHECK(!routers || moe, UsageError, "--routers train: " + dense);
    const double load_balance = o.load_balance.value_or(routers ? k_default_load_balance : 0.0);
    SY_CHECK(std::isfinite(load_balance) && load_balance >= 0, UsageError,
             "--load-balance must be finite and >= 0, found " + std::to_string(load_balance));
    SY_CHECK(load_balance == 0 || moe, UsageError, "--load-balance: " + dense);
    SurgeryPlan plan;
    plan.op = "tune";
    double threshold = o.threshold;
    std::string select = "listed";
    if (o.select == Select::listed) {
        SY_CHECK(!o.experts.empty(), UsageError, "--experts lists no expert");
        for (const auto& [layer, expert] : o.experts) add_expert_parameters(plan, {layer, expert, std::nan("")});
    } else if (o.select == Select::all) {
        select = "all";
        for (int l = 0; l < d.num_layers; ++l) {
            if (!d.is_moe_layer(l)) {
                for (const ParameterRef& ref : dense_mlp_parameters(l)) plan.parameters.push_back(ref);
                continue;
            }
            for (int e = 0; e < d.experts_in_layer(l); ++e) add_expert_parameters(plan, {l, e, std::nan("")});
        }
    } else {
        const EsftScore kind = o.select == Select::esft_gate ? EsftScore::gate : EsftScore::token;
        select = kind == EsftScore::gate ? "esft-gate" : "esft-token";
        if (threshold == 0) threshold = kind == EsftScore::gate ? 0.1 : 0.2;   // ESFT's p (editing.md §4.1)
        SY_CHECK(threshold > 0 && threshold <= 1, UsageError, "--threshold must lie in (0, 1]");
        progress.report(0, "scoring experts on the training data");
        for (const RankedExpert& e : esft_select(score(model, o.data, o.training, progress, cancel), kind, threshold))
            add_expert_parameters(plan, e);
        SY_CHECK(!plan.parameters.empty(), UsageError, "the training data reached no expert");
    }
    if (routers)
        for (int l : d.moe_layers) plan.parameters.push_back({TensorRole::router, l, -1});
    check_parameters(model, plan.parameters);

    plan.training = base_training(o.training);
    plan.training.parameters = plan.parameters;
    TrainingStream train = stream("train", o.data, o.training, TokenLoss::cross_entropy, 1.0);
    if (load_balance > 0) {
        RoutingLoss balance;
        balance.kind = RoutingLoss::Kind::load_balance;
        balance.weight = load_balance;
        train.routing.push_back(balance);
    }
    const bool choose_steps = !o.training.steps, choose_lr = !o.training.lr;
    if (choose_steps || choose_lr) {
        SY_CHECK(o.holdout > 0, UsageError, "default --steps and --lr are chosen on held-out data: --holdout must be > 0");
        train.holdout = o.holdout;
    }
    plan.training.streams.push_back(train);
    plan.training.steps = o.training.steps.value_or(k_tune_max_steps);
    plan.training.optimizer.lr = o.training.lr.value_or(k_tune_lr_candidates.front());
    if (choose_steps) {
        plan.training.eval_every = k_tune_eval_every;
        plan.training.patience = k_tune_patience;
    }
    if (choose_lr) {
        plan.training.lr_candidates = k_tune_lr_candidates;
        plan.training.probe_steps = k_tune_probe_steps;
    }
    add_evaluations(plan, o.training, {{"data", o.data}}, {});

    Json details{{"op", "tune"},
                 {"select", select},
                 {"threshold", o.select == Select::esft_gate || o.select == Select::esft_token ? Json(threshold) : Json(nullptr)},
                 {"experts", experts_json(plan.experts)},
                 {"dense_mlps", d.moe_layers.empty()},
                 {"routers", routers},
                 {"load_balance", load_balance},
                 {"data", strings(o.data)}};
    plan.details_json = details.dump();
    return plan;
}

fs::path training_work_dir(const fs::path& output_dir) {
    const fs::path out = fs::absolute(output_dir).lexically_normal();
    const fs::path name = out.has_filename() ? out.filename() : out.parent_path().filename();
    const fs::path parent = out.has_filename() ? out.parent_path() : out.parent_path().parent_path();
    return parent / (name.string() + ".training");
}

void set_run_files(const Model& model, SurgeryPlan& plan, const fs::path& output_dir, bool resume,
                   const std::string& command_line) {
    const fs::path work = training_work_dir(output_dir);
    TrainingOptions& t = plan.training;
    t.log_file = work / "training-log.h5";
    t.state_dir = work / "state";
    t.resume = resume;
    t.command_line = command_line;
    // What must match for --resume: the model, what trains, the data, losses and optimizer.
    Json streams = Json::array();
    for (const TrainingStream& s : t.streams) {
        Json routing = Json::array();
        for (const RoutingLoss& r : s.routing) routing.push_back({routing_loss_name(r), r.weight});
        streams.push_back({{"name", s.name}, {"data", strings(s.corpus.data)}, {"seq_len", s.corpus.seq_len},
                           {"max_tokens", s.corpus.max_tokens}, {"tokens_per_step", s.tokens_per_step},
                           {"loss", token_loss_name(s.loss)}, {"weight", s.weight}, {"npo_beta", s.npo_beta},
                           {"holdout", s.holdout}, {"routing", routing}});
    }
    Json parameters = Json::array();
    for (const ParameterRef& ref : t.parameters) parameters.push_back(parameter_name(ref));
    const OptimizerOptions& opt = t.optimizer;
    Json run{{"model_fingerprint", model_fingerprint(model)},
             {"entry", Json::parse(plan.details_json)},
             {"parameters", parameters},
             {"streams", streams},
             {"steps", t.steps},
             {"accumulation", t.accumulation},
             {"seed", t.seed},
             {"device", t.runner.device},
             {"dtype", compute_dtype_name(t.runner.dtype)},
             {"optimizer",
              {{"lr", opt.lr}, {"lr_candidates", t.lr_candidates}, {"probe_steps", t.probe_steps},
               {"schedule", lr_schedule_name(opt.schedule)}, {"warmup_steps", opt.warmup_steps},
               {"weight_decay", opt.weight_decay}, {"clip_norm", opt.clip_norm}}},
             {"eval_every", t.eval_every},
             {"patience", t.patience}};
    t.run_json = run.dump();
    t.run_id = sha256_hex(t.run_json.data(), t.run_json.size());
    std::error_code ec;
    if (!resume) fs::remove_all(work, ec);   // a stale log or state of an earlier run of ours
}

}  // namespace sy
