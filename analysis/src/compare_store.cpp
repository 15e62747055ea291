// CompareResult -> /compare and DatasetComparison -> /compare_datasets of a result file
// ("-o OUT.h5"; layout in docs/hdf5-schema.md "Analysis result files").
#include "store_util.h"
#include "switchyard/analysis/result_files.h"

namespace sy::analysis {

using namespace store_util;

void save_compare(const CompareResult& r, const std::vector<std::string>& token_strings, ResultFile& out) {
    const std::string root = "/compare";
    out.attribute(root, "tokens", r.tokens);
    out.attribute(root, "topk_overlap", r.topk_overlap);
    out.attribute(root, "first_choice_agreement", r.first_choice);
    out.write(root + "/moe_layers", to_int32(r.shape.moe_layers));
    for (const LayerAgreement& a : r.layers) {
        const std::string g = layer_group(root, a.layer);
        out.attribute(g, "topk_overlap", a.topk_overlap);
        out.attribute(g, "topk_set_equal", a.topk_set_equal);
        out.attribute(g, "first_choice_agreement", a.first_choice);
        out.attribute(g, "load_tv", a.load_tv);
        out.write(g + "/counts_a", a.counts_a);
        out.write(g + "/counts_b", a.counts_b);
        out.write(g + "/load_drift", a.drift);
    }
    // Most-changed tokens as a table of equal-length columns [n].
    std::vector<int64_t> token;
    std::vector<int32_t> id, doc, pos, first_changes;
    std::vector<double> changed;
    std::vector<std::string> text;
    for (const ChangedToken& t : r.most_changed) {
        token.push_back(t.token);
        id.push_back(t.token_id);
        doc.push_back(t.doc);
        pos.push_back(t.pos);
        first_changes.push_back(t.first_choice_changes);
        changed.push_back(t.changed);
        text.push_back(t.token_id >= 0 && static_cast<std::size_t>(t.token_id) < token_strings.size()
                           ? token_strings[t.token_id]
                           : std::string());
    }
    const std::string m = root + "/most_changed";
    out.write(m + "/token", token);
    out.write(m + "/id", id);
    out.write(m + "/text", text);
    out.write(m + "/doc", doc);
    out.write(m + "/pos", pos);
    out.write(m + "/changed", changed);
    out.write(m + "/first_choice_changes", first_changes);
}

namespace {

// E of a model layer, from the load deltas (every MoE layer has one).
uint64_t experts_of(const DatasetComparison& r, int layer) {
    for (const LoadDelta& d : r.loads)
        if (d.layer == layer) return d.delta.size();
    return 0;
}

}  // namespace

void save_dataset_comparison(const DatasetComparison& r, ResultFile& out) {
    const std::string root = "/compare_datasets";
    out.attribute(root, "convention", r.convention);
    out.attribute(root, "hops", r.hops);
    for (const LoadDelta& d : r.loads) {
        const std::string g = layer_group(root + "/loads", d.layer);
        out.attribute(g, "tv", d.tv);
        out.write(g + "/fractions_a", d.fractions_a);
        out.write(g + "/fractions_b", d.fractions_b);
        out.write(g + "/delta", d.delta);
        put_metrics(out, g, d.metrics_a, "a_");
        put_metrics(out, g, d.metrics_b, "b_");
    }
    for (const AffinityDelta& d : r.affinity) {
        const std::string g = pair_group(root + "/affinity", d.from_layer, d.to_layer);
        out.attribute(g, "from_layer", d.from_layer);
        out.attribute(g, "to_layer", d.to_layer);
        out.attribute(g, "conditional_tv", d.conditional_tv);
        out.attribute(g, "max_abs_delta", d.max_abs_delta);
        out.attribute(g, "mutual_information_a", d.mutual_information_a);
        out.attribute(g, "mutual_information_b", d.mutual_information_b);
        out.write(g + "/conditional_delta", d.delta, {experts_of(r, d.from_layer), experts_of(r, d.to_layer)});
    }
}

}  // namespace sy::analysis
