// Decides what an export writes: which output tensors, from which source bytes, in which dtype
// and in which shard. Pure bookkeeping over headers: no tensor data is read here.
#include <algorithm>
#include <map>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
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

// Norm weights a family keeps in f32 whatever the model dtype (gpt-oss `_keep_in_fp32_modules`):
// a converting export leaves their F32 as it is, as transformers' save_pretrained does.
std::set<std::string> f32_norm_names(const Model& model) {
    const FamilySpec& spec = *model.description.family;
    std::set<std::string> names;
    if (!spec.norm_weights_f32) return names;
    names.insert(tensor_name(spec, TensorRole::final_norm));
    for (int l = 0; l < model.description.num_layers; ++l)
        for (TensorRole role : {TensorRole::attn_norm, TensorRole::ffn_norm}) names.insert(tensor_name(spec, role, l));
    return names;
}

// gpt-oss MXFP4 weights written dequantised: `<name>` [E, in, out] from `<name>_blocks` /
// `_scales` (formats.md §6.2); the blocks and scales themselves are not written.
void plan_mxfp4(const Model& model, const ExportOptions& options, std::vector<ExportTensor>& out,
                std::set<std::string>& consumed) {
    const FamilySpec& spec = *model.description.family;
    for (int layer : model.description.moe_layers) {
        for (TensorRole role : {TensorRole::expert_gate_up, TensorRole::expert_down}) {
            const std::string name = tensor_name(spec, role, layer, -1, ExpertLayout::fused);
            if (!stored_as_mxfp4(model.checkpoint, name)) continue;
            const TensorInfo& blocks = model.checkpoint.at(mxfp4_blocks_name(name));
            const TensorInfo& scales = model.checkpoint.at(mxfp4_scales_name(name));
            ExportTensor t;
            t.name = name;
            t.source = &blocks;
            t.shape = {blocks.shape[0], blocks.shape[2] * 32, blocks.shape[1]};
            t.dtype = converted_dtype(DType::bf16, options.dtype);
            t.mxfp4_scales = &scales;
            out.push_back(std::move(t));
            consumed.insert(blocks.name);
            consumed.insert(scales.name);
        }
    }
}

}  // namespace

std::vector<ExportTensor> export_tensors(const Model& model, const ExportOptions& options, bool& drops_quantization) {
    const FamilySpec& spec = *model.description.family;
    std::map<std::string, std::pair<TensorRole, int>> fused;  // fused tensor name -> (role, layer)
    // A family fused on disk (gpt-oss) has no per-expert layout to split into: its fused
    // tensors are its Hub layout.
    if (model.layout == ExpertLayout::fused && !spec.fused_only()) {
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
    if (dequantize && spec.fused_only()) {
        const std::size_t before = folded_scales.size();
        plan_mxfp4(model, options, out, folded_scales);
        drops_quantization = drops_quantization || folded_scales.size() > before;
    }
    const std::set<std::string> keep_f32 = f32_norm_names(model);
    for (const TensorInfo& t : model.checkpoint.tensors()) {
        if (auto it = fused.find(t.name); it != fused.end()) {
            split_fused(model, t, it->second.first, it->second.second, out, options.dtype);
            continue;
        }
        if (folded_scales.count(t.name)) continue;
        const TensorInfo* scale = is_fp8(t.dtype) ? model.checkpoint.find(scale_inv_name(t.name)) : nullptr;
        const auto renamed = renames.find(t.name);
        const bool keep = t.dtype == DType::f32 && keep_f32.count(t.name) > 0;
        ExportTensor e;
        e.name = renamed == renames.end() ? t.name : renamed->second;
        e.source = &t;
        e.shape = t.shape;
        e.dtype = keep ? DType::f32 : converted_dtype(t.dtype, options.dtype);
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

void pack_shards(std::vector<ExportTensor> tensors, uint64_t shard_size_bytes, ExportPlan& plan) {
    std::sort(tensors.begin(), tensors.end(), [](const ExportTensor& a, const ExportTensor& b) { return a.name < b.name; });
    // Greedy packing in name order, like transformers' shard_checkpoint: a tensor larger than
    // the shard size gets a shard of its own.
    plan.shards.clear();
    uint64_t current = 0;
    for (auto& t : tensors) {
        if (plan.shards.empty() || (current > 0 && current + t.nbytes() > shard_size_bytes)) {
            plan.shards.emplace_back();
            current = 0;
        }
        current += t.nbytes();
        plan.shards.back().push_back(std::move(t));
    }
    if (plan.shards.empty()) plan.shards.emplace_back();
}

ExportPlan plan_export(const Model& model, const ExportOptions& options) {
    ExportPlan plan;
    pack_shards(export_tensors(model, options, plan.drops_quantization), options.shard_size_bytes, plan);
    return plan;
}

}  // namespace sy
