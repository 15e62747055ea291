// The edited export: the identity export's tensor list with the edited MoE layers' router,
// correction bias and expert tensors replaced according to the plan (edit_export.h).
#include "switchyard/editing/edit_export.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "expert_math.h"
#include "output_changes.h"
#include "switchyard/core/errors.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/core/tensor_names.h"
#include "tensor_bytes.h"

namespace sy {
namespace {

using Json = nlohmann::ordered_json;

constexpr TensorRole k_part_roles[] = {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down};
constexpr ExpertPart k_parts[] = {ExpertPart::gate, ExpertPart::up, ExpertPart::down};

// Rows of a router [E', H] or entries of a correction bias [E']: copied rows of the source
// tensor (byte-identical when the dtype is kept) or explicit f32 values.
class RowsProducer final : public TensorProducer {
public:
    struct Row {
        int source = -1;             // source row, or -1: values
        std::vector<float> values;
    };
    RowsProducer(const Model& model, const TensorInfo& source, int64_t row_length, std::vector<Row> rows)
        : m_model(model), m_source(source), m_row_length(row_length), m_rows(std::move(rows)) {}

    std::vector<unsigned char> produce(const ExportTensor& t) const override {
        const auto* bytes = reinterpret_cast<const unsigned char*>(m_model.checkpoint.view(m_source).data);
        const std::size_t in_row = static_cast<std::size_t>(m_row_length) * dtype_size(m_source.dtype);
        std::vector<unsigned char> out;
        for (const Row& row : m_rows) {
            std::vector<unsigned char> piece;
            if (row.source >= 0 && t.dtype == m_source.dtype) {
                const unsigned char* begin = bytes + static_cast<std::size_t>(row.source) * in_row;
                piece.assign(begin, begin + in_row);
            } else {
                const std::vector<float> values =
                    row.source >= 0 ? decode_to_f32(bytes + static_cast<std::size_t>(row.source) * in_row,
                                                    static_cast<std::size_t>(m_row_length), m_source.dtype, m_source.name)
                                    : row.values;
                piece = encode_f32(values, t.dtype, t.name);
            }
            out.insert(out.end(), piece.begin(), piece.end());
        }
        m_model.checkpoint.release(m_source);
        return out;
    }

private:
    const Model& m_model;
    const TensorInfo& m_source;
    int64_t m_row_length;
    std::vector<Row> m_rows;
};

// One part (gate, up or down) of a planned expert that is not a plain copy, stored in the
// export dtype; for FP8 storage, also its block-scale tensor (the two share one computation).
class ExpertPartProducer final : public TensorProducer {
public:
    ExpertPartProducer(const Model& model, int layer, PlannedExpert expert, ExpertPart part, std::string weight_name)
        : m_model(model), m_layer(layer), m_expert(std::move(expert)), m_part(part), m_weight_name(std::move(weight_name)) {}

    std::vector<unsigned char> produce(const ExportTensor& t) const override {
        if (t.dtype != DType::f8_e4m3 && t.name == m_weight_name)
            return encode_f32(materialize_part(m_model, m_layer, m_expert, m_part), t.dtype, t.name);
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_fp8) {
            const auto block = m_model.description.fp8_block_size.value();
            const int64_t rows = m_part == ExpertPart::down ? m_model.description.hidden_size
                                                            : m_model.description.expert_intermediate_size;
            const int64_t cols = m_part == ExpertPart::down ? m_model.description.expert_intermediate_size
                                                            : m_model.description.hidden_size;
            m_fp8 = quantize_fp8_blocks(materialize_part(m_model, m_layer, m_expert, m_part), rows, cols, block[0], block[1]);
        }
        std::vector<unsigned char> out;
        if (t.name == m_weight_name) {
            out.assign(m_fp8->bytes.begin(), m_fp8->bytes.end());
            m_fp8->bytes.clear();
        } else {
            out = encode_f32(m_fp8->scale_inv, DType::f32, t.name);
        }
        return out;
    }

private:
    const Model& m_model;
    int m_layer;
    PlannedExpert m_expert;
    ExpertPart m_part;
    std::string m_weight_name;
    mutable std::mutex m_mutex;
    mutable std::optional<Fp8Blocks> m_fp8;
};

// One fused expert tensor [E', ...] of a fused-only family (gpt-oss), slab by slab: an input
// slab copied byte for byte when it is a kept expert stored in the output's dtype, otherwise the
// expert's parts in f32 (exact for kept experts: 1 * x) laid out as the file stores them.
class SlabProducer final : public TensorProducer {
public:
    struct Slab {
        int source = -1;              // input slab, or -1: computed from `expert`
        PlannedExpert expert;
    };
    SlabProducer(const Model& model, int layer, TensorRole role, ExportTensor original, std::vector<Slab> slabs)
        : m_model(model), m_layer(layer), m_role(role), m_original(std::move(original)), m_slabs(std::move(slabs)) {}

    std::vector<unsigned char> produce(const ExportTensor& t) const override {
        const bool raw_source = !m_original.mxfp4_scales && !m_original.scale_inv && m_original.source &&
                                m_original.source->dtype == t.dtype;
        const uint64_t slab_bytes = t.nbytes() / static_cast<uint64_t>(t.shape.at(0));
        std::vector<unsigned char> out;
        out.reserve(t.nbytes());
        for (const Slab& slab : m_slabs) {
            if (slab.source >= 0 && raw_source) {
                const auto* bytes = reinterpret_cast<const unsigned char*>(m_model.checkpoint.view(*m_original.source).data);
                out.insert(out.end(), bytes + slab_bytes * uint64_t(slab.source), bytes + slab_bytes * uint64_t(slab.source + 1));
                continue;
            }
            SY_CHECK(t.dtype != DType::u8, ShapeMismatch, t.name + ": merged experts cannot be stored as MXFP4 blocks");
            const std::vector<unsigned char> piece = encode_f32(disk_slab(slab.expert), t.dtype, t.name);
            out.insert(out.end(), piece.begin(), piece.end());
        }
        if (m_original.source) m_model.checkpoint.release(*m_original.source);
        return out;
    }

private:
    // The file's layout (formats.md §6.2, FusedExperts::interleaved_in_out): gate_up [H, 2I] with
    // gate in even and up in odd columns, down [I, H], gate_up bias [2I] interleaved, down bias [H].
    std::vector<float> disk_slab(const PlannedExpert& e) const {
        const int64_t inter = m_model.description.expert_intermediate_size, hidden = m_model.description.hidden_size;
        const auto part = [&](ExpertPart p) { return materialize_part(m_model, m_layer, e, p); };
        std::vector<float> out;
        if (m_role == TensorRole::expert_gate_up || m_role == TensorRole::expert_gate_up_bias) {
            const bool bias = m_role == TensorRole::expert_gate_up_bias;
            const std::vector<float> gate = part(bias ? ExpertPart::gate_bias : ExpertPart::gate);
            const std::vector<float> up = part(bias ? ExpertPart::up_bias : ExpertPart::up);
            const int64_t rows = bias ? 1 : hidden;
            out.resize(static_cast<std::size_t>(rows * 2 * inter));
            for (int64_t h = 0; h < rows; ++h)
                for (int64_t n = 0; n < inter; ++n) {
                    out[size_t(h * 2 * inter + 2 * n)] = gate[size_t(bias ? n : n * hidden + h)];
                    out[size_t(h * 2 * inter + 2 * n + 1)] = up[size_t(bias ? n : n * hidden + h)];
                }
            return out;
        }
        if (m_role == TensorRole::expert_down_bias) return part(ExpertPart::down_bias);
        const std::vector<float> down = part(ExpertPart::down);   // [H, I] -> [I, H]
        out.resize(down.size());
        for (int64_t h = 0; h < hidden; ++h)
            for (int64_t n = 0; n < inter; ++n) out[size_t(n * hidden + h)] = down[size_t(h * inter + n)];
        return out;
    }

    const Model& m_model;
    int m_layer;
    TensorRole m_role;
    ExportTensor m_original;
    std::vector<Slab> m_slabs;
};

// Names the plan changes, for the provenance record.
class EditedTensors {
public:
    EditedTensors(const Model& model, const ExportOptions& options, bool& drops_quantization)
        : m_model(model), m_spec(*model.description.family) {
        for (ExportTensor& t : export_tensors(model, options, drops_quantization)) m_by_name.emplace(t.name, std::move(t));
    }

    void edit_layer(const LayerPlan& l) {
        if (l.unchanged()) return;
        std::vector<std::string> old_names = {tensor_name(m_spec, TensorRole::router, l.layer)};
        const std::optional<TensorRole> bias_role = router_bias_role(m_spec);
        if (bias_role) old_names.push_back(tensor_name(m_spec, *bias_role, l.layer));
        if (m_spec.fused_only()) return edit_fused_layer(l, old_names, bias_role);
        std::map<std::string, ExportTensor> originals;
        for (int e = 0; e < l.original_experts; ++e)
            for (TensorRole role : k_part_roles) {
                const std::string name = tensor_name(m_spec, role, l.layer, e);
                old_names.push_back(name);
                old_names.push_back(scale_inv_name(name));
            }
        for (const std::string& name : old_names) {
            auto it = m_by_name.find(name);
            if (it == m_by_name.end()) continue;
            originals.emplace(name, std::move(it->second));
            m_by_name.erase(it);
        }
        add_rows(l, originals, TensorRole::router);
        if (bias_role) add_rows(l, originals, *bias_role);
        for (std::size_t j = 0; j < l.experts.size(); ++j) add_expert(l, static_cast<int>(j), originals);
    }

    std::vector<ExportTensor> take() {
        std::vector<ExportTensor> out;
        for (auto& [name, t] : m_by_name) out.push_back(std::move(t));
        return out;
    }

    std::vector<std::string> computed;   // output names the edit computes

private:
    // Takes the listed names out of the identity list, remembering them.
    std::map<std::string, ExportTensor> take_originals(const std::vector<std::string>& names) {
        std::map<std::string, ExportTensor> originals;
        for (const std::string& name : names) {
            auto it = m_by_name.find(name);
            if (it == m_by_name.end()) continue;
            originals.emplace(name, std::move(it->second));
            m_by_name.erase(it);
        }
        return originals;
    }

    // Families whose experts exist only fused on disk (gpt-oss: [E, in, out] with interleaved
    // gate/up and per-expert biases, or MXFP4 `_blocks` / `_scales`): each output tensor is the
    // input's expert slabs gathered (byte-identical) or, for computed experts, written from f32.
    void edit_fused_layer(const LayerPlan& l, std::vector<std::string> names, const std::optional<TensorRole>& bias_role) {
        const std::vector<TensorRole> roles = {TensorRole::expert_gate_up, TensorRole::expert_down,
                                               TensorRole::expert_gate_up_bias, TensorRole::expert_down_bias};
        for (TensorRole role : roles) {
            const std::string name = tensor_name(m_spec, role, l.layer, -1, ExpertLayout::fused);
            names.insert(names.end(), {name, mxfp4_blocks_name(name), mxfp4_scales_name(name)});
        }
        const std::map<std::string, ExportTensor> originals = take_originals(names);
        add_rows(l, originals, TensorRole::router);
        if (bias_role) add_rows(l, originals, *bias_role);
        for (TensorRole role : roles) {
            const std::string name = tensor_name(m_spec, role, l.layer, -1, ExpertLayout::fused);
            if (originals.count(name)) add_slabs(l, role, originals.at(name));
            for (const std::string& stored : {mxfp4_blocks_name(name), mxfp4_scales_name(name)})
                if (originals.count(stored)) add_slabs(l, role, originals.at(stored));
        }
    }

    void add_slabs(const LayerPlan& l, TensorRole role, const ExportTensor& original) {
        std::vector<SlabProducer::Slab> slabs;
        for (const PlannedExpert& p : l.experts) slabs.push_back({p.is_copy() ? p.copy_source() : -1, p});
        ExportTensor t = original;
        t.shape[0] = static_cast<int64_t>(l.experts.size());
        t.record_sha256 = true;
        t.producer = std::make_shared<SlabProducer>(m_model, l.layer, role, original, std::move(slabs));
        t.mxfp4_scales = nullptr;
        t.scale_inv = nullptr;
        computed.push_back(t.name);
        add(std::move(t));
    }

    void add(ExportTensor t) {
        m_by_name.emplace(t.name, std::move(t));
    }

    void add_rows(const LayerPlan& l, const std::map<std::string, ExportTensor>& originals, TensorRole role) {
        const std::string name = tensor_name(m_spec, role, l.layer);
        const ExportTensor& original = originals.at(name);
        const bool router = role == TensorRole::router;
        const int64_t row_length = router ? original.shape.at(1) : 1;   // biases: one entry per expert
        std::vector<RowsProducer::Row> rows;
        for (const PlannedExpert& p : l.experts) {
            if (router) rows.push_back({p.router_source, p.router_row});
            else rows.push_back({p.bias_source, p.bias_source >= 0 ? std::vector<float>{} : std::vector<float>{p.bias_value}});
        }
        SY_CHECK(original.source && !original.scale_inv && dtype_is_float(original.source->dtype) &&
                     original.source->dtype != DType::f8_e4m3 && original.source->dtype != DType::f8_e5m2,
                 ShapeMismatch, name + ": routers stored as " + std::string(dtype_name(original.source->dtype)) + " cannot be edited");
        ExportTensor t;
        t.name = name;
        t.shape = original.shape;
        t.shape[0] = static_cast<int64_t>(l.experts.size());
        t.dtype = original.dtype;
        t.record_sha256 = true;
        t.producer = std::make_shared<RowsProducer>(m_model, *original.source, row_length, std::move(rows));
        computed.push_back(name);
        add(std::move(t));
    }

    void add_expert(const LayerPlan& l, int j, const std::map<std::string, ExportTensor>& originals) {
        const PlannedExpert& p = l.experts[static_cast<std::size_t>(j)];
        for (std::size_t k = 0; k < 3; ++k) {
            const std::string name = tensor_name(m_spec, k_part_roles[k], l.layer, j);
            if (p.is_copy()) {   // a kept expert: the same bytes under its new index
                const std::string from = tensor_name(m_spec, k_part_roles[k], l.layer, p.copy_source());
                for (const auto& [out_name, in_name] : {std::pair{name, from}, std::pair{scale_inv_name(name), scale_inv_name(from)}}) {
                    auto it = originals.find(in_name);
                    if (it == originals.end()) continue;
                    ExportTensor t = it->second;
                    t.name = out_name;
                    add(std::move(t));
                }
                continue;
            }
            const ExportTensor& like = originals.at(tensor_name(m_spec, k_part_roles[k], l.layer, p.home));
            auto producer = std::make_shared<ExpertPartProducer>(m_model, l.layer, p, k_parts[k], name);
            ExportTensor t;
            t.name = name;
            t.shape = like.shape;
            t.dtype = like.dtype;
            t.record_sha256 = true;
            t.producer = producer;
            computed.push_back(name);
            if (t.dtype == DType::f8_e4m3) {
                SY_CHECK(m_model.description.fp8_block_size.has_value(), ConfigError,
                         "config.json: quantization_config.weight_block_size is needed to store merged FP8 experts");
                const auto block = *m_model.description.fp8_block_size;
                ExportTensor scale;
                scale.name = scale_inv_name(name);
                scale.shape = {(t.shape[0] + block[0] - 1) / block[0], (t.shape[1] + block[1] - 1) / block[1]};
                scale.dtype = DType::f32;
                scale.record_sha256 = true;
                scale.producer = producer;
                computed.push_back(scale.name);
                add(std::move(scale));
            } else if (t.dtype != DType::f32 && t.dtype != DType::bf16 && t.dtype != DType::f16) {
                throw ShapeMismatch(name + ": merged experts cannot be stored as " + std::string(dtype_name(t.dtype)) +
                                    " (export with --dtype bf16)");
            }
            add(std::move(t));
        }
    }

    const Model& m_model;
    const FamilySpec& m_spec;
    std::map<std::string, ExportTensor> m_by_name;
};

Json expert_map_json(const EditPlan& plan) {
    Json map = Json::object();
    for (const LayerPlan& l : plan.layers) {
        Json experts = Json::array();
        for (const PlannedExpert& p : l.experts) experts.push_back(p.origin);
        map[std::to_string(l.layer)] = experts;
    }
    return map;
}

Json tensors_json(const Model& model, const TensorChanges& changes, const ExportResult& result) {
    Json changed = Json::array();
    for (const std::string& name : changes.computed) {
        const TensorInfo* input = model.checkpoint.find(name);
        Json input_digest = nullptr;
        if (input) {
            const TensorView view = model.checkpoint.view(*input);
            input_digest = sha256_hex(view.data, input->nbytes());
            model.checkpoint.release(*input);
        }
        const auto out = result.sha256.find(name);
        changed.push_back({{"name", name}, {"input_sha256", input_digest},
                           {"output_sha256", out == result.sha256.end() ? Json(nullptr) : Json(out->second)}});
    }
    return tensors_record(std::move(changed), changes);
}

Json record_json(const Model& model, const EditPlan& plan, const EditRecord& record, const TensorChanges& changes,
                 const ExportResult& result) {
    Json edits = Json::array();
    for (const Edit& edit : record.edits) edits.push_back(Json::parse(edit_to_json(edit)));
    Json calibration = nullptr;
    if (!record.calibration_files.empty())
        calibration = {{"data", record.calibration_files}, {"data_sha256", record.calibration_sha256},
                       {"tokens", record.calibration_tokens}};
    Json out = edited_record_head(model, record.command_line);
    const Json rest{{"calibration", calibration},
                    {"scores_file", record.scores_file.empty() ? Json(nullptr) : Json("switchyard-scores.h5")},
                    {"edits", edits},
                    {"notes", plan.notes},
                    {"expert_count",
                     {{"before", model.description.num_experts.empty() ? 0 : model.description.num_experts[0]},
                      {"after", plan.expert_count()}}},
                    {"expert_map", expert_map_json(plan)},
                    {"tensors", tensors_json(model, changes, result)}};
    for (const auto& [key, value] : rest.items()) out[key] = value;
    add_previous_record(out, model.checkpoint.dir());
    return out;
}

}  // namespace

namespace {

bool computes_experts(const EditPlan& plan) {
    for (const LayerPlan& l : plan.layers)
        for (const PlannedExpert& p : l.experts)
            if (!p.is_copy()) return true;
    return false;
}

// gpt-oss MXFP4 experts that an edit computes cannot be written as MXFP4 here, and a checkpoint
// mixing MXFP4 and BF16 experts does not load: such an export writes every expert in BF16 (as
// `--dtype bf16` does) and drops quantization_config. Copies alone stay MXFP4.
ExportOptions identity_options(const Model& model, const EditPlan& plan, const ExportOptions& options) {
    ExportOptions out = options;
    const ModelDescription& d = model.description;
    if (options.dtype != ExportDType::keep || !d.family->fused_only() || d.moe_layers.empty() || !computes_experts(plan))
        return out;
    const std::string name = tensor_name(*d.family, TensorRole::expert_down, d.moe_layers[0], -1, ExpertLayout::fused);
    if (stored_as_mxfp4(model.checkpoint, name)) out.dtype = ExportDType::bf16;
    return out;
}

}  // namespace

ExportPlan plan_edited_export(const Model& model, const EditPlan& plan, const ExportOptions& options,
                              const EditRecord& record) {
    ExportPlan out;
    EditedTensors tensors(model, identity_options(model, plan, options), out.drops_quantization);
    for (const LayerPlan& l : plan.layers) tensors.edit_layer(l);
    std::vector<ExportTensor> written = tensors.take();
    auto changes = std::make_shared<TensorChanges>(describe_output(model, written, std::move(tensors.computed)));
    pack_shards(std::move(written), options.shard_size_bytes, out);
    const std::string count_key(model.description.family->expert_count_key);
    if (plan.expert_count() != (model.description.num_experts.empty() ? 0 : model.description.num_experts[0]))
        out.config_updates[count_key] = plan.expert_count();
    if (!record.scores_file.empty()) out.copied_files.emplace_back(record.scores_file, "switchyard-scores.h5");
    out.extra_files = [&model, &plan, record, changes](const ExportResult& result) {
        return std::vector<std::pair<std::string, std::string>>{
            {"switchyard-edit.json", record_json(model, plan, record, *changes, result).dump(2) + "\n"}};
    };
    return out;
}

EditSummary summarize_edit(const Model& model, const EditPlan& plan, const ExportOptions& options) {
    EditSummary summary;
    summary.experts_before = model.description.num_experts.empty() ? 0 : model.description.num_experts[0];
    summary.experts_after = plan.expert_count();
    bool unused = false;
    for (const ExportTensor& t : export_tensors(model, options, unused)) summary.bytes_before += t.nbytes();
    const ExportPlan edited = plan_edited_export(model, plan, options, EditRecord{});
    for (const auto& shard : edited.shards)
        for (const ExportTensor& t : shard) summary.bytes_after += t.nbytes();
    for (const LayerPlan& l : plan.layers) {
        if (l.unchanged()) continue;
        EditSummary::Layer layer;
        layer.layer = l.layer;
        std::set<int> kept_as_self;
        for (const PlannedExpert& p : l.experts) {
            if (p.origin.size() > 1 &&
                std::find(layer.merged.begin(), layer.merged.end(), p.origin) == layer.merged.end())
                layer.merged.push_back(p.origin);
            if (p.origin.size() == 1) kept_as_self.insert(p.origin[0]);
            if (p.bias_source < 0 && p.bias_value <= mask_bias_value) layer.masked.push_back(p.origin.front());
        }
        for (int e = 0; e < l.original_experts; ++e) {
            const bool merged = std::any_of(layer.merged.begin(), layer.merged.end(), [e](const std::vector<int>& g) {
                return std::find(g.begin(), g.end(), e) != g.end();
            });
            if (!kept_as_self.count(e) && !merged) layer.removed.push_back(e);
        }
        summary.layers.push_back(std::move(layer));
    }
    return summary;
}

ExportResult export_edited(const Model& model, const EditPlan& plan, const ExportOptions& options,
                           const EditRecord& record, Progress& progress, const CancelToken& cancel) {
    check_output_folder(model.checkpoint.dir(), options.output_dir);
    return write_export(model, plan_edited_export(model, plan, options, record), options, progress, cancel);
}

}  // namespace sy
