#pragma once
// What every block of one forward pass shares: the model description, the compute dtype, the
// batch layout and the rotary tables for its positions. Built once per run, read-only.
#include <torch/types.h>

#include "batch_layout.h"
#include "rope.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct ForwardContext {
    const ModelDescription& model;
    torch::ScalarType dtype;        // activation dtype (f32 or bf16)
    const BatchLayout& batch;
    const RopeTables& rope;         // rows = batch tokens, rotary_dim / 2 columns
};

}  // namespace sy
