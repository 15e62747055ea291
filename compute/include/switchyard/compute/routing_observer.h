#pragma once
// The one routing-observer interface: trace, eval, the GUI's live view and the
// editing code all watch the single forward implementation through it. No torch here.
#include <cstdint>

namespace sy {

// Routing of one MoE layer for one batch. Arrays are row-major, on the CPU, f32/i64, valid only
// during the call. Rows are the batch's tokens in order (sequence by sequence).
struct LayerRouting {
    int layer = 0;             // model-layer index
    int moe_index = 0;         // position in ModelDescription::moe_layers
    int64_t tokens = 0;        // N
    int64_t experts = 0;       // E
    int64_t top_k = 0;         // k
    const float* router_logits = nullptr;     // [N, E] raw router logits (before softmax / sigmoid)
    const float* selection_scores = nullptr;  // [N, E] scores top-k was taken on (softmax probs;
                                              //   DeepSeek-V3: sigmoid + e_score_correction_bias)
    const int64_t* topk_ids = nullptr;        // [N, k] chosen experts, in selection order
    const float* topk_weights = nullptr;      // [N, k] final gate weights (renormalised / scaled)
    const float* hidden_states = nullptr;     // [N, H] input to the MoE block (after its norm),
    int64_t hidden_size = 0;                  //   only when wants_hidden_states(), else null
};

class RoutingObserver {
public:
    virtual ~RoutingObserver() = default;
    // Called on the compute thread, once per MoE layer per batch, in layer order.
    virtual void on_layer_routing(const LayerRouting& routing) = 0;
    virtual bool wants_hidden_states() const { return false; }

    // Layer-input hook, separate from routing: the residual stream entering each decoder layer
    // (dense and MoE layers alike), [N, H] f32 on the CPU, valid only during the call. Called on
    // the compute thread before the layer runs, only when wants_layer_inputs(). Used to
    // initialise upcycled routers from a dense model's hidden states (layer_input_means.h).
    virtual bool wants_layer_inputs() const { return false; }
    virtual void on_layer_input(int /*layer*/, const float* /*hidden*/, int64_t /*tokens*/, int64_t /*hidden_size*/) {}
};

}  // namespace sy
