// Score files: an analysis result file (result_store.h) of kind "score". Layout in
// docs/hdf5-schema.md "Score files".
#include <cmath>

#include "switchyard/core/errors.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/core/model.h"
#include "switchyard/core/result_reader.h"
#include "switchyard/core/result_store.h"
#include "switchyard/core/trace_store.h"

namespace sy {
namespace {

namespace fs = std::filesystem;

std::string group_of(int layer) { return "/scores/layer_" + std::to_string(layer); }

std::string join_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
    return text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t end = std::min(text.find('\n', begin), text.size());
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return lines;
}

void write_layer(ResultFile& file, const LayerExpertScores& l, std::size_t domains, int64_t hidden) {
    const std::string g = group_of(l.layer);
    const auto e = static_cast<uint64_t>(l.experts);
    file.attribute(g, "layer", static_cast<int64_t>(l.layer));
    file.attribute(g, "experts", l.experts);
    file.write(g + "/count", l.count);
    file.write(g + "/frequency", l.frequency);
    file.write(g + "/gate_mass", l.gate_mass);
    file.write(g + "/mean_prob", l.mean_prob);
    file.write(g + "/ean", l.ean);
    file.write(g + "/reap", l.reap);
    file.write(g + "/domain_count", l.domain_count, {static_cast<uint64_t>(domains), e});
    file.write(g + "/router_logit_gram", l.router_logit_gram, {e, e});
    if (!l.output_mean.empty()) file.write(g + "/output_mean", l.output_mean, {e, static_cast<uint64_t>(hidden)});
}

LayerExpertScores read_layer(const ResultReader& in, int layer, bool outputs) {
    const std::string g = group_of(layer);
    LayerExpertScores l;
    l.layer = layer;
    l.experts = in.int_attribute(g, "experts");
    l.count = in.ints(g + "/count");
    l.frequency = in.doubles(g + "/frequency");
    l.gate_mass = in.doubles(g + "/gate_mass");
    l.mean_prob = in.doubles(g + "/mean_prob");
    l.ean = in.doubles(g + "/ean");
    l.reap = in.doubles(g + "/reap");
    l.domain_count = in.ints(g + "/domain_count");
    l.router_logit_gram = in.doubles(g + "/router_logit_gram");
    if (outputs) l.output_mean = in.doubles(g + "/output_mean");
    for (const auto* v : {&l.frequency, &l.gate_mass, &l.mean_prob, &l.ean, &l.reap})
        SY_CHECK(static_cast<int64_t>(v->size()) == l.experts, UsageError,
                 in.path().string() + ": " + g + ": per-expert datasets must hold " + std::to_string(l.experts) + " values");
    SY_CHECK(static_cast<int64_t>(l.count.size()) == l.experts, UsageError,
             in.path().string() + ": " + g + "/count must hold " + std::to_string(l.experts) + " values");
    return l;
}

}  // namespace

const LayerExpertScores& ExpertScores::layer(int model_layer) const {
    for (const auto& l : layers)
        if (l.layer == model_layer) return l;
    throw UsageError("the scores hold no MoE layer " + std::to_string(model_layer));
}

void write_expert_scores(const ExpertScores& s, const fs::path& out, bool overwrite) {
    ResultProvenance provenance{"score", s.command_line, {fs::path(s.model_path)}};
    ResultFile file = ResultFile::create(out, provenance, overwrite);
    file.attribute("/", "scores_format_version", scores_format_version);
    file.attribute("/", "model_path", s.model_path);
    file.attribute("/", "model_fingerprint", s.model_fingerprint);
    file.attribute("/", "model_type", s.model_type);
    file.attribute("/", "data", join_lines(s.data_files));
    file.attribute("/", "data_sha256", s.data_sha256);
    file.attribute("/", "masked_experts", s.masked_experts);
    file.attribute("/", "top_k", s.top_k);
    file.attribute("/", "hidden_size", s.hidden_size);
    file.attribute("/", "tokens", s.tokens);
    file.attribute("/", "output_tokens", s.output_tokens);
    std::vector<int32_t> layers;
    for (const auto& l : s.layers) layers.push_back(l.layer);
    file.write("/meta/moe_layers", layers);
    file.write("/meta/domains", s.domains);
    file.write("/meta/domain_tokens", s.domain_tokens);
    for (const auto& l : s.layers) write_layer(file, l, s.domains.size(), s.hidden_size);
    file.commit();
}

ExpertScores read_expert_scores(const fs::path& path) {
    const ResultReader in = ResultReader::open(path);
    SY_CHECK(in.has_attribute("/", "kind") && in.string_attribute("/", "kind") == "score", UsageError,
             path.string() + ": not a Switchyard score file (written by `switchyard score -o`)");
    const int64_t version = in.int_attribute("/", "scores_format_version");
    SY_CHECK(version <= scores_format_version, UsageError,
             path.string() + ": score format version " + std::to_string(version) + " is newer than this Switchyard reads (" +
                 std::to_string(scores_format_version) + ")");
    ExpertScores s;
    s.model_path = in.string_attribute("/", "model_path");
    s.model_fingerprint = in.string_attribute("/", "model_fingerprint");
    s.model_type = in.string_attribute("/", "model_type");
    s.command_line = in.string_attribute("/", "command_line");
    s.created = in.string_attribute("/", "created");
    s.tool_version = in.string_attribute("/", "tool_version");
    s.data_files = split_lines(in.string_attribute("/", "data"));
    s.data_sha256 = in.string_attribute("/", "data_sha256");
    s.masked_experts = in.string_attribute("/", "masked_experts");
    s.top_k = in.int_attribute("/", "top_k");
    s.hidden_size = in.int_attribute("/", "hidden_size");
    s.tokens = in.int_attribute("/", "tokens");
    s.output_tokens = in.int_attribute("/", "output_tokens");
    s.domains = in.strings("/meta/domains");
    s.domain_tokens = in.ints("/meta/domain_tokens");
    for (int64_t layer : in.ints("/meta/moe_layers"))
        s.layers.push_back(read_layer(in, static_cast<int>(layer), s.output_tokens > 0));
    return s;
}

void check_scores_match(const ExpertScores& s, const Model& model, const fs::path& scores_path) {
    SY_CHECK(s.model_fingerprint == model_fingerprint(model), UsageError,
             scores_path.string() + ": these scores were computed from another model (" + s.model_path +
                 "): its config.json or safetensors headers differ from " + model.checkpoint.dir().string());
    const ModelDescription& d = model.description;
    SY_CHECK(s.layers.size() == d.moe_layers.size(), UsageError,
             scores_path.string() + ": holds " + std::to_string(s.layers.size()) + " MoE layers, the model has " +
                 std::to_string(d.moe_layers.size()));
    for (std::size_t i = 0; i < s.layers.size(); ++i)
        SY_CHECK(s.layers[i].layer == d.moe_layers[i] && s.layers[i].experts == d.num_experts[i], UsageError,
                 scores_path.string() + ": layer " + std::to_string(s.layers[i].layer) + " with " +
                     std::to_string(s.layers[i].experts) + " experts does not match the model's MoE layer " +
                     std::to_string(d.moe_layers[i]) + " with " + std::to_string(d.num_experts[i]));
}

}  // namespace sy
