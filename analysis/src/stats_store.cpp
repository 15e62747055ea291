// StatsResult -> /stats of a result file ("-o OUT.h5"; layout in
// docs/hdf5-schema.md "Analysis result files").
#include "store_util.h"
#include "switchyard/analysis/result_files.h"

namespace sy::analysis {

using namespace store_util;

namespace {

void save_load(ResultFile& out, const std::string& g, const LayerLoad& load) {
    out.attribute(g, "experts", static_cast<int64_t>(load.counts.size()));
    out.write(g + "/counts", load.counts);
    out.write(g + "/first_choice_counts", load.first_choice_counts);
    out.write(g + "/fractions", load.fractions);
    put_metrics(out, g, load.metrics);
    put_metrics(out, g, load.first_choice_metrics, "first_choice_");
}

void save_router(ResultFile& out, const std::string& g, const LayerRouterScores& r) {
    out.attribute(g, "router_entropy_bits", r.mean_entropy_bits);
    out.attribute(g, "router_entropy_normalized", r.mean_entropy_normalized);
    out.attribute(g, "topk_score_mass", r.topk_score_mass);
    out.attribute(g, "uniform_topk_mass", r.uniform_topk_mass);
    out.attribute(g, "lbl_global", r.lbl_global);
    out.attribute(g, "lbl_micro_mean", r.lbl_micro_mean);
    out.write(g + "/mean_router_probs", r.mean_probs);
    out.write(g + "/lbl_windows", r.lbl_windows);
}

void save_repetition(ResultFile& out, const std::string& g, const LayerRepetition& r) {
    out.attribute(g, "repetition_pairs", r.all.pairs);
    out.attribute(g, "repetition_same_first", r.all.same_first);
    out.attribute(g, "repetition_any_shared", r.all.any_shared);
    out.attribute(g, "baseline_same_first", r.baseline_same_first);
    out.attribute(g, "baseline_any_shared", r.baseline_any_shared);
    std::vector<std::vector<int64_t>> by_domain;   // [D][3]
    for (const RepetitionCounts& c : r.by_domain) by_domain.push_back({c.pairs, c.same_first, c.any_shared});
    if (by_domain.empty()) {
        out.write(g + "/repetition_by_domain", std::vector<int64_t>{}, {0, 3});
    } else {
        write_matrix(out, g + "/repetition_by_domain", by_domain);
    }
}

void save_domain(ResultFile& out, const std::string& g, const DomainLayerStats& d, std::size_t experts) {
    // A trace without domains has D = 0: keep the [D, E] shapes so readers need no special case.
    if (d.counts.empty()) {
        out.write(g + "/domain_counts", std::vector<int64_t>{}, {0, experts});
        out.write(g + "/domain_frequency", std::vector<double>{}, {0, experts});
        out.write(g + "/domain_lift", std::vector<double>{}, {0, experts});
    } else {
        write_matrix(out, g + "/domain_counts", d.counts);
        write_matrix(out, g + "/domain_frequency", d.frequency);
        write_matrix(out, g + "/domain_lift", d.lift);
    }
    out.write(g + "/domain_specialisation", d.specialisation);
}

void save_top_tokens(ResultFile& out, const std::string& g, const TokenLayerStats& s, int top_n,
                     const std::vector<std::string>& strings) {
    out.attribute(g, "vocabulary_specialisation", s.vocabulary_specialisation);
    out.attribute(g, "distinct_tokens", s.distinct_tokens);
    // [E, top_n], padded with id -1 / count 0 / "" where an expert has fewer listed tokens.
    const std::size_t experts = s.top_tokens.size(), n = static_cast<std::size_t>(std::max(top_n, 0));
    std::vector<int32_t> ids(experts * n, -1);
    std::vector<int64_t> counts(experts * n, 0), occurrences(experts * n, 0);
    std::vector<double> lift(experts * n, 0);
    std::vector<std::string> text(experts * n);
    for (std::size_t e = 0; e < experts; ++e)
        for (std::size_t i = 0; i < s.top_tokens[e].size() && i < n; ++i) {
            const TopToken& t = s.top_tokens[e][i];
            const std::size_t at = e * n + i;
            ids[at] = t.token_id;
            counts[at] = t.count;
            occurrences[at] = t.occurrences;
            lift[at] = t.lift;
            if (t.token_id >= 0 && static_cast<std::size_t>(t.token_id) < strings.size()) text[at] = strings[t.token_id];
        }
    out.write(g + "/top_token_ids", ids, {experts, n});
    out.write(g + "/top_token_counts", counts, {experts, n});
    out.write(g + "/top_token_occurrences", occurrences, {experts, n});
    out.write(g + "/top_token_lift", lift, {experts, n});
    out.write(g + "/top_token_strings", text, {experts, n});
}

}  // namespace

void save_stats(const StatsResult& r, const std::vector<std::string>& token_strings, ResultFile& out) {
    const std::string root = "/stats";
    out.attribute(root, "tokens", r.tokens);
    out.attribute(root, "top_k", r.shape.top_k);
    out.attribute(root, "window_tokens", r.window_tokens);
    out.attribute(root, "router_logits", r.has_router_scores);
    out.attribute(root, "top_n", r.token_table.top_n);
    out.attribute(root, "min_token_count", r.token_table.min_count);
    out.attribute(root, "unlabelled_tokens", r.domains.unlabelled_tokens);
    out.attribute(root, "position_bucket_tokens", r.positions.bucket_tokens);
    out.write(root + "/moe_layers", to_int32(r.shape.moe_layers));
    out.write(root + "/num_experts", to_int32(r.shape.num_experts));
    out.write(root + "/domain_names", r.domains.names);
    out.write(root + "/domain_tokens", r.domains.tokens);
    out.write(root + "/position_tokens", r.positions.tokens);
    for (std::size_t l = 0; l < r.loads.size(); ++l) {
        const std::string g = layer_group(root, r.loads[l].layer);
        out.attribute(g, "moe_index", static_cast<int64_t>(l));
        save_load(out, g, r.loads[l]);
        if (r.has_router_scores) save_router(out, g, r.router[l]);
        save_repetition(out, g, r.repetition[l]);
        save_domain(out, g, r.domains.layers[l], r.loads[l].counts.size());
        write_matrix(out, g + "/position_fractions", r.positions.layers[l].fractions);
        out.write(g + "/position_divergence", r.positions.layers[l].divergence);
        out.attribute(g, "top_tokens", false);
    }
    for (const TokenLayerStats& s : r.token_table.layers) {
        const std::string g = layer_group(root, s.layer);
        out.attribute(g, "top_tokens", true);
        save_top_tokens(out, g, s, r.token_table.top_n, token_strings);
    }
}

}  // namespace sy::analysis
