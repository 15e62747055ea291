// unlearn / tune as recipe entries (recipe.h UnlearnEdit / TuneEdit; layout in docs/recipes.md)
// and the one path every front end takes from a resolved plan to a trained, exported model
// (expert_training.h: run_surgery_job, apply_training_recipe).
//
// An entry stores the run as it ran: the learning rate the probe chose and the step whose weights
// early stopping kept become plain values, and the decay keeps the length it had in the run
// (optimizer.schedule_steps), so the same steps on the same windows give the same weights. The
// held-out split stays: it decides which windows train.
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/expert_training.h"
#include "switchyard/editing/surgery.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A folder removed when the scope ends, whatever way it ends.
struct RemovedOnExit {
    fs::path dir;
    ~RemovedOnExit() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json ranked_json(const std::vector<RankedExpert>& experts) {
    Json out = Json::array();
    for (const RankedExpert& e : experts)
        out.push_back({{"layer", e.layer}, {"expert", e.expert}, {"score", number_or_null(e.score)}});
    return out;
}

// Every file a data argument stands for (folders walked as the reader walks them), absolute,
// with its sha256: the entry names files, so a folder that gains a file cannot change the run.
Json data_json(const std::vector<fs::path>& inputs) {
    Json out = Json::array();
    for (const fs::path& f : expand_dataset_files(inputs))
        out.push_back({{"path", fs::absolute(f).lexically_normal().string()}, {"sha256", sha256_file(f)}});
    return out;
}

Json corpus_json(const CorpusOptions& c) {
    return {{"data", data_json(c.data)}, {"seq_len", c.seq_len}, {"max_tokens", c.max_tokens}};
}

// Reading an entry: every failure names the recipe entry and the field.
class EntryReader {
public:
    explicit EntryReader(std::string where) : m_where(std::move(where)) {}
    [[noreturn]] void fail(const std::string& what) const { throw UsageError(m_where + ": " + what); }
    const Json& field(const Json& object, const std::string& key) const {
        if (!object.is_object() || !object.contains(key)) fail("missing \"" + key + "\"");
        return object.at(key);
    }
    template <class T>
    T get(const Json& object, const std::string& key) const {
        const Json& value = field(object, key);
        try {
            return value.get<T>();
        } catch (const Json::exception&) {
            fail("\"" + key + "\" has the wrong type (" + std::string(value.type_name()) + ")");
        }
    }
    // The files of a "data" list, each checked against its recorded sha256.
    std::vector<fs::path> data(const Json& object) const {
        const Json& list = field(object, "data");
        if (!list.is_array() || list.empty()) fail("\"data\" must be a non-empty list of {path, sha256}");
        std::vector<fs::path> files;
        for (const Json& item : list) {
            const fs::path path = get<std::string>(item, "path");
            const std::string recorded = get<std::string>(item, "sha256");
            std::error_code ec;
            if (!fs::is_regular_file(path, ec))
                fail(path.string() + ": the data file the entry trained on is missing (expected sha256 " + recorded + ")");
            const std::string found = sha256_file(path);
            if (found != recorded)
                fail(path.string() + ": the data file changed since the entry was made (sha256 expected " + recorded +
                     ", found " + found + "); training on it would not give the recorded result");
            files.push_back(path);
        }
        return files;
    }
    CorpusOptions corpus(const Json& object) const {
        CorpusOptions c;
        c.data = data(object);
        c.seq_len = get<int64_t>(object, "seq_len");
        c.max_tokens = get<int64_t>(object, "max_tokens");
        return c;
    }
    std::vector<RankedExpert> ranked(const Json& object, const std::string& key) const {
        std::vector<RankedExpert> out;
        if (!object.contains(key)) return out;
        for (const Json& e : field(object, key)) {
            const Json& score = field(e, "score");
            out.push_back({get<int>(e, "layer"), get<int>(e, "expert"), score.is_number() ? score.get<double>() : std::nan("")});
        }
        return out;
    }

private:
    std::string m_where;
};

TensorRole role_named(const std::string& name, const EntryReader& in) {
    for (int r = 0; r < static_cast<int>(TensorRole::count_); ++r)
        if (tensor_role_name(static_cast<TensorRole>(r)) == name) return static_cast<TensorRole>(r);
    in.fail("unknown tensor role \"" + name + "\"");
}

TokenLoss token_loss_named(const std::string& name, const EntryReader& in) {
    for (TokenLoss l : {TokenLoss::cross_entropy, TokenLoss::negated_cross_entropy, TokenLoss::npo})
        if (token_loss_name(l) == name) return l;
    in.fail("unknown loss \"" + name + "\" (ce, ga, npo)");
}

}  // namespace

Edit training_edit(const SurgeryPlan& plan, const TrainingResult& result) {
    const TrainingOptions& t = plan.training;
    SY_CHECK(t.initial.empty(), UsageError, "a run that starts from given tensor values cannot be saved as a recipe entry");
    Json parameters = Json::array();
    for (const ParameterRef& p : t.parameters)
        parameters.push_back({{"role", std::string(tensor_role_name(p.role))}, {"layer", p.layer}, {"expert", p.expert}});
    Json streams = Json::array();
    for (const TrainingStream& s : t.streams) {
        Json routing = Json::array();
        for (const RoutingLoss& r : s.routing)
            routing.push_back({{"kind", r.kind == RoutingLoss::Kind::anchor ? "anchor" : "load_balance"},
                               {"layer", r.layer}, {"expert", r.expert}, {"weight", r.weight}});
        Json stream{{"name", s.name}};
        stream.update(corpus_json(s.corpus));
        stream.update(Json{{"tokens_per_step", s.tokens_per_step}, {"loss", token_loss_name(s.loss)}, {"weight", s.weight},
                           {"npo_beta", s.npo_beta}, {"holdout", s.holdout}, {"routing", routing}});
        streams.push_back(stream);
    }
    Json evaluations = Json::array();
    for (const EvalSet& e : t.evaluations) {
        Json experts = Json::array();
        for (const auto& [layer, expert] : e.experts) experts.push_back({layer, expert});
        Json set{{"name", e.name}};
        set.update(corpus_json(e.corpus));
        set["experts"] = experts;
        evaluations.push_back(set);
    }
    const OptimizerOptions& o = t.optimizer;
    Json out{{"details", Json::parse(plan.details_json)},
             {"experts", ranked_json(plan.experts)},
             {"ranking", ranked_json(plan.ranking)},
             {"parameters", parameters},
             {"streams", streams},
             {"evaluations", evaluations},
             {"steps", result.steps},
             {"seed", t.seed},
             {"accumulation", t.accumulation},
             {"device", t.runner.device},
             {"dtype", compute_dtype_name(t.runner.dtype)},
             {"checkpointing", result.checkpointing ? "on" : "off"},
             {"optimizer",
              {{"lr", result.lr}, {"schedule", lr_schedule_name(o.schedule)},
               {"schedule_steps", o.schedule_steps > 0 ? o.schedule_steps : t.steps}, {"warmup_steps", o.warmup_steps},
               {"min_lr_ratio", o.min_lr_ratio}, {"weight_decay", o.weight_decay}, {"clip_norm", o.clip_norm},
               {"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}}},
             // How the run found lr and steps (provenance; apply does not search again).
             {"search",
              {{"lr_candidates", t.lr_candidates}, {"probe_steps", t.probe_steps}, {"max_steps", t.steps},
               {"eval_every", t.eval_every}, {"patience", t.patience}, {"steps_run", result.steps_run}}}};
    if (plan.op == "unlearn") return UnlearnEdit{out.dump()};
    SY_CHECK(plan.op == "tune", UsageError, "unknown training op \"" + plan.op + "\"");
    return TuneEdit{out.dump()};
}

SurgeryPlan training_plan_from_entry(const Edit& edit, const std::string& origin) {
    const std::string* text = training_entry_json(edit);
    SY_CHECK(text, UsageError, origin + ": not an unlearn or tune entry");
    const EntryReader in(origin);
    const Json entry = Json::parse(*text, nullptr, false);
    if (!entry.is_object()) in.fail("the entry must be a JSON object");
    SurgeryPlan plan;
    plan.op = edit_op_name(edit);
    plan.details_json = in.field(entry, "details").dump();
    plan.experts = in.ranked(entry, "experts");
    plan.ranking = in.ranked(entry, "ranking");
    for (const Json& p : in.field(entry, "parameters"))
        plan.parameters.push_back({role_named(in.get<std::string>(p, "role"), in), in.get<int>(p, "layer"), in.get<int>(p, "expert")});
    if (plan.parameters.empty()) in.fail("\"parameters\" lists no tensor");
    TrainingOptions& t = plan.training;
    t.parameters = plan.parameters;
    for (const Json& s : in.field(entry, "streams")) {
        TrainingStream stream;
        stream.name = in.get<std::string>(s, "name");
        stream.corpus = in.corpus(s);
        stream.tokens_per_step = in.get<int64_t>(s, "tokens_per_step");
        stream.loss = token_loss_named(in.get<std::string>(s, "loss"), in);
        stream.weight = in.get<double>(s, "weight");
        stream.npo_beta = in.get<double>(s, "npo_beta");
        stream.holdout = in.get<double>(s, "holdout");
        for (const Json& r : in.field(s, "routing")) {
            const std::string kind = in.get<std::string>(r, "kind");
            if (kind != "anchor" && kind != "load_balance") in.fail("unknown routing loss \"" + kind + "\"");
            stream.routing.push_back({kind == "anchor" ? RoutingLoss::Kind::anchor : RoutingLoss::Kind::load_balance,
                                      in.get<int>(r, "layer"), in.get<int>(r, "expert"), in.get<double>(r, "weight")});
        }
        t.streams.push_back(std::move(stream));
    }
    if (t.streams.empty()) in.fail("\"streams\" lists no data stream");
    for (const Json& e : in.field(entry, "evaluations")) {
        EvalSet set;
        set.name = in.get<std::string>(e, "name");
        set.corpus = in.corpus(e);
        for (const Json& pair : in.field(e, "experts")) set.experts.emplace_back(pair.at(0).get<int>(), pair.at(1).get<int>());
        t.evaluations.push_back(std::move(set));
    }
    t.steps = in.get<int64_t>(entry, "steps");
    t.seed = in.get<uint64_t>(entry, "seed");
    t.accumulation = in.get<int64_t>(entry, "accumulation");
    t.runner.device = in.get<std::string>(entry, "device");
    t.runner.dtype = parse_compute_dtype(in.get<std::string>(entry, "dtype"));
    const std::string checkpointing = in.get<std::string>(entry, "checkpointing");
    if (checkpointing != "on" && checkpointing != "off") in.fail("\"checkpointing\" must be on or off");
    t.checkpointing = checkpointing == "on" ? ActivationCheckpointing::on : ActivationCheckpointing::off;
    const Json& o = in.field(entry, "optimizer");
    t.optimizer.lr = in.get<double>(o, "lr");
    t.optimizer.schedule = parse_lr_schedule(in.get<std::string>(o, "schedule"));
    t.optimizer.schedule_steps = in.get<int64_t>(o, "schedule_steps");
    t.optimizer.warmup_steps = in.get<int64_t>(o, "warmup_steps");
    t.optimizer.min_lr_ratio = in.get<double>(o, "min_lr_ratio");
    t.optimizer.weight_decay = in.get<double>(o, "weight_decay");
    t.optimizer.clip_norm = in.get<double>(o, "clip_norm");
    t.optimizer.beta1 = in.get<double>(o, "beta1");
    t.optimizer.beta2 = in.get<double>(o, "beta2");
    t.optimizer.eps = in.get<double>(o, "eps");
    if (t.steps <= 0) in.fail("\"steps\" must be > 0");
    return plan;
}

namespace {

// What every rank's run returns: the plan as run, its trained size and the training result.
SurgeryJobResult trained_result(const Model& model, const SurgeryPlan& plan, TrainingResult training) {
    SurgeryJobResult out;
    out.plan = plan;
    out.trained_parameters = parameter_count(model, plan.parameters);
    out.training = std::move(training);
    return out;
}

}  // namespace

SurgeryJobResult run_surgery_job(const Model& model, SurgeryPlan& plan, const SurgeryJobOptions& options, Progress& progress,
                                 const CancelToken& cancel) {
    check_parameters(model, plan.parameters);
    check_trained_export(model, plan.parameters, options.export_options);
    set_run_files(model, plan, options.export_options.output_dir, options.resume, options.export_options.command_line);
    const std::unique_ptr<GradientReducer> reducer = options.join_ranks ? options.join_ranks(plan.training) : nullptr;
    plan.training.reducer = reducer.get();
    plan.training.on_step = options.on_step;
    TrainingResult training = run_training(model, plan.training, progress, cancel);
    plan.training.reducer = nullptr;   // the plan outlives this rank's reducer
    if (reducer && reducer->rank() != 0) {   // rank 0 exports the (equal) trained tensors
        SurgeryJobResult out = trained_result(model, plan, std::move(training));
        out.output_rank = false;
        return out;
    }
    SurgeryJobResult out = export_surgery_job(model, plan, std::move(training), options, progress, cancel);
    std::error_code ec;
    fs::remove_all(training_work_dir(options.export_options.output_dir), ec);   // its log is in the output now
    return out;
}

SurgeryJobResult export_surgery_job(const Model& model, const SurgeryPlan& plan, TrainingResult training,
                                    const SurgeryJobOptions& options, Progress& progress, const CancelToken& cancel) {
    // export_trained checks the export can store the trained tensors before it writes anything.
    SurgeryJobResult out = trained_result(model, plan, std::move(training));
    out.entry = training_edit(plan, out.training);
    out.exported = export_trained(model, plan, out.training, options.export_options, progress, cancel);
    if (!options.save_recipe.empty()) {
        Recipe recipe;
        recipe.edits = {out.entry};
        recipe.export_settings = options.recipe_export;
        recipe.source_path = fs::absolute(model.checkpoint.dir()).lexically_normal().string();
        recipe.source_fingerprint = model_fingerprint(model);
        write_recipe(recipe, options.save_recipe);
    }
    return out;
}

Model export_structural_prefix(const Model& model, const Recipe& structural, const fs::path& dir,
                               const std::string& command_line, Progress& progress, const CancelToken& cancel) {
    EditJobOptions prefix;
    prefix.export_options.output_dir = dir;
    prefix.export_options.force = true;
    prefix.export_options.command_line = command_line;
    EditRecord record;
    record.command_line = command_line;
    record.edits = structural.edits;
    run_edit_job(model, structural, record, prefix, CalibrationScores{}, progress, cancel);
    return open_model(dir);
}

TrainedEntry train_entry(const Model& model, SurgeryPlan plan, const std::function<void(const TrainingStepReport&)>& on_step,
                         Progress& progress, const CancelToken& cancel) {
    check_parameters(model, plan.parameters);
    plan.training.on_step = on_step;
    TrainedEntry out;
    out.training = run_training(model, plan.training, progress, cancel);
    out.entry = training_edit(plan, out.training);
    out.plan = std::move(plan);
    return out;
}

SurgeryJobResult apply_training_recipe(const Model& model, const Recipe& recipe, const SurgeryJobOptions& options,
                                       const std::string& origin, Progress& progress, const CancelToken& cancel) {
    SY_CHECK(!recipe.edits.empty() && training_entry_json(recipe.edits.back()), UsageError,
             origin + ": the last entry is not an unlearn or tune entry");
    const std::string where = origin + ": edits[" + std::to_string(recipe.edits.size() - 1) + "]";
    SurgeryJobOptions job = options;
    job.save_recipe.clear();
    job.resume = false;   // a recipe has no --resume: a cancelled apply leaves nothing behind
    const RemovedOnExit work{training_work_dir(options.export_options.output_dir)};
    // Parsed first: a missing or changed data file stops the run before anything else happens.
    SurgeryPlan plan = training_plan_from_entry(recipe.edits.back(), where);
    if (recipe.edits.size() == 1) return run_surgery_job(model, plan, job, progress, cancel);
    // The structural entries first, exported as `switchyard apply` of them alone would (stored
    // dtypes kept), into a folder beside the output that is removed afterwards; the training
    // entry then trains that model, as `tune` of the edited folder does.
    const fs::path out = fs::absolute(options.export_options.output_dir).lexically_normal();
    const fs::path prefix_dir = out.parent_path() / ("." + out.filename().string() + ".structural-" + std::to_string(::getpid()));
    const RemovedOnExit cleanup{prefix_dir};
    Recipe structural = recipe;
    structural.edits.pop_back();
    progress.report(0, "applying the entries before the training entry");
    const Model edited =
        export_structural_prefix(model, structural, prefix_dir, options.export_options.command_line, progress, cancel);
    return run_surgery_job(edited, plan, job, progress, cancel);
}

}  // namespace sy
