// Decides what an export writes: which output tensors, from which source bytes, in which dtype
// and in which shard. Pure bookkeeping over headers: no tensor data is read here.
#include <algorithm>
#include <map>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/export.h"
#include "output_files.h"

namespace sy {
namespace {

bool is_fp8(DType dtype) { return dtype == DType::f8_e4m3 || dtype == DType::f8_e5m2; }

// A fused v5 tensor [E, rows, cols] becomes one per-expert tensor per (expert, row block):
// expert e's slab is contiguous, and gate/up are its first/second halves along dim 1.
void split_fused(const Model& model, const TensorInfo& fused, TensorRole role, int layer,
                 std::vector<ExportTensor>& out, ExportDType requested) {
    const FamilySpec& spec = *model.description.family;
    SY_CHECK(fused.shape.size() == 3, ShapeMismatch,
             model.checkpoint.files()[fused.file_index] + ": " + fused.name + ": expected a 3-D fused expert tensor, found " +
                 shape_to_string(fused.shape));
    const int64_t experts = fused.shape[0], rows = fused.shape[1], cols = fused.shape[2];
    const uint64_t elem = dtype_size(fused.dtype);
    std::vector<std::pair<TensorRole, int64_t>> parts;  // (per-expert role, first row)
    if (role == TensorRole::expert_gate_up) {
        SY_CHECK(rows % 2 == 0, ShapeMismatch, fused.name + ": gate_up rows must be even, found " + std::to_string(rows));
        parts = {{TensorRole::expert_gate, 0}, {TensorRole::expert_up, rows / 2}};
    } else {
        parts = {{TensorRole::expert_down, 0}};
    }
    const int64_t part_rows = rows / static_cast<int64_t>(parts.size());
    for (int64_t e = 0; e < experts; ++e) {
        for (const auto& [part_role, first_row] : parts) {
            ExportTensor t;
            t.name = tensor_name(spec, part_role, layer, static_cast<int>(e), ExpertLayout::per_expert);
            t.source = &fused;
            t.byte_offset = static_cast<uint64_t>((e * rows + first_row) * cols) * elem;
            t.shape = {part_rows, cols};
            t.dtype = converted_dtype(fused.dtype, requested);
            out.push_back(std::move(t));
        }
    }
}

// Non-expert tensors whose v5 name differs from the Hub name (Mixtral's router moves from
// block_sparse_moe.gate to mlp.gate): fused-layout name -> per-expert-layout name.
std::map<std::string, std::string> hub_renames(const Model& model) {
    const FamilySpec& spec = *model.description.family;
    std::map<std::string, std::string> renames;
    for (const TensorTemplate& t : spec.tensors) {
        if (t.per_expert.empty() || t.fused.empty() || t.per_expert == t.fused ||
            role_is_per_expert(spec, t.role, ExpertLayout::per_expert))
            continue;
        const bool per_layer = t.fused.find("{L}") != std::string_view::npos;
        for (int layer = per_layer ? 0 : -1; layer < (per_layer ? model.description.num_layers : 0); ++layer)
            renames[tensor_name(spec, t.role, layer, -1, ExpertLayout::fused)] =
                tensor_name(spec, t.role, layer, -1, ExpertLayout::per_expert);
    }
    return renames;
}

std::vector<ExportTensor> collect_tensors(const Model& model, const ExportOptions& options, bool& drops_quantization) {
    const FamilySpec& spec = *model.description.family;
    std::map<std::string, std::pair<TensorRole, int>> fused;  // fused tensor name -> (role, layer)
    if (model.layout == ExpertLayout::fused) {
        for (int layer : model.description.moe_layers)
            for (TensorRole role : {TensorRole::expert_gate_up, TensorRole::expert_down})
                fused[tensor_name(spec, role, layer, -1, ExpertLayout::fused)] = {role, layer};
    }
    const auto renames = model.layout == ExpertLayout::fused ? hub_renames(model) : std::map<std::string, std::string>{};
    const bool dequantize = options.dtype != ExportDType::keep;
    std::set<std::string> folded_scales;  // scale grids folded into their dequantised weights
    if (dequantize)
        for (const TensorInfo& t : model.checkpoint.tensors())
            if (is_fp8(t.dtype)) folded_scales.insert(scale_inv_name(t.name));
    std::vector<ExportTensor> out;
    for (const TensorInfo& t : model.checkpoint.tensors()) {
        if (auto it = fused.find(t.name); it != fused.end()) {
            split_fused(model, t, it->second.first, it->second.second, out, options.dtype);
            continue;
        }
        if (folded_scales.count(t.name)) continue;
        const TensorInfo* scale = is_fp8(t.dtype) ? model.checkpoint.find(scale_inv_name(t.name)) : nullptr;
        const auto renamed = renames.find(t.name);
        ExportTensor e{renamed == renames.end() ? t.name : renamed->second, &t, 0, t.shape,
                       converted_dtype(t.dtype, options.dtype), nullptr};
        if (dequantize && is_fp8(t.dtype)) {
            SY_CHECK(scale, CheckpointError, model.checkpoint.files()[t.file_index] + ": " + t.name +
                                                 ": F8 weight without " + scale_inv_name(t.name) + " cannot be dequantised");
            SY_CHECK(model.description.fp8_block_size.has_value(), ConfigError,
                     "config.json: quantization_config.weight_block_size is needed to dequantise " + t.name);
            e.scale_inv = scale;
            drops_quantization = true;
        }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const ExportTensor& a, const ExportTensor& b) { return a.name < b.name; });
    return out;
}

}  // namespace

ExportPlan plan_export(const Model& model, const ExportOptions& options) {
    ExportPlan plan;
    std::vector<ExportTensor> tensors = collect_tensors(model, options, plan.drops_quantization);
    std::vector<uint64_t> sizes;
    for (const ExportTensor& t : tensors) sizes.push_back(t.nbytes());
    for (const auto& indices : pack_shards(sizes, options.shard_size_bytes)) {
        plan.shards.emplace_back();
        for (std::size_t i : indices) plan.shards.back().push_back(std::move(tensors[i]));
    }
    return plan;
}

}  // namespace sy
