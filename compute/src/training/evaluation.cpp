#include "training/evaluation.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "jobs/loss_accumulator.h"
#include "training/micro_batch.h"

namespace sy {
namespace {

using Json = nlohmann::ordered_json;

// Consecutive runs of `indices` holding at most `tokens` tokens (at least one window each).
std::vector<std::vector<int64_t>> batches_of(const WindowSet& set, const std::vector<int64_t>& indices, int64_t tokens) {
    std::vector<std::vector<int64_t>> out;
    int64_t used = 0;
    for (int64_t i : indices) {
        const int64_t length = static_cast<int64_t>(set.windows[static_cast<std::size_t>(i)].ids.size());
        if (out.empty() || used + length > tokens) {
            out.emplace_back();
            used = 0;
        }
        out.back().push_back(i);
        used += length;
    }
    return out;
}

std::vector<int64_t> all_windows(const WindowSet& set) {
    std::vector<int64_t> out(set.windows.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(i);
    return out;
}

Json stats_json(const EvalStats& s) {
    return {{"tokens", s.tokens}, {"mean_nll", std::isfinite(s.mean_nll) ? Json(s.mean_nll) : Json(nullptr)}};
}

EvalStats stats_from(const Json& j) {
    EvalStats s;
    s.tokens = j.at("tokens").get<int64_t>();
    s.mean_nll = j.at("mean_nll").is_null() ? std::nan("") : j.at("mean_nll").get<double>();
    s.perplexity = std::exp(s.mean_nll);
    return s;
}

}  // namespace

EvalReport evaluate_set(TrainableModel& model, const std::string& name, const WindowSet& set,
                        const std::vector<std::pair<int, int>>& experts, int64_t batch_tokens, const CancelToken& cancel) {
    LossAccumulator losses;
    losses.add_docs(set.documents);
    std::vector<int64_t> chosen(experts.size(), 0);
    int64_t routed_tokens = 0;   // every token passes every MoE layer
    for (const std::vector<int64_t>& indices : batches_of(set, all_windows(set), batch_tokens)) {
        routed_tokens += set.tokens_of(indices);
        const auto on_routing = [&](int layer, const Routing& routing) {
            for (std::size_t i = 0; i < experts.size(); ++i)
                if (experts[i].first == layer)
                    chosen[i] += routing.ids.eq(experts[i].second).any(1).sum().item<int64_t>();
        };
        const std::vector<float> nll = forward_nll(model, set.batch(indices), on_routing, cancel);
        DatasetBatch batch;   // the windows in LossAccumulator's form
        for (int64_t i : indices) batch.windows.push_back(set.windows[static_cast<std::size_t>(i)]);
        losses.add_losses(batch, nll);
    }
    const EvalResult result = losses.result();
    EvalReport report;
    report.name = name;
    report.domains = result.domains;
    report.all = result.all;
    for (int64_t c : chosen) report.selection_rate.push_back(routed_tokens > 0 ? double(c) / double(routed_tokens) : 0.0);
    return report;
}

double mean_nll(TrainableModel& model, const WindowSet& set, const std::vector<int64_t>& indices, int64_t batch_tokens,
                const CancelToken& cancel) {
    double sum = 0;
    int64_t count = 0;
    for (const std::vector<int64_t>& batch : batches_of(set, indices, batch_tokens))
        for (float v : forward_nll(model, set.batch(batch), {}, cancel))
            if (!std::isnan(v)) sum += v, ++count;
    return count > 0 ? sum / double(count) : std::nan("");
}

std::vector<float> window_mean_logp(TrainableModel& model, const WindowSet& set, const std::vector<int64_t>& indices,
                                    int64_t batch_tokens, const CancelToken& cancel) {
    std::vector<float> out(set.windows.size(), 0.0f);
    for (const std::vector<int64_t>& batch : batches_of(set, indices, batch_tokens)) {
        const std::vector<float> nll = forward_nll(model, set.batch(batch), {}, cancel);
        std::size_t offset = 0;
        for (int64_t i : batch) {
            const std::size_t length = set.windows[static_cast<std::size_t>(i)].ids.size();
            double sum = 0;
            for (std::size_t t = 0; t + 1 < length; ++t) sum += nll[offset + t];
            out[static_cast<std::size_t>(i)] = static_cast<float>(-sum / double(length - 1));
            offset += length;
        }
    }
    return out;
}

std::string eval_reports_json(const std::vector<EvalReport>& reports) {
    Json out = Json::array();
    for (const EvalReport& r : reports) {
        Json domains = Json::object();
        for (const auto& [name, stats] : r.domains) domains[name] = stats_json(stats);
        out.push_back({{"name", r.name}, {"domains", domains}, {"all", stats_json(r.all)}, {"selection_rate", r.selection_rate}});
    }
    return out.dump();
}

std::vector<EvalReport> eval_reports_from_json(const std::string& text) {
    std::vector<EvalReport> out;
    const Json json = Json::parse(text);
    if (json.is_null()) return out;
    for (const Json& j : json) {
        EvalReport r;
        r.name = j.at("name").get<std::string>();
        for (const auto& [name, stats] : j.at("domains").items()) r.domains[name] = stats_from(stats);
        r.all = stats_from(j.at("all"));
        r.selection_rate = j.at("selection_rate").get<std::vector<double>>();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace sy
