#pragma once
// Converted weight bytes per layer, split into what streams with the layer and what can stream
// one expert at a time, and the checkpoint bytes a load reads (FP8 weights are a quarter of their
// f32 copies). Shared by plan_memory and the runner's weight schedule.
#include <cstdint>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/model.h"

namespace sy {

struct LayerBytes {
    uint64_t common = 0;           // norms, attention, dense MLP / router / shared experts
    uint64_t experts = 0;          // all routed experts
    uint64_t largest_expert = 0;   // one routed expert (0 for dense layers)
    uint64_t file = 0;             // what loading the whole layer reads from the checkpoint
    uint64_t total() const { return common + experts; }
    // Peak while this layer's experts stream one at a time.
    uint64_t streamed() const { return common + largest_expert; }
};

LayerBytes layer_bytes(const Model& model, ComputeDType dtype, int layer);

}  // namespace sy
