// The export of a trained model (expert_training.h): the plain streamed export's tensor list
// with each trained tensor's entry given a producer that writes the trained f32 values in the
// entry's dtype; every other entry is untouched, so those tensors stream exactly as an unedited
// export writes them (byte-identical when the dtype is kept; tests/editing/expert_training_test
// checks every tensor). Records switchyard-edit.json in the layout edit_export.cpp writes.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "output_changes.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/edit_export.h"
#include "switchyard/editing/expert_training.h"
#include "tensor_bytes.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

class TrainedProducer final : public TensorProducer {
public:
    explicit TrainedProducer(std::vector<float> values) : m_values(std::move(values)) {}
    std::vector<unsigned char> produce(const ExportTensor& t) const override { return encode_f32(m_values, t.dtype, t.name); }

private:
    std::vector<float> m_values;
};

// The export's name of a trained tensor: Hub layout, per expert (export.h).
std::string output_name(const Model& model, const ParameterRef& ref) {
    return tensor_name(*model.description.family, ref.role, ref.layer, ref.expert);
}

std::map<std::string, ExportTensor> tensors_by_name(const Model& model, const ExportOptions& options, bool& drops) {
    std::map<std::string, ExportTensor> out;
    for (ExportTensor& t : export_tensors(model, options, drops)) out.emplace(t.name, std::move(t));
    return out;
}

// sha256 of the input bytes behind an export entry (the slice of a fused tensor, or the tensor).
Json input_digest(const Model& model, const ExportTensor& t) {
    if (!t.source) return nullptr;
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    const TensorView view = model.checkpoint.view(*t.source);
    const auto* bytes = reinterpret_cast<const unsigned char*>(view.data) + t.byte_offset;
    const std::string digest = sha256_hex(bytes, count * dtype_size(t.source->dtype));
    model.checkpoint.release(*t.source);
    return digest;
}

Json stats_json(const EvalStats& s) {
    return {{"tokens", s.tokens}, {"mean_nll", std::isfinite(s.mean_nll) ? Json(s.mean_nll) : Json(nullptr)}};
}

Json reports_json(const std::vector<EvalReport>& reports) {
    Json out = Json::array();
    for (const EvalReport& r : reports) {
        Json domains = Json::object();
        for (const auto& [name, stats] : r.domains) domains[name] = stats_json(stats);
        out.push_back({{"name", r.name}, {"all", stats_json(r.all)}, {"domains", domains}, {"selection_rate", r.selection_rate}});
    }
    return out;
}

Json nan_null(const std::vector<double>& values) {
    Json out = Json::array();
    for (double v : values) out.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
    return out;
}

std::string pct(double before, double after) {
    char text[32];
    std::snprintf(text, sizeof text, "%+.1f%%", 100.0 * (std::exp(after - before) - 1.0));
    return text;
}

}  // namespace

void check_trained_export(const Model& model, const std::vector<ParameterRef>& parameters, const ExportOptions& options) {
    bool drops = false;
    const std::map<std::string, ExportTensor> all = tensors_by_name(model, options, drops);
    for (const ParameterRef& ref : parameters) {
        const std::string name = output_name(model, ref);
        auto it = all.find(name);
        SY_CHECK(it != all.end(), UsageError, parameter_name(ref) + ": the export has no tensor " + name);
        const DType dtype = it->second.dtype;
        SY_CHECK(dtype == DType::f32 || dtype == DType::bf16 || dtype == DType::f16, UsageError,
                 name + ": trained values cannot be stored as " + std::string(dtype_name(dtype)) +
                     " (give --out-dtype bf16, f16 or f32)");
    }
}

std::shared_ptr<const ModelPatch> patch_for_trained(const Model& model, const TrainingResult& result, ExportDType dtype) {
    ExportOptions options;
    options.dtype = dtype;
    std::vector<ParameterRef> parameters;
    for (const TrainedTensor& trained : result.tensors) parameters.push_back(trained.ref);
    check_trained_export(model, parameters, options);
    bool drops = false;
    const std::map<std::string, ExportTensor> all = tensors_by_name(model, options, drops);
    auto patch = std::make_shared<ModelPatch>();
    auto experts = std::make_shared<std::map<std::pair<int, int>, ExpertTensorsF32>>();
    const int64_t hidden = model.description.hidden_size;
    for (const TrainedTensor& trained : result.tensors) {
        const ParameterRef& ref = trained.ref;
        const ExportTensor& t = all.at(output_name(model, ref));
        SY_CHECK(t.shape == trained.shape && trained.shape.size() == 2, ShapeMismatch,
                 t.name + ": expected trained values of the exported 2-d shape");
        // The values export_trained's producer writes, read back (encode_f32 rounds to nearest even).
        std::vector<float> values = trained.values;
        round_to_storage(values, t.dtype, t.shape[0], t.shape[1], t.shape[0], t.shape[1], t.name);
        if (ref.role == TensorRole::router) {
            LayerPatch& layer = patch->layers[ref.layer];
            for (int64_t e = 0; e < t.shape[0]; ++e)
                layer.router_rows[static_cast<int>(e)] = std::vector<float>(values.begin() + e * hidden, values.begin() + (e + 1) * hidden);
            continue;
        }
        ExpertTensorsF32& w = (*experts)[{ref.layer, ref.expert}];
        if (ref.role == TensorRole::expert_gate) w.gate = std::move(values);
        else if (ref.role == TensorRole::expert_up) w.up = std::move(values);
        else if (ref.role == TensorRole::expert_down) w.down = std::move(values);
        else
            throw UsageError(parameter_name(ref) + ": the preview patches trained routers and routed experts only (found a trained " +
                             std::string(tensor_role_name(ref.role)) + ")");
    }
    for (auto& [key, w] : *experts) {
        const auto [layer, expert] = key;
        SY_CHECK(!w.gate.empty() && !w.up.empty() && !w.down.empty(), UsageError,
                 "layer " + std::to_string(layer) + " expert " + std::to_string(expert) +
                     ": expected trained gate, up and down (an expert trains all three), found only some");
        // Biases do not train (expert_parameters); they stay what the forward pass loads.
        if (model.description.family->has_expert_biases()) {
            ExpertTensorsF32 loaded = load_expert_f32(model, layer, expert);
            w.gate_bias = std::move(loaded.gate_bias);
            w.up_bias = std::move(loaded.up_bias);
            w.down_bias = std::move(loaded.down_bias);
        }
        patch->layers[layer].replaced_experts.push_back(expert);
    }
    patch->expert_weights = [experts](int layer, int expert) { return experts->at({layer, expert}); };
    return patch;
}

ExportResult export_trained(const Model& model, const SurgeryPlan& plan, const TrainingResult& result,
                            const ExportOptions& options, Progress& progress, const CancelToken& cancel) {
    check_trained_export(model, plan.parameters, options);
    ExportPlan out;
    std::map<std::string, ExportTensor> all = tensors_by_name(model, options, out.drops_quantization);
    Json changed = Json::array();
    std::vector<std::string> computed;
    for (const TrainedTensor& trained : result.tensors) {
        ExportTensor& t = all.at(output_name(model, trained.ref));
        SY_CHECK(t.shape == trained.shape, ShapeMismatch,
                 t.name + ": expected trained values of shape " + std::to_string(t.shape.size()) + "-d as exported");
        changed.push_back({{"name", t.name}, {"parameter", parameter_name(trained.ref)}, {"input_sha256", input_digest(model, t)}});
        computed.push_back(t.name);
        t.producer = std::make_shared<TrainedProducer>(trained.values);
        t.record_sha256 = true;
        t.scale_inv = nullptr;
        t.mxfp4_scales = nullptr;
    }
    std::vector<ExportTensor> list;
    for (auto& [name, t] : all) list.push_back(std::move(t));
    const TensorChanges changes = describe_output(model, list, std::move(computed));
    pack_shards(std::move(list), options.shard_size_bytes, out);
    if (!plan.training.log_file.empty() && fs::exists(plan.training.log_file))
        out.copied_files.emplace_back(plan.training.log_file, "training-log.h5");
    const std::string command_line = options.command_line;
    out.extra_files = [&, changed, changes, command_line](const ExportResult& written) {
        Json tensors = changed;
        for (Json& t : tensors) {
            auto it = written.sha256.find(t["name"].get<std::string>());
            t["output_sha256"] = it == written.sha256.end() ? Json(nullptr) : Json(it->second);
        }
        Json entry = Json::parse(plan.details_json);
        entry["steps"] = result.steps;
        entry["steps_run"] = result.steps_run;
        entry["lr"] = result.lr;
        entry["trained_parameters"] = parameter_count(model, plan.parameters);
        // The layout every edit record has (edit_provenance.h); training changes no expert
        // count, so the expert map is the identity, and its data is in the entry, not a calibration.
        Json record = edited_record_head(model, command_line);
        Json expert_map = Json::object();
        const ModelDescription& d = model.description;
        for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
            Json experts = Json::array();
            for (int64_t e = 0; e < d.num_experts.at(i); ++e) experts.push_back(Json::array({e}));
            expert_map[std::to_string(d.moe_layers[i])] = experts;
        }
        const int64_t experts = d.num_experts.empty() ? 0 : d.num_experts[0];
        const Json rest{{"calibration", nullptr},
                        {"scores_file", nullptr},
                        {"edits", Json::array({entry})},
                        {"notes", Json::array()},
                        {"expert_count", {{"before", experts}, {"after", experts}}},
                        {"expert_map", expert_map},
                        {"training",
                         {{"log", "training-log.h5"},
                          {"seconds", result.seconds},
                          {"tokens_per_second", result.tokens_per_second},
                          {"heldout_before", nan_null(result.heldout_before)},
                          {"heldout_after", nan_null(result.heldout_after)},
                          {"before", reports_json(result.before)},
                          {"after", reports_json(result.after)}}},
                        {"tensors", tensors_record(tensors, changes)}};
        for (const auto& [key, value] : rest.items()) record[key] = value;
        add_previous_record(record, model.checkpoint.dir());
        return std::vector<std::pair<std::string, std::string>>{{"switchyard-edit.json", record.dump(2) + "\n"}};
    };
    return write_export(model, out, options, progress, cancel);
}

std::string surgery_report(const SurgeryPlan& plan, const TrainingResult& result) {
    std::string text;
    char line[256];
    for (const RankedExpert& e : plan.experts) {
        if (std::isnan(e.score)) std::snprintf(line, sizeof line, "trained expert   layer %d expert %d\n", e.layer, e.expert);
        else std::snprintf(line, sizeof line, "trained expert   layer %d expert %d (score %.4f)\n", e.layer, e.expert, e.score);
        text += line;
    }
    std::string routers;
    for (const ParameterRef& ref : plan.parameters)
        if (ref.role == TensorRole::router) routers += (routers.empty() ? "" : ", ") + std::to_string(ref.layer);
    if (!routers.empty()) text += "trained routers  layers " + routers + "\n";
    for (const TrainingStream& s : plan.training.streams)
        for (const RoutingLoss& r : s.routing) {
            std::snprintf(line, sizeof line, "routing loss     %s: %s, weight %g\n", s.name.c_str(), routing_loss_name(r).c_str(), r.weight);
            text += line;
        }
    std::snprintf(line, sizeof line, "training         %" PRId64 " steps (%" PRId64 " run), lr %.3g, %.1f s, %.0f tok/s%s\n",
                  result.steps, result.steps_run, result.lr, result.seconds, result.tokens_per_second,
                  result.resumed_from ? (", resumed at step " + std::to_string(result.resumed_from)).c_str() : "");
    text += line;
    for (std::size_t i = 0; i < result.before.size() && i < result.after.size(); ++i) {
        const EvalReport& b = result.before[i];
        const EvalReport& a = result.after[i];
        std::snprintf(line, sizeof line, "%-16s %-10s %10s %10s %9s\n", b.name.c_str(), "domain", "NLL before", "NLL after",
                      "ppl");
        text += line;
        for (const auto& [domain, stats] : b.domains) {
            auto it = a.domains.find(domain);
            if (it == a.domains.end()) continue;
            std::snprintf(line, sizeof line, "%-16s %-10s %10.4f %10.4f %9s\n", "", domain.c_str(), stats.mean_nll,
                          it->second.mean_nll, pct(stats.mean_nll, it->second.mean_nll).c_str());
            text += line;
        }
        std::snprintf(line, sizeof line, "%-16s %-10s %10.4f %10.4f %9s\n", "", "all", b.all.mean_nll, a.all.mean_nll,
                      pct(b.all.mean_nll, a.all.mean_nll).c_str());
        text += line;
        for (std::size_t k = 0; k < b.selection_rate.size() && k < a.selection_rate.size(); ++k) {
            std::snprintf(line, sizeof line, "%-16s selection rate of the trained expert on these tokens: %.3f -> %.3f\n", "",
                          b.selection_rate[k], a.selection_rate[k]);
            text += line;
        }
    }
    return text;
}

}  // namespace sy
