// Checks a checkpoint against what config.json and the family row imply (style.md rule 3).
// Order matters for the message a user sees: an expert count that disagrees with config.json
// is reported as such before the "tensor missing" it would otherwise cause for the last experts.
#include "switchyard/core/model_validation.h"

#include <algorithm>
#include <set>

#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_names.h"

namespace sy {
namespace {

const std::string& file_of(const Checkpoint& checkpoint, const TensorInfo& tensor) {
    return checkpoint.files().at(tensor.file_index);
}

// Where a tensor that is absent should have been: the only shard, or the index that lists
// the shards (it maps no file to a name it does not know).
std::string where_missing(const Checkpoint& checkpoint) {
    if (!checkpoint.is_sharded() && checkpoint.files().size() == 1) return checkpoint.files().front();
    return checkpoint.is_sharded() ? "model.safetensors.index.json" : checkpoint.dir().string();
}

[[noreturn]] void expert_count_error(const ModelDescription& model, int layer, int64_t expected,
                                     int64_t found, const std::string& where) {
    throw CheckpointError("config.json says " + std::string(model.family->expert_count_key) + " = " +
                          std::to_string(expected) + " but layer " + std::to_string(layer) + " has " +
                          std::to_string(found) + " experts in " + where);
}

// Counts distinct expert indices of a layer's per-expert tensors. The names are sorted, so only
// the run sharing the experts' prefix is scanned (DeepSeek-V3 has ~90k tensors).
void check_per_expert_count(const ModelDescription& model, const Checkpoint& checkpoint, int layer) {
    const FamilySpec& spec = *model.family;
    const std::vector<ExpertNameMatcher> matchers = {
        ExpertNameMatcher(spec, TensorRole::expert_gate, layer),
        ExpertNameMatcher(spec, TensorRole::expert_up, layer),
        ExpertNameMatcher(spec, TensorRole::expert_down, layer)};
    std::set<int> indices;
    std::set<std::size_t> files;   // indices into checkpoint.files(); names only for the message
    for (const ExpertNameMatcher& matcher : matchers) {
        const std::vector<TensorInfo>& tensors = checkpoint.tensors();
        auto it = std::lower_bound(tensors.begin(), tensors.end(), matcher.prefix(),
                                   [](const TensorInfo& t, const std::string& key) { return t.name < key; });
        for (; it != tensors.end() && it->name.compare(0, matcher.prefix().size(), matcher.prefix()) == 0; ++it) {
            if (auto expert = matcher.match(it->name)) {
                indices.insert(*expert);
                files.insert(it->file_index);
            }
        }
    }
    const int64_t expected = model.experts_in_layer(layer);
    if (indices.empty() || static_cast<int64_t>(indices.size()) == expected) return;   // none: "missing"
    std::string where;
    for (std::size_t file : files) where += (where.empty() ? "" : ", ") + checkpoint.files().at(file);
    expert_count_error(model, layer, expected, static_cast<int64_t>(indices.size()), where);
}

void check_fused_count(const ModelDescription& model, const Checkpoint& checkpoint, int layer) {
    for (TensorRole role : {TensorRole::expert_gate_up, TensorRole::expert_down}) {
        const std::string name = tensor_name(*model.family, role, layer, -1, ExpertLayout::fused);
        const TensorInfo* tensor = checkpoint.find(name);
        if (!tensor) tensor = checkpoint.find(mxfp4_blocks_name(name));   // gpt-oss MXFP4
        if (!tensor || tensor->shape.size() < 3) continue;   // reported by the shape check
        if (tensor->shape[0] != model.experts_in_layer(layer))
            expert_count_error(model, layer, model.experts_in_layer(layer), tensor->shape[0],
                               file_of(checkpoint, *tensor));
    }
}

void check_missing(const ModelDescription& model, const std::vector<ExpectedTensor>& expected,
                   const Checkpoint& checkpoint) {
    const ExpectedTensor* first = nullptr;
    std::size_t missing = 0;
    for (const ExpectedTensor& tensor : expected) {
        if (checkpoint.find(tensor.name)) continue;
        if (model.family->fused_only() && tensor.expert_layer >= 0 && stored_as_mxfp4(checkpoint, tensor.name)) continue;
        if (!first) first = &tensor;
        ++missing;
    }
    if (!first) return;
    std::string message = where_missing(checkpoint) + ": " + first->name + ": tensor missing";
    if (missing > 1) message += " (and " + std::to_string(missing - 1) + " more missing tensors)";
    throw CheckpointError(message);
}

void check_fp8_scale(const ModelDescription& model, const Checkpoint& checkpoint, const TensorInfo& weight) {
    const std::string& file = file_of(checkpoint, weight);
    if (!model.fp8_block_size)
        throw CheckpointError(file + ": " + weight.name +
                              ": dtype F8_E4M3 needs quantization_config.weight_block_size in config.json");
    if (weight.shape.size() < 2)
        throw CheckpointError(file + ": " + weight.name + ": dtype F8_E4M3 is only supported for matrices");
    const std::string scale_name = scale_inv_name(weight.name);
    const TensorInfo* scale = checkpoint.find(scale_name);
    if (!scale)
        throw CheckpointError(file + ": " + scale_name + ": tensor missing (block scales of F8_E4M3 " +
                              weight.name + ")");
    const std::vector<int64_t> expected = fp8_scale_shape(weight.shape, *model.fp8_block_size);
    if (scale->shape != expected)
        throw ShapeMismatch(file_of(checkpoint, *scale) + ": " + scale_name + ": expected shape " +
                            shape_to_string(expected) + ", found " + shape_to_string(scale->shape));
    if (scale->dtype != DType::f32)
        throw CheckpointError(file_of(checkpoint, *scale) + ": " + scale_name + ": expected dtype F32, found " +
                              std::string(dtype_name(scale->dtype)));
}

void check_u8(const Checkpoint& checkpoint, const std::string& name, const std::vector<int64_t>& shape,
              const std::string& what) {
    const TensorInfo& tensor = checkpoint.at(name);
    if (tensor.shape != shape)
        throw ShapeMismatch(file_of(checkpoint, tensor) + ": " + name + ": expected shape " + shape_to_string(shape) +
                            ", found " + shape_to_string(tensor.shape) + " (" + what + ")");
    if (tensor.dtype != DType::u8)
        throw CheckpointError(file_of(checkpoint, tensor) + ": " + name + ": expected dtype U8, found " +
                              std::string(dtype_name(tensor.dtype)) + " (" + what + ")");
}

void check_mxfp4(const ExpectedTensor& expected, const Checkpoint& checkpoint) {
    const Mxfp4Shapes shapes = mxfp4_shapes(expected.shape);
    const std::string blocks = mxfp4_blocks_name(expected.name);
    if (shapes.blocks.empty())
        throw ShapeMismatch(file_of(checkpoint, checkpoint.at(blocks)) + ": " + blocks + ": MXFP4 needs the input dim of " +
                            expected.name + " " + shape_to_string(expected.shape) + " to be a multiple of 32");
    check_u8(checkpoint, blocks, shapes.blocks, "MXFP4 blocks of " + expected.name);
    check_u8(checkpoint, mxfp4_scales_name(expected.name), shapes.scales, "MXFP4 E8M0 scales of " + expected.name);
}

void check_tensor(const ModelDescription& model, const Checkpoint& checkpoint, const ExpectedTensor& expected) {
    if (!checkpoint.find(expected.name)) return check_mxfp4(expected, checkpoint);   // check_missing allowed it
    const TensorInfo& tensor = *checkpoint.find(expected.name);
    const std::string& file = file_of(checkpoint, tensor);
    if (tensor.shape != expected.shape)
        throw ShapeMismatch(file + ": " + tensor.name + ": expected shape " + shape_to_string(expected.shape) +
                            ", found " + shape_to_string(tensor.shape));
    switch (tensor.dtype) {
    case DType::f32:
    case DType::f16:
    case DType::bf16: return;
    case DType::f8_e4m3: return check_fp8_scale(model, checkpoint, tensor);
    default:
        throw CheckpointError(file + ": " + tensor.name + ": dtype " + std::string(dtype_name(tensor.dtype)) +
                              " is not supported (expected F32, F16, BF16, or F8_E4M3 with block scales)");
    }
}

}  // namespace

Mxfp4Shapes mxfp4_shapes(const std::vector<int64_t>& logical) {
    if (logical.size() != 3 || logical[1] % 32 != 0) return {};
    const int64_t experts = logical[0], in = logical[1], out = logical[2];
    return {{experts, out, in / 32, 16}, {experts, out, in / 32}};
}

bool stored_as_mxfp4(const Checkpoint& checkpoint, const std::string& name) {
    return !checkpoint.find(name) && checkpoint.find(mxfp4_blocks_name(name)) && checkpoint.find(mxfp4_scales_name(name));
}

ExpertLayout detect_expert_layout(const ModelDescription& model, const Checkpoint& checkpoint) {
    if (model.moe_layers.empty()) return ExpertLayout::per_expert;
    if (model.family->fused_only()) return ExpertLayout::fused;
    const std::string fused_down =
        tensor_name(*model.family, TensorRole::expert_down, model.moe_layers.front(), -1, ExpertLayout::fused);
    return checkpoint.find(fused_down) ? ExpertLayout::fused : ExpertLayout::per_expert;
}

void validate_checkpoint(const ModelDescription& model, const Checkpoint& checkpoint) {
    validate_checkpoint(model, checkpoint, detect_expert_layout(model, checkpoint));
}

void validate_checkpoint(const ModelDescription& model, const Checkpoint& checkpoint, ExpertLayout layout) {
    for (int layer : model.moe_layers) {
        if (layout == ExpertLayout::fused) check_fused_count(model, checkpoint, layer);
        else check_per_expert_count(model, checkpoint, layer);
    }
    const std::vector<ExpectedTensor> expected = expected_tensors(model, layout);
    check_missing(model, expected, checkpoint);
    for (const ExpectedTensor& tensor : expected) check_tensor(model, checkpoint, tensor);
}

}  // namespace sy
