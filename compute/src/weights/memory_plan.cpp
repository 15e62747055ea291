// plan_memory. Resident bytes are those of the converted weights in the compute dtype (what the
// runner holds); file bytes are what loading them reads from the checkpoint (an FP8 weight and
// its scales, a BF16 weight as stored). Activations are not counted.
//
// min_max_memory_bytes = resident + max over layers of (the layer's non-expert weights + its
// largest routed expert): the runner streams a layer's experts one at a time when the whole
// layer does not fit, so that is the smallest bound it can work under. Dense layers count whole.
#include "weights/memory_plan.h"

#include <algorithm>

#include "weights/layer_tensors.h"
#include "weights/weight_loader.h"

namespace sy {

LayerBytes layer_bytes(const Model& model, ComputeDType dtype, int layer) {
    const LayerTensorRoles roles = layer_tensor_roles(model.description, model.layout, layer);
    LayerBytes bytes;
    for (TensorRole role : roles.common) {
        bytes.common += converted_bytes(model, dtype, role, layer);
        bytes.file += file_bytes(model, role, layer);
    }
    if (roles.expert_count == 0) return bytes;
    if (model.layout == ExpertLayout::fused) {
        for (TensorRole role : roles.experts) {
            bytes.experts += converted_bytes(model, dtype, role, layer);
            bytes.file += file_bytes(model, role, layer);
        }
        bytes.largest_expert = bytes.experts / static_cast<uint64_t>(roles.expert_count);
        return bytes;
    }
    for (int e = 0; e < roles.expert_count; ++e) {
        uint64_t expert = 0;
        for (TensorRole role : roles.experts) {
            expert += converted_bytes(model, dtype, role, layer, e);
            bytes.file += file_bytes(model, role, layer, e);
        }
        bytes.experts += expert;
        bytes.largest_expert = std::max(bytes.largest_expert, expert);
    }
    return bytes;
}

MemoryPlan plan_memory(const Model& model, ComputeDType dtype) {
    MemoryPlan plan;
    for (TensorRole role : resident_tensor_roles(model.description)) {
        plan.resident_bytes += converted_bytes(model, dtype, role);
        plan.resident_file_bytes += file_bytes(model, role);
    }
    uint64_t smallest_layer_bound = 0;
    plan.total_weight_bytes = plan.resident_bytes;
    plan.total_file_bytes = plan.resident_file_bytes;
    for (int l = 0; l < model.description.num_layers; ++l) {
        const LayerBytes bytes = layer_bytes(model, dtype, l);
        plan.layer_bytes.push_back(bytes.total());
        plan.layer_file_bytes.push_back(bytes.file);
        plan.largest_expert_bytes.push_back(bytes.largest_expert);
        plan.layer_common_bytes.push_back(bytes.common);
        plan.total_weight_bytes += bytes.total();
        plan.total_file_bytes += bytes.file;
        smallest_layer_bound = std::max(smallest_layer_bound, bytes.streamed());
    }
    plan.min_max_memory_bytes = plan.resident_bytes + smallest_layer_bound;
    return plan;
}

}  // namespace sy
