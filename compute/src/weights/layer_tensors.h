#pragma once
// Which tensors one decoder layer needs, as roles of the family table (style.md rules 1-2).
// The weight loader and the memory plan both read this list, so they can never disagree.
// No torch here; pure functions of the description, any thread.
#include <vector>

#include "switchyard/core/family.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct LayerTensorRoles {
    // Everything but routed experts: norms, attention, dense MLP or router + shared experts.
    std::vector<TensorRole> common;
    // Routed-expert roles. per_expert layout: expert_gate, expert_up, expert_down (one tensor
    // per expert); fused layout: expert_gate_up, expert_down (one tensor holding all E).
    std::vector<TensorRole> experts;
    int64_t expert_count = 0;   // E of this layer, 0 for dense layers
};

LayerTensorRoles layer_tensor_roles(const ModelDescription& model, ExpertLayout layout, int layer);

// Model-level tensors kept resident for the whole run: embeddings, final norm, lm_head.
std::vector<TensorRole> resident_tensor_roles(const ModelDescription& model);

}  // namespace sy
