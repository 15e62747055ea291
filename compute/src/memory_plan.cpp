// plan_memory (issue 3 item 2). Bytes are those of the converted weights in the compute dtype
// (what the runner holds), not of the files; activations are not counted.
//
// min_max_memory_bytes = resident + max over layers of (the layer's non-expert weights + its
// largest routed expert): the runner streams a layer's experts one at a time when the whole
// layer does not fit, so that is the smallest bound it can work under. Dense layers count whole.
#include "memory_plan.h"

#include <algorithm>

#include "layer_tensors.h"
#include "weight_loader.h"

namespace sy {

LayerBytes layer_bytes(const Model& model, ComputeDType dtype, int layer) {
    const LayerTensorRoles roles = layer_tensor_roles(model.description, model.layout, layer);
    LayerBytes bytes;
    for (TensorRole role : roles.common) bytes.common += converted_bytes(model, dtype, role, layer);
    if (roles.expert_count == 0) return bytes;
    if (model.layout == ExpertLayout::fused) {
        for (TensorRole role : roles.experts) bytes.experts += converted_bytes(model, dtype, role, layer);
        bytes.largest_expert = bytes.experts / static_cast<uint64_t>(roles.expert_count);
        return bytes;
    }
    for (int e = 0; e < roles.expert_count; ++e) {
        uint64_t expert = 0;
        for (TensorRole role : roles.experts) expert += converted_bytes(model, dtype, role, layer, e);
        bytes.experts += expert;
        bytes.largest_expert = std::max(bytes.largest_expert, expert);
    }
    return bytes;
}

MemoryPlan plan_memory(const Model& model, ComputeDType dtype) {
    MemoryPlan plan;
    for (TensorRole role : resident_tensor_roles(model.description))
        plan.resident_bytes += converted_bytes(model, dtype, role);
    uint64_t smallest_layer_bound = 0;
    plan.total_weight_bytes = plan.resident_bytes;
    for (int l = 0; l < model.description.num_layers; ++l) {
        const LayerBytes bytes = layer_bytes(model, dtype, l);
        plan.layer_bytes.push_back(bytes.total());
        plan.largest_expert_bytes.push_back(bytes.largest_expert);
        plan.total_weight_bytes += bytes.total();
        smallest_layer_bound = std::max(smallest_layer_bound, bytes.streamed());
    }
    plan.min_max_memory_bytes = plan.resident_bytes + smallest_layer_bound;
    return plan;
}

}  // namespace sy
