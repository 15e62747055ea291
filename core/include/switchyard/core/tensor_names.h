#pragma once
// The one place tensor names are built (style.md rule 2, after llama.cpp `LLM_TN`). No other
// code concatenates tensor-name strings: it asks for a role, a layer and an expert, so adding
// a family or a layout touches only the family table.
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/family.h"

namespace sy {

// Name of `role` in `layout`. `layer` is required (>= 0) exactly for per-layer roles, `expert`
// exactly for per-expert roles in the per_expert layout (fused expert tensors hold all E).
// Asking for a role the family or layout does not have, or passing a layer/expert the name
// does not take, is a programming error: throws std::invalid_argument.
std::string tensor_name(const FamilySpec& spec, TensorRole role, int layer = -1, int expert = -1,
                        ExpertLayout layout = ExpertLayout::per_expert);

// True when the family has a name for `role` in `layout`.
bool has_tensor_role(const FamilySpec& spec, TensorRole role,
                     ExpertLayout layout = ExpertLayout::per_expert);

// True when the name of `role` in `layout` contains an expert index ({E}).
bool role_is_per_expert(const FamilySpec& spec, TensorRole role, ExpertLayout layout);

// True when the name of `role` in `layout` contains a layer index ({L}).
bool role_is_per_layer(const FamilySpec& spec, TensorRole role, ExpertLayout layout = ExpertLayout::per_expert);

// Inverse of tensor_name for per-expert names of one role and layer, e.g. 7 for
// "model.layers.0.mlp.experts.7.up_proj.weight". Build once, match many names.
class ExpertNameMatcher {
public:
    ExpertNameMatcher(const FamilySpec& spec, TensorRole role, int layer);   // per_expert layout
    std::optional<int> match(std::string_view name) const;   // nullopt when not this role/layer
    const std::string& prefix() const { return m_head; }     // text before the expert index

private:
    std::string m_head;
    std::string m_tail;
    bool m_valid = false;   // false when the role has no expert index
};

std::optional<int> match_expert_index(const FamilySpec& spec, TensorRole role, int layer,
                                      std::string_view name);

// DeepSeek FP8 block scales: `<weight name>_scale_inv` (formats.md §5.2), also for fused
// expert tensors (`gate_up_proj_scale_inv`).
std::string scale_inv_name(std::string_view weight_name);

// gpt-oss MXFP4 (formats.md §6.2): a fused expert weight `<name>` is stored as U8
// `<name>_blocks` [E, out, in / 32, 16] (two E2M1 values per byte) and `<name>_scales`
// [E, out, in / 32] (E8M0 exponents), where the weight itself is [E, in, out].
std::string mxfp4_blocks_name(std::string_view weight_name);
std::string mxfp4_scales_name(std::string_view weight_name);

}  // namespace sy
