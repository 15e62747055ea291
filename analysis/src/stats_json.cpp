// JSON form of StatsResult. Keys mirror the result structs of stats*.h.
#include "json_util.h"
#include "switchyard/analysis/stats.h"

namespace sy::analysis {

using json_util::json;

namespace {

json router_json(const LayerRouterScores& r) {
    return {{"mean_entropy_bits", r.mean_entropy_bits},
            {"mean_entropy_normalized", r.mean_entropy_normalized},
            {"topk_score_mass", r.topk_score_mass},
            {"uniform_topk_mass", r.uniform_topk_mass},
            {"mean_probs", r.mean_probs},
            {"lbl_global", r.lbl_global},
            {"lbl_micro_mean", r.lbl_micro_mean},
            {"lbl_windows", r.lbl_windows}};
}

json repetition_counts(const RepetitionCounts& c) {
    return {{"pairs", c.pairs},
            {"same_first", c.same_first},
            {"any_shared", c.any_shared},
            {"same_first_fraction", c.same_first_fraction()},
            {"any_shared_fraction", c.any_shared_fraction()}};
}

json repetition_json(const LayerRepetition& r, const std::vector<std::string>& domain_names) {
    json j = repetition_counts(r.all);
    j["baseline_same_first"] = r.baseline_same_first;
    j["baseline_any_shared"] = r.baseline_any_shared;
    json by_domain = json::array();
    for (size_t d = 0; d < r.by_domain.size(); ++d) {
        json dj = repetition_counts(r.by_domain[d]);
        dj["domain"] = d < domain_names.size() ? domain_names[d] : "domain " + std::to_string(d);
        by_domain.push_back(std::move(dj));
    }
    j["by_domain"] = std::move(by_domain);
    return j;
}

json layer_json(const StatsResult& r, size_t l) {
    const LayerLoad& load = r.loads[l];
    json j = {{"layer", load.layer},
              {"moe_index", l},
              {"experts", load.counts.size()},
              {"counts", load.counts},
              {"fractions", load.fractions},
              {"first_choice_counts", load.first_choice_counts}};
    json_util::put_metrics(j, load.metrics);
    json_util::put_metrics(j, load.first_choice_metrics, "first_choice_");
    if (r.has_router_scores) j["router"] = router_json(r.router[l]);
    j["repetition"] = repetition_json(r.repetition[l], r.domains.names);
    return j;
}

json domains_json(const DomainStats& d) {
    json layers = json::array();
    for (const DomainLayerStats& s : d.layers) {
        layers.push_back({{"layer", s.layer},
                          {"counts", json_util::matrix(s.counts)},
                          {"frequency", json_util::matrix(s.frequency)},
                          {"lift", json_util::matrix(s.lift)},
                          {"specialisation", s.specialisation}});
    }
    return {{"names", d.names}, {"tokens", d.tokens}, {"unlabelled_tokens", d.unlabelled_tokens}, {"layers", layers}};
}

json tokens_json(const TokenStats& t, const std::vector<std::string>& strings) {
    json layers = json::array();
    for (const TokenLayerStats& s : t.layers) {
        json experts = json::array();
        for (const auto& top : s.top_tokens) {
            json list = json::array();
            for (const TopToken& tok : top) {
                list.push_back({{"id", tok.token_id},
                                {"token", json_util::token_text(strings, tok.token_id)},
                                {"count", tok.count},
                                {"occurrences", tok.occurrences},
                                {"lift", tok.lift}});
            }
            experts.push_back(std::move(list));
        }
        layers.push_back({{"layer", s.layer},
                          {"vocabulary_specialisation", s.vocabulary_specialisation},
                          {"distinct_tokens", s.distinct_tokens},
                          {"experts", std::move(experts)}});
    }
    return {{"top_n", t.top_n}, {"min_count", t.min_count}, {"layers", layers}};
}

json positions_json(const PositionStats& p) {
    json layers = json::array();
    for (const PositionLayerStats& s : p.layers) {
        layers.push_back({{"layer", s.layer}, {"fractions", json_util::matrix(s.fractions)}, {"divergence", s.divergence}});
    }
    return {{"bucket_tokens", p.bucket_tokens}, {"tokens", p.tokens}, {"layers", layers}};
}

}  // namespace

std::string stats_to_json(const StatsResult& r, const std::vector<std::string>& token_strings, int indent) {
    json layers = json::array();
    for (size_t l = 0; l < r.loads.size(); ++l) layers.push_back(layer_json(r, l));
    json j = {{"tokens", r.tokens},
              {"top_k", r.shape.top_k},
              {"window_tokens", r.window_tokens},
              {"router_logits", r.has_router_scores},
              {"entropy_units", "bits"},
              {"layers", std::move(layers)},
              {"domains", domains_json(r.domains)},
              {"top_tokens", tokens_json(r.token_table, token_strings)},
              {"positions", positions_json(r.positions)}};
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace sy::analysis
