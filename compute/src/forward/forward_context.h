#pragma once
// What every block of one forward pass shares: the model description, the compute dtype, the
// batch layout, the rotary tables for its positions and the inference-time expert masks. Built
// once per run, read-only.
#include <torch/types.h>

#include <vector>

#include "forward/batch_layout.h"
#include "forward/rope.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct ForwardContext {
    const ModelDescription& model;
    torch::ScalarType dtype;        // activation dtype (f32 or bf16)
    const BatchLayout& batch;
    const RopeTables& rope;         // rows = batch tokens, rotary_dim / 2 columns
    const std::vector<torch::Tensor>* masks = nullptr;   // [layers] of [E] bool (true = masked) or undefined

    torch::Tensor expert_mask(int layer) const {
        if (!masks || layer >= static_cast<int>(masks->size())) return {};
        return (*masks)[static_cast<std::size_t>(layer)];
    }
};

}  // namespace sy
