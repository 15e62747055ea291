#pragma once
// The one routing-observer interface: trace, eval, score, similarity, the edit preview and the
// GUI's live view all watch the single forward implementation through it. No torch here.
#include <cstdint>

namespace sy {

// Runs routed experts of the layer being reported, as the forward pass holds them (resident or
// streamed, edits applied). Valid only during on_layer_routing; compute thread only.
class ExpertProbe {
public:
    virtual ~ExpertProbe() = default;
    // y [n, H] = f_e(x) for x [n, H], both f32 row-major on the host: the expert's un-gated
    // output down(silu(gate x) * up x), computed in the run's compute dtype.
    virtual void run(int expert, const float* x, int64_t n, float* y) = 0;
};

// Routing of one MoE layer for one batch, reported after the MoE block ran. Arrays are
// row-major, on the CPU, f32/i64, valid only during the call. Rows are the batch's tokens in
// order (sequence by sequence).
struct LayerRouting {
    int layer = 0;             // model-layer index
    int moe_index = 0;         // position in ModelDescription::moe_layers
    int64_t tokens = 0;        // N
    int64_t experts = 0;       // E
    int64_t top_k = 0;         // k
    const float* router_logits = nullptr;     // [N, E] raw router logits (before softmax / sigmoid, no mask)
    const float* router_probs = nullptr;      // [N, E] router probabilities: softmax over the
                                              //   unmasked experts, or sigmoid (no correction bias)
    const float* selection_scores = nullptr;  // [N, E] scores top-k was taken on (router_probs;
                                              //   DeepSeek-V3: sigmoid + e_score_correction_bias);
                                              //   masked experts hold -inf
    const int64_t* topk_ids = nullptr;        // [N, k] chosen experts, in selection order
    const float* topk_weights = nullptr;      // [N, k] final gate weights (renormalised / scaled)
    const float* hidden_states = nullptr;     // [N, H] input to the MoE block (after its norm),
    int64_t hidden_size = 0;                  //   only when wants_hidden_states(), else null
    const float* expert_norms = nullptr;      // [N, k] ||f_e(x)||_2 of each chosen expert's
                                              //   un-gated output; only when wants_expert_norms()
    const float* moe_output = nullptr;        // [N, H] the block's output (routed + shared
                                              //   experts), only when wants_moe_output()
    ExpertProbe* probe = nullptr;             // runs any expert of this layer (see ExpertProbe)
};

class RoutingObserver {
public:
    virtual ~RoutingObserver() = default;
    // Called on the compute thread, once per MoE layer per batch, in layer order.
    virtual void on_layer_routing(const LayerRouting& routing) = 0;
    virtual bool wants_hidden_states() const { return false; }
    virtual bool wants_expert_norms() const { return false; }
    virtual bool wants_moe_output() const { return false; }

    // Layer-input hook, separate from routing: the residual stream entering each decoder layer
    // (dense and MoE layers alike), [N, H] f32 on the CPU, valid only during the call. Called on
    // the compute thread before the layer runs, only when wants_layer_inputs(). Used to
    // initialise upcycled routers from a dense model's hidden states (layer_input_means.h).
    virtual bool wants_layer_inputs() const { return false; }
    virtual void on_layer_input(int /*layer*/, const float* /*hidden*/, int64_t /*tokens*/, int64_t /*hidden_size*/) {}
};

}  // namespace sy
