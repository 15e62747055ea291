// run_training (training.h): validate -> plan -> resumable state -> data -> model -> references
// and "before" evaluations -> learning-rate probe -> steps (log, held-out evaluations, early
// stopping, cancellation at step boundaries) -> "after" evaluations on the stored weights.
#include "training/training_run.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"
#include "training/evaluation.h"
#include "training/micro_batch.h"

namespace sy {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_stream(const TrainingStream& s, int64_t accumulation) {
    const std::string what = "stream \"" + s.name + "\"";
    SY_CHECK(s.tokens_per_step > 0, UsageError, what + ": tokens per step must be > 0");
    SY_CHECK(s.corpus.seq_len >= 2, UsageError, what + ": --seq-len must be at least 2");
    SY_CHECK(s.tokens_per_step / accumulation >= s.corpus.seq_len, UsageError,
             what + ": a micro-batch of " + std::to_string(s.tokens_per_step / accumulation) +
                 " tokens (--batch-tokens / --accumulation) cannot hold one window of --seq-len " +
                 std::to_string(s.corpus.seq_len));
    SY_CHECK(s.holdout >= 0 && s.holdout <= 0.5, UsageError, what + ": the held-out fraction must lie in [0, 0.5]");
    SY_CHECK(s.weight >= 0 && std::isfinite(s.weight), UsageError, what + ": the loss weight must be finite and >= 0");
    SY_CHECK(s.loss != TokenLoss::npo || s.npo_beta > 0, UsageError, what + ": NPO's beta must be > 0");
    for (const RoutingLoss& r : s.routing)
        SY_CHECK(r.weight >= 0 && std::isfinite(r.weight), UsageError,
                 what + ": " + routing_loss_name(r) + ": the weight must be finite and >= 0");
}

// Routing terms by model layer, and the layer/expert of every anchor.
void check_routing(const Model& model, const TrainingStream& s) {
    const ModelDescription& d = model.description;
    for (const RoutingLoss& r : s.routing) {
        SY_CHECK(!d.moe_layers.empty(), UsageError, routing_loss_name(r) + ": the model has no MoE layer");
        if (r.kind != RoutingLoss::Kind::anchor) continue;
        SY_CHECK(d.is_moe_layer(r.layer), UsageError, routing_loss_name(r) + ": layer " + std::to_string(r.layer) + " is not a MoE layer");
        SY_CHECK(r.expert >= 0 && r.expert < d.experts_in_layer(r.layer), UsageError,
                 routing_loss_name(r) + ": layer " + std::to_string(r.layer) + " has experts 0.." +
                     std::to_string(d.experts_in_layer(r.layer) - 1));
    }
}

// This process's windows of a global micro-batch: every W-th from its rank on, so the ranks'
// shares are disjoint, their union is the micro-batch, and their token counts differ by at
// most a window.
std::vector<int64_t> share_of(const std::vector<int64_t>& windows, const GradientReducer* reducer) {
    if (!reducer || reducer->world_size() == 1) return windows;
    std::vector<int64_t> mine;
    for (std::size_t j = std::size_t(reducer->rank()); j < windows.size(); j += std::size_t(reducer->world_size()))
        mine.push_back(windows[j]);
    return mine;
}

std::string progress_text(const char* phase, int64_t step, int64_t steps, double loss, double rate, double eta) {
    char text[200];
    std::snprintf(text, sizeof text, "%s step %6lld/%-6lld loss %9.4f %12s tok/s  ETA %s", phase, (long long)step,
                  (long long)steps, loss, format_count(int64_t(rate)).c_str(), format_duration(eta).c_str());
    return text;
}

// Per MoE layer of `model`: CV of the slot counts summed over a step's micro-batches (every
// stream), summed over the processes of a data-parallel run first.
std::vector<double> load_cv(const ModelDescription& d, const std::vector<torch::Tensor>& load, const torch::Device& device,
                            GradientReducer* reducer) {
    if (d.moe_layers.empty()) return {};
    std::vector<torch::Tensor> parts;
    for (int l : d.moe_layers) {
        const torch::Tensor& counts = load[static_cast<std::size_t>(l)];
        parts.push_back(counts.defined() ? counts
                                         : torch::zeros({d.experts_in_layer(l)}, torch::TensorOptions(torch::kFloat32).device(device)));
    }
    torch::Tensor all = torch::cat(parts).contiguous();
    if (reducer) reducer->all_reduce_sum(all.data_ptr<float>(), all.numel());
    all = all.to(torch::kCPU).to(torch::kFloat64);
    std::vector<double> out;
    int64_t offset = 0;
    for (int l : d.moe_layers) {
        const torch::Tensor counts = all.narrow(0, offset, d.experts_in_layer(l));
        offset += counts.numel();
        const double mean = counts.mean().item<double>();
        out.push_back(mean > 0 ? counts.std(/*unbiased=*/false).item<double>() / mean : std::nan(""));
    }
    return out;
}

}  // namespace

std::string format_load_summary(const TrainingResult& r) {
    if (r.load_layers.empty() || r.load_cv.empty()) return {};
    const std::size_t steps = r.load_cv.size(), tail = std::max<std::size_t>(1, steps / 10);
    std::string out = "expert load CV per MoE layer (0 = balanced; collapsed = every token on the same k experts):\n";
    for (std::size_t m = 0; m < r.load_layers.size(); ++m) {
        double last = 0;
        for (std::size_t s = steps - tail; s < steps; ++s) last += r.load_cv[s][m];
        last /= double(tail);
        char line[200];
        std::snprintf(line, sizeof line, "  layer %2d: %.3f at step 1 -> %.3f (mean of the last %zu steps); collapsed %.3f\n",
                      r.load_layers[m], r.load_cv.front()[m], last, tail, r.load_cv_collapsed[m]);
        out += line;
    }
    return out;
}

TrainingRun::TrainingRun(const Model& model, const TrainingOptions& options, Progress& progress, const CancelToken& cancel)
    : m_model(model), m_options(options), m_progress(progress), m_cancel(cancel), m_start(std::chrono::steady_clock::now()) {}

TrainingRun::~TrainingRun() = default;

void TrainingRun::validate() const {
    const TrainingOptions& o = m_options;
    const OptimizerOptions& opt = o.optimizer;
    SY_CHECK(!o.streams.empty(), UsageError, "training needs at least one data stream");
    SY_CHECK(o.steps > 0, UsageError, "--steps must be > 0, found " + std::to_string(o.steps));
    SY_CHECK(o.accumulation > 0, UsageError, "--accumulation must be > 0");
    SY_CHECK(std::isfinite(opt.lr) && opt.lr > 0, UsageError, "--lr must be > 0, found " + std::to_string(opt.lr));
    for (double lr : o.lr_candidates)
        SY_CHECK(std::isfinite(lr) && lr > 0, UsageError, "learning-rate candidates must be > 0, found " + std::to_string(lr));
    SY_CHECK(opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1 && opt.eps > 0, UsageError,
             "AdamW needs 0 <= beta1, beta2 < 1 and eps > 0");
    SY_CHECK(opt.weight_decay >= 0 && opt.clip_norm >= 0 && opt.warmup_steps >= 0 && opt.min_lr_ratio >= 0 &&
                 opt.min_lr_ratio <= 1,
             UsageError, "weight decay, clipping norm and warm-up must be >= 0, the final learning-rate ratio in [0, 1]");
    for (const TrainingStream& s : o.streams) {
        check_stream(s, o.accumulation);
        check_routing(m_model, s);
    }
    const bool heldout = o.streams.front().holdout > 0;
    SY_CHECK(o.patience == 0 || heldout, UsageError, "early stopping needs held-out windows of the first stream");
    SY_CHECK(o.lr_candidates.empty() || (heldout && o.probe_steps > 0), UsageError,
             "a learning-rate probe needs held-out windows of the first stream and probe steps > 0");
    SY_CHECK(!o.resume || !o.state_dir.empty(), UsageError, "--resume needs the folder of the resumable state");
    check_parameters(m_model, o.parameters);
}

void TrainingRun::load_data() {
    for (const TrainingStream& spec : m_options.streams) {
        StreamRuntime s;
        s.spec = &spec;
        m_progress.report(0, "reading " + spec.name + " data");
        s.windows = load_windows(m_model, spec.corpus, "--" + spec.name, m_cancel);
        s.split = split_holdout(static_cast<int64_t>(s.windows.windows.size()), spec.holdout, m_options.seed);
        s.micro_tokens = spec.tokens_per_step / m_options.accumulation;
        m_streams.push_back(std::move(s));
        for (const RoutingLoss& r : spec.routing) m_routing_names.push_back(spec.name + ": " + routing_loss_name(r));
    }
    for (const EvalSet& set : m_options.evaluations) {
        m_progress.report(0, "reading " + set.name + " evaluation data");
        m_eval_windows.push_back(load_windows(m_model, set.corpus, set.name, m_cancel));
    }
    reset_samplers();
}

void TrainingRun::reset_samplers() {
    for (std::size_t i = 0; i < m_streams.size(); ++i) {
        StreamRuntime& s = m_streams[i];
        // Each stream's order has its own seed, so adding a stream does not reorder the others.
        s.sampler = std::make_unique<WindowSampler>(s.split.train, s.windows, s.micro_tokens, m_options.seed + 7919 * (i + 1));
    }
}

void TrainingRun::start_model() {
    m_progress.report(0, "loading the model");
    m_trainable = std::make_unique<TrainableModel>(m_model, m_options.runner, m_options.parameters, m_options.initial);
    m_adam = std::make_unique<AdamW>(m_trainable->masters(), m_options.optimizer);
    const int64_t eval_tokens = std::max<int64_t>(m_plan.micro_batch_tokens, 1);
    if (m_resumed) {
        const TrainingState& st = *m_resumed;
        m_trainable->set_masters(st.masters);
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < st.exp_avg.size(); ++i) {
            m_adam->exp_avg()[i].copy_(st.exp_avg[i]);
            m_adam->exp_avg_sq()[i].copy_(st.exp_avg_sq[i]);
        }
        m_adam->set_steps(st.step);
        for (std::size_t i = 0; i < m_streams.size(); ++i) {
            m_streams[i].sampler->set_cursor(st.cursors[i]);
            m_streams[i].npo_reference = st.npo_reference[i];
        }
        m_before = eval_reports_from_json(st.before_json);
        m_heldout_before = st.heldout_before;
        m_step = st.step;
        m_lr = st.lr;
        m_best_step = st.best_step;
        m_best_loss = st.best_loss;
        m_since_best = st.evaluations_since_best;
        m_best = st.best;
        m_seconds_before = st.seconds;
        m_tokens = st.tokens;
        return;
    }
    for (StreamRuntime& s : m_streams)
        if (s.spec->loss == TokenLoss::npo) {
            m_progress.report(0, "reference log-probabilities of " + s.spec->name);
            s.npo_reference = window_mean_logp(*m_trainable, s.windows, s.split.train, eval_tokens, m_cancel);
        }
    for (std::size_t i = 0; i < m_options.evaluations.size(); ++i) {
        const EvalSet& set = m_options.evaluations[i];
        m_progress.report(0, "evaluating " + set.name + " before training");
        m_before.push_back(evaluate_set(*m_trainable, set.name, m_eval_windows[i], set.experts, eval_tokens, m_cancel));
    }
    m_heldout_before = heldout();
    m_best_loss = std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> TrainingRun::heldout() {
    const CancelToken& cancel = cancel_within_step();
    std::vector<double> out;
    for (StreamRuntime& s : m_streams)
        out.push_back(mean_nll(*m_trainable, s.windows, s.split.heldout, std::max<int64_t>(m_plan.micro_batch_tokens, 1), cancel));
    // Every rank evaluates all held-out windows; the mean of their (equal, on one machine)
    // values is what all of them decide early stopping and the learning rate on, so they agree
    // even where machines round differently.
    if (GradientReducer* reducer = m_options.reducer) {
        reducer->all_reduce_sum(out);
        for (double& v : out) v /= double(reducer->world_size());
    }
    return out;
}

void TrainingRun::join_balance_sums(GradientReducer& reducer) {
    // The all-reduces a micro-batch's forward makes for the load-balancing term, one per MoE
    // layer in forward order, with nothing to add.
    const ModelDescription& d = m_model.description;
    guard_torch("load-balancing sums", [&] {
        for (int l : d.moe_layers) join_balance_slot_shares(d.experts_in_layer(l), m_trainable->device(), reducer);
    });
}

const CancelToken& TrainingRun::cancel_within_step() const {
    // Data parallel: Ctrl-C waits for the step's end, where the ranks agree on it (reduce_step),
    // so that none is left waiting in a sum (gradients, held-out losses) for another that stopped.
    static const CancelToken never;
    return m_options.reducer ? never : m_cancel;
}

bool TrainingRun::writes_files() const { return !m_options.reducer || m_options.reducer->rank() == 0; }

void TrainingRun::choose_lr() {
    if (m_resumed) return;
    m_lr = m_options.optimizer.lr;
    if (m_options.lr_candidates.empty()) return;
    double best = std::numeric_limits<double>::infinity();
    for (double candidate : m_options.lr_candidates) {
        m_trainable->set_masters(m_trainable->initial_masters());
        m_adam->reset();
        reset_samplers();
        OptimizerOptions schedule = m_options.optimizer;
        schedule.lr = candidate;
        double loss = std::numeric_limits<double>::quiet_NaN();
        try {
            for (int64_t s = 1; s <= m_options.probe_steps; ++s) {
                step(learning_rate_at(schedule, s, m_options.steps));
                char text[120];
                std::snprintf(text, sizeof text, "probing learning rate %.3g: step %lld/%lld", candidate, (long long)s,
                              (long long)m_options.probe_steps);
                m_progress.report(0, text);
            }
            loss = heldout().front();
        } catch (const CheckpointError&) {
            // A candidate that diverges far enough for a router's logits to turn NaN (router.cpp
            // refuses those) loses, as one with a NaN held-out loss does; weights that are NaN
            // from the start fail every candidate and then the run itself, with that error.
        }
        if (loss < best) best = loss, m_lr = candidate;
    }
    m_trainable->set_masters(m_trainable->initial_masters());
    m_adam->reset();
    reset_samplers();
}

void TrainingRun::start_log() {
    if (m_options.log_file.empty() || !writes_files()) return;
    TrainingLogMeta meta;
    meta.command_line = m_options.command_line;
    meta.model_path = std::filesystem::absolute(m_model.checkpoint.dir()).lexically_normal().string();
    meta.model_fingerprint = model_fingerprint(m_model);
    meta.run_json = m_options.run_json;
    for (const TrainingStream& s : m_options.streams) meta.streams.push_back(s.name);
    meta.routing = m_routing_names;
    meta.load_layers.assign(m_model.description.moe_layers.begin(), m_model.description.moe_layers.end());
    if (m_resumed) {
        m_log.emplace(TrainingLog::resume(m_options.log_file, meta, m_step));
        return;
    }
    std::filesystem::create_directories(std::filesystem::absolute(m_options.log_file).parent_path());
    m_log.emplace(TrainingLog::create(m_options.log_file, meta, true));
    m_log->append(HeldoutRow{0, m_heldout_before});
}

StepOutcome TrainingRun::step(double lr) {
    StepOutcome out;
    std::vector<SamplerCursor> cursors;
    for (const StreamRuntime& s : m_streams) cursors.push_back(s.sampler->cursor());
    std::vector<torch::Tensor> load(static_cast<std::size_t>(m_model.description.num_layers));
    GradientReducer* reducer = m_options.reducer;
    const CancelToken& cancel = cancel_within_step();
    try {
        for (StreamRuntime& s : m_streams) {
            const TrainingStream& spec = *s.spec;
            std::vector<std::vector<int64_t>> micro;
            int64_t tokens = 0, windows = 0;
            for (int64_t a = 0; a < m_options.accumulation; ++a) {
                micro.push_back(s.sampler->next());
                tokens += s.windows.tokens_of(micro.back());
                windows += static_cast<int64_t>(micro.back().size());
            }
            TokenObjective token{spec.loss, spec.weight, double(tokens - windows), spec.npo_beta, {}};
            if (spec.loss == TokenLoss::npo) token.normaliser = double(windows);
            double stream_loss = 0;
            std::vector<double> routing(spec.routing.size(), 0.0);
            for (const std::vector<int64_t>& global : micro) {
                const std::vector<int64_t> indices = share_of(global, reducer);
                const RoutingObjective objective{spec.routing, double(tokens), double(s.windows.tokens_of(indices)) / double(tokens),
                                                 reducer};
                if (indices.empty()) {   // fewer windows than ranks: only the load-balancing sums need this rank
                    if (reducer && objective.has(RoutingLoss::Kind::load_balance)) join_balance_sums(*reducer);
                    continue;
                }
                token.reference.clear();
                for (int64_t i : indices) token.reference.push_back(s.npo_reference.empty() ? 0.0 : s.npo_reference[static_cast<std::size_t>(i)]);
                const MicroBatchResult r = train_micro_batch(*m_trainable, s.windows.batch(indices), token, objective,
                                                             m_plan.checkpointing, cancel);
                stream_loss += r.token_value;
                for (std::size_t i = 0; i < routing.size(); ++i) routing[i] += r.routing_values[i];
                for (std::size_t l = 0; l < load.size(); ++l)
                    if (r.expert_load[l].defined()) load[l] = load[l].defined() ? load[l] + r.expert_load[l] : r.expert_load[l];
            }
            out.stream_loss.push_back(stream_loss);
            out.loss += spec.weight * stream_loss;
            for (std::size_t i = 0; i < routing.size(); ++i) {
                out.routing_loss.push_back(routing[i]);
                out.loss += spec.routing[i].weight * routing[i];
            }
            out.tokens += tokens;
        }
    } catch (const Cancelled&) {
        // Back to the step boundary: the partial gradients go, the data cursors rewind.
        m_adam->zero_grad();
        for (std::size_t i = 0; i < m_streams.size(); ++i) m_streams[i].sampler->set_cursor(cursors[i]);
        throw;
    }
    out.load_cv = guard_torch("expert load", [&] { return load_cv(m_model.description, load, m_trainable->device(), reducer); });
    if (reducer) reduce_step(*reducer, out);
    out.grad_norm = m_adam->clip_gradients();
    m_adam->step(lr);
    m_adam->zero_grad();
    return out;
}

void TrainingRun::reduce_step(GradientReducer& reducer, StepOutcome& out) {
    // The losses were normalised by the global batch's counts, so the sums are the one-process
    // gradient and loss. One buffer for all gradients: one all-reduce per step.
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> grads;
    for (torch::Tensor& master : m_trainable->masters())
        grads.push_back(master.grad().defined() ? master.grad().reshape({-1}) : torch::zeros({master.numel()}, master.options()));
    torch::Tensor flat = torch::cat(grads).contiguous();
    reducer.all_reduce_sum(flat.data_ptr<float>(), flat.numel());
    int64_t offset = 0;
    for (torch::Tensor& master : m_trainable->masters()) {
        const torch::Tensor part = flat.narrow(0, offset, master.numel()).view_as(master);
        if (master.grad().defined()) master.mutable_grad().copy_(part);
        else master.mutable_grad() = part.clone();
        offset += master.numel();
    }
    // out.tokens is already the global batch's (every rank draws the same micro-batches).
    std::vector<double> values{out.loss, m_cancel.cancelled() ? 1.0 : 0.0};
    values.insert(values.end(), out.stream_loss.begin(), out.stream_loss.end());
    values.insert(values.end(), out.routing_loss.begin(), out.routing_loss.end());
    reducer.all_reduce_sum(values);
    out.loss = values[0];
    out.cancel = values[1] > 0;
    std::copy(values.begin() + 2, values.begin() + 2 + std::ptrdiff_t(out.stream_loss.size()), out.stream_loss.begin());
    std::copy(values.end() - std::ptrdiff_t(out.routing_loss.size()), values.end(), out.routing_loss.begin());
}

bool TrainingRun::after_evaluation(int64_t step) {
    const std::vector<double> losses = heldout();
    if (m_log) m_log->append(HeldoutRow{step, losses});
    if (m_options.patience <= 0) return false;
    const double loss = losses.front();
    if (std::isnan(m_best_loss) || loss < m_best_loss) {
        m_best_loss = loss;
        m_best_step = step;
        m_since_best = 0;
        m_best.clear();
        for (const torch::Tensor& master : m_trainable->masters()) m_best.push_back(master.detach().clone());
        return false;
    }
    return ++m_since_best >= m_options.patience;
}

void TrainingRun::save_state(int64_t step) {
    if (m_options.state_dir.empty() || !writes_files()) return;   // the ranks' states are equal
    TrainingState st;
    st.run_id = m_options.run_id;
    st.run_json = m_options.run_json;
    st.step = step;
    st.lr = m_lr;
    st.checkpointing = m_plan.checkpointing;
    for (const StreamRuntime& s : m_streams) {
        st.cursors.push_back(s.sampler->cursor());
        st.npo_reference.push_back(s.npo_reference);
    }
    st.best_step = m_best_step;
    st.best_loss = m_best_loss;
    st.evaluations_since_best = m_since_best;
    st.seconds = m_seconds_before + m_train_seconds;
    st.tokens = m_tokens;
    st.before_json = eval_reports_json(m_before);
    st.heldout_before = m_heldout_before;
    st.masters = m_trainable->masters();
    st.exp_avg = m_adam->exp_avg();
    st.exp_avg_sq = m_adam->exp_avg_sq();
    st.best = m_best;
    save_training_state(m_options.state_dir, st);
}

void TrainingRun::report(int64_t step, const StepOutcome& outcome, double lr) {
    const double seconds = m_seconds_before + m_train_seconds;
    const double rate = m_train_seconds > 0 ? double(m_tokens_this_run) / m_train_seconds : 0;
    if (m_log) {
        TrainingStepRow row;
        row.step = step;
        row.lr = lr;
        row.loss = outcome.loss;
        row.stream_loss = outcome.stream_loss;
        row.routing_loss = outcome.routing_loss;
        row.load_cv = outcome.load_cv;
        row.grad_norm = outcome.grad_norm;
        row.tokens = outcome.tokens;
        row.tokens_per_second = rate;
        row.seconds = seconds;
        m_log->append(row);
    }
    if (m_options.on_step)
        m_options.on_step(TrainingStepReport{step, m_options.steps, outcome.loss, outcome.stream_loss, lr, outcome.grad_norm});
    const int64_t done_this_run = step - (m_resumed ? m_resumed->step : 0);
    const double per_step = done_this_run > 0 ? seconds_since(m_start) / double(done_this_run) : 0;
    const double eta = per_step * double(m_options.steps - step);
    m_progress.report(double(step) / double(m_options.steps),
                      progress_text("train", step, m_options.steps, outcome.loss, rate, eta));
}

void TrainingRun::run_steps(int64_t first, int64_t last) {
    OptimizerOptions schedule = m_options.optimizer;
    schedule.lr = m_lr;
    for (int64_t s = first; s <= last; ++s) {
        const double lr = learning_rate_at(schedule, s, m_options.steps);
        const auto started = std::chrono::steady_clock::now();
        StepOutcome outcome;
        try {
            outcome = step(lr);
        } catch (const Cancelled&) {
            save_state(m_step);
            throw;
        }
        m_train_seconds += seconds_since(started);
        m_tokens += outcome.tokens;
        m_tokens_this_run += outcome.tokens;
        m_step = s;
        m_load_cv.push_back(outcome.load_cv);
        report(s, outcome, lr);
        const bool evaluate = (m_options.eval_every > 0 && s % m_options.eval_every == 0) || s == last;
        if (evaluate && after_evaluation(s)) break;
        if (m_options.reducer ? outcome.cancel : m_cancel.cancelled()) {
            save_state(m_step);
            throw Cancelled("cancelled");
        }
    }
}

void TrainingRun::finish(TrainingResult& result) {
    if (m_options.patience > 0 && !m_best.empty()) m_trainable->set_masters(m_best);
    result.steps = m_options.patience > 0 && !m_best.empty() ? m_best_step : m_step;
    result.steps_run = m_step;
    const std::vector<torch::Tensor> masters = [&] {
        std::vector<torch::Tensor> copy;
        for (const torch::Tensor& m : m_trainable->masters()) copy.push_back(m.detach().clone());
        return copy;
    }();
    // "After" is measured on the weights as the export stores them (bf16 rounding, FP8 blocks).
    m_trainable->set_masters(m_trainable->stored_masters(m_options.store_dtype));
    const int64_t eval_tokens = std::max<int64_t>(m_plan.micro_batch_tokens, 1);
    result.heldout_after = heldout();   // first: every rank takes part
    for (std::size_t i = 0; i < m_options.evaluations.size() && writes_files(); ++i) {   // only rank 0 reports them
        const EvalSet& set = m_options.evaluations[i];
        m_progress.report(1, "evaluating " + set.name + " after training");
        result.after.push_back(evaluate_set(*m_trainable, set.name, m_eval_windows[i], set.experts, eval_tokens, m_cancel));
    }
    for (std::size_t i = 0; i < masters.size(); ++i) {
        const torch::Tensor host = masters[i].to(torch::kCPU).to(torch::kFloat32).contiguous();
        TrainedTensor t;
        t.ref = m_options.parameters[i];
        t.shape = host.sizes().vec();
        t.values.assign(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
        result.tensors.push_back(std::move(t));
    }
    result.before = m_before;
    result.heldout_before = m_heldout_before;
    result.lr = m_lr;
    result.resumed_from = m_resumed ? m_resumed->step : 0;
    result.checkpointing = m_plan.checkpointing;
    result.seconds = m_train_seconds;
    result.tokens_per_second = m_train_seconds > 0 ? double(m_tokens_this_run) / m_train_seconds : 0;
    const ModelDescription& d = m_model.description;
    result.load_layers = d.moe_layers;
    for (int l : d.moe_layers)
        result.load_cv_collapsed.push_back(std::sqrt(std::max(0.0, double(d.experts_in_layer(l)) / double(std::max<int64_t>(d.top_k, 1)) - 1.0)));
    if (!d.moe_layers.empty()) result.load_cv = m_load_cv;
    if (m_log) m_log->close();
}

TrainingResult TrainingRun::run() {
    validate();
    m_plan = plan_training(m_model, m_options);
    SY_CHECK(m_plan.fits, OutOfMemory,
             "training needs about " + format_bytes(m_plan.total_bytes) + " (weights " + format_bytes(m_plan.frozen_weight_bytes) +
                 ", trained state " + format_bytes(m_plan.trained_state_bytes) + ", activations " +
                 format_bytes(m_plan.total_bytes - m_plan.frozen_weight_bytes - m_plan.trained_state_bytes) +
                 "), more than the " + format_bytes(m_plan.budget_bytes) +
                 " available: lower --batch-tokens, raise --accumulation or turn on --checkpoint-layers");
    if (m_options.resume)
        m_resumed = load_training_state(m_options.state_dir, m_options.run_id, m_options.run_json, m_options.parameters.size(),
                                        m_options.streams.size());
    torch::AutoGradMode grad_mode(true);
    load_data();
    if (m_resumed) m_plan.checkpointing = m_resumed->checkpointing;
    start_model();
    choose_lr();
    start_log();
    if (m_step < m_options.steps && !(m_options.patience > 0 && m_resumed && m_since_best >= m_options.patience))
        run_steps(m_step + 1, m_options.steps);
    TrainingResult result;
    finish(result);
    std::error_code ec;
    if (!m_options.state_dir.empty() && writes_files()) std::filesystem::remove_all(m_options.state_dir, ec);   // finished: nothing to resume
    return result;
}

TrainingResult run_training(const Model& model, const TrainingOptions& options, Progress& progress,
                            const CancelToken& cancel) {
    TrainingRun run(model, options, progress, cancel);
    return run.run();
}

}  // namespace sy
