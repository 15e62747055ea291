// JSON / text forms of CompareResult and DatasetComparison.
#include "json_util.h"
#include "switchyard/analysis/compare.h"
#include "text_util.h"

namespace sy::analysis {

using json_util::json;
using text_util::appendf;

std::string compare_to_json(const CompareResult& r, const std::vector<std::string>& strings, int indent) {
    json layers = json::array();
    for (const LayerAgreement& g : r.layers) {
        layers.push_back({{"layer", g.layer},
                          {"topk_overlap", g.topk_overlap},
                          {"topk_set_equal", g.topk_set_equal},
                          {"first_choice_agreement", g.first_choice},
                          {"counts_a", g.counts_a},
                          {"counts_b", g.counts_b},
                          {"load_drift", g.drift},
                          {"load_tv", g.load_tv}});
    }
    json changed = json::array();
    for (const ChangedToken& t : r.most_changed) {
        changed.push_back({{"token", t.token},
                           {"id", t.token_id},
                           {"text", json_util::token_text(strings, t.token_id)},
                           {"doc", t.doc},
                           {"pos", t.pos},
                           {"changed", t.changed},
                           {"first_choice_changes", t.first_choice_changes}});
    }
    auto loss = [](const DomainLoss& d) {
        return json{{"domain", d.domain}, {"tokens", d.tokens}, {"mean_nll_a", d.mean_nll_a}, {"mean_nll_b", d.mean_nll_b}};
    };
    json domains = json::array();
    for (const DomainLoss& d : r.domains) domains.push_back(loss(d));
    json j = {{"mode", "same-tokens"},
              {"tokens", r.tokens},
              {"topk_overlap", r.topk_overlap},
              {"first_choice_agreement", r.first_choice},
              {"layers", std::move(layers)},
              {"most_changed", std::move(changed)},
              {"nll", {{"domains", std::move(domains)}, {"all", loss(r.all)}}}};
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string compare_summary(const CompareResult& r, const std::vector<std::string>& strings) {
    std::string out;
    appendf(out, "%lld tokens: top-k overlap %.2f%%, first choice agrees %.2f%% (means over layers)\n",
            static_cast<long long>(r.tokens), 100 * r.topk_overlap, 100 * r.first_choice);
    appendf(out, "%6s %12s %12s %12s %10s\n", "layer", "topk-overlap", "same-set", "same-first", "load-TV");
    for (const LayerAgreement& g : r.layers) {
        appendf(out, "%6d %11.2f%% %11.2f%% %11.2f%% %10.4f\n", g.layer, 100 * g.topk_overlap, 100 * g.topk_set_equal,
                100 * g.first_choice, g.load_tv);
    }
    if (r.all.tokens > 0) {
        appendf(out, "next-token loss (nats) over %lld tokens:\n%-24s %10s %10s %10s %10s\n", static_cast<long long>(r.all.tokens),
                "domain", "tokens", "nll-A", "nll-B", "B-A");
        for (const DomainLoss& d : loss_rows(r))
            appendf(out, "%-24s %10lld %10.4f %10.4f %+10.4f\n", d.domain.c_str(), static_cast<long long>(d.tokens),
                    d.mean_nll_a, d.mean_nll_b, d.mean_nll_b - d.mean_nll_a);
    }
    if (!r.most_changed.empty()) appendf(out, "tokens whose routes changed most (share of slots changed):\n");
    for (size_t i = 0; i < r.most_changed.size() && i < 20; ++i) {
        const ChangedToken& t = r.most_changed[i];
        appendf(out, "  token %lld (doc %d pos %d) '%s': %.1f%%, first choice changed in %d layer(s)\n",
                static_cast<long long>(t.token), t.doc, t.pos,
                text_util::printable(json_util::token_text(strings, t.token_id)).c_str(), 100 * t.changed,
                t.first_choice_changes);
    }
    return out;
}

std::string dataset_comparison_to_json(const DatasetComparison& r, int indent) {
    json loads = json::array();
    for (const LoadDelta& d : r.loads) {
        json j = {{"layer", d.layer}, {"fractions_a", d.fractions_a}, {"fractions_b", d.fractions_b},
                  {"delta", d.delta}, {"tv", d.tv}};
        json_util::put_metrics(j, d.metrics_a, "a_");
        json_util::put_metrics(j, d.metrics_b, "b_");
        loads.push_back(std::move(j));
    }
    json affinity = json::array();
    for (const AffinityDelta& d : r.affinity) {
        affinity.push_back({{"from_layer", d.from_layer},
                            {"to_layer", d.to_layer},
                            {"conditional_delta", d.delta},
                            {"conditional_tv", d.conditional_tv},
                            {"max_abs_delta", d.max_abs_delta},
                            {"mutual_information_a", d.mutual_information_a},
                            {"mutual_information_b", d.mutual_information_b}});
    }
    json j = {{"mode", "datasets"}, {"loads", std::move(loads)}, {"affinity", std::move(affinity)}};
    if (!r.affinity.empty()) {
        j["convention"] = r.convention;
        j["hops"] = r.hops;
    }
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string dataset_comparison_summary(const DatasetComparison& r) {
    std::string out;
    appendf(out, "load deltas (B - A):\n%6s %9s %10s %10s %10s %10s\n", "layer", "load-TV", "entropy-A", "entropy-B",
            "maxvio-A", "maxvio-B");
    for (const LoadDelta& d : r.loads) {
        appendf(out, "%6d %9.4f %10.3f %10.3f %10.3f %10.3f\n", d.layer, d.tv, d.metrics_a.entropy_normalized,
                d.metrics_b.entropy_normalized, d.metrics_a.max_vio, d.metrics_b.max_vio);
    }
    if (r.affinity.empty()) return out;
    appendf(out, "affinity deltas (%s, %d hop(s)):\n%6s %6s %10s %10s %8s %8s\n", r.convention.c_str(), r.hops, "from",
            "to", "cond-TV", "max|d|", "MI-A", "MI-B");
    for (const AffinityDelta& d : r.affinity) {
        appendf(out, "%6d %6d %10.4f %10.4f %8.4f %8.4f\n", d.from_layer, d.to_layer, d.conditional_tv, d.max_abs_delta,
                d.mutual_information_a, d.mutual_information_b);
    }
    return out;
}

}  // namespace sy::analysis
