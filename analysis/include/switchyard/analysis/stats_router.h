#pragma once
// Router-probability statistics (needs /routing/router_logits): the load-balancing loss
// E * sum_e f_e P_e per micro-batch window and over the global batch ("Demons in the Detail",
// analysis.md 2.3), mean per-token router entropy and the top-k score mass against the uniform
// value k/E (analysis.md 2.3 item 2, 2.11 row 4).
#include <cstdint>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis {

// How router logits become the probabilities p[t,l,e].
enum class ScoreFunction {
    softmax,   // softmax over the layer's E_l logits (Mixtral, Qwen, OLMoE, DeepSeek-V2)
    sigmoid,   // sigmoid, then normalised to sum 1 over E_l (DeepSeek-V3's sequence-wise
               // balance loss; the selection bias is not in the trace and is ignored)
};

// p[0..E) from logits[0..E) (double precision). Thread: any.
void router_probabilities(const float* logits, int experts, ScoreFunction fn, double* probs_out);

struct LayerRouterScores {
    int layer = 0;                          // model-layer index
    int64_t tokens = 0;
    double mean_entropy_bits = 0;           // mean_t H(p[t,l,:]) in bits
    double mean_entropy_normalized = 0;     // ... / log2(E_l)
    double topk_score_mass = 0;             // mean_t sum_{e in S[t,l]} p[t,l,e]
    double uniform_topk_mass = 0;           // k / E_l
    std::vector<double> mean_probs;         // [E_l] P[l,e] over all tokens
    double lbl_global = 0;                  // E * sum f_e P_e, f = c / (k T) over all tokens (1 = balanced)
    double lbl_micro_mean = 0;              // mean over windows of the same quantity per window
    std::vector<double> lbl_windows;        // [W] per window; window w = tokens [w*W, (w+1)*W) by
                                            // global token index (the last may be partial)
};

// Thread: one thread at a time. Chunks must come in increasing token order (windows close
// when a later window starts); UsageError otherwise.
class RouterScoreAccumulator {
public:
    RouterScoreAccumulator(const RoutingShape& shape, ScoreFunction fn, int64_t window_tokens);
    void add(const RoutingChunk& chunk);   // no-op when chunk.router_logits is null
    std::vector<LayerRouterScores> finish() const;
    bool has_data() const { return m_tokens > 0; }

private:
    struct LayerState {
        double entropy_sum = 0, mass_sum = 0;
        std::vector<double> prob_sum;          // [E] over all tokens
        std::vector<int64_t> count;            // [E] over all tokens
        std::vector<double> window_prob_sum;   // [E] current window
        std::vector<int64_t> window_count;     // [E] current window
        int64_t window_tokens = 0;
        std::vector<double> lbl_windows;
    };
    void add_token(int l, const float* logits, const int16_t* ids, std::vector<double>& probs);
    static double window_lbl(const LayerState& s, int k);
    void close_windows();

    RoutingShape m_shape;
    ScoreFunction m_fn;
    int64_t m_window = 0;
    int64_t m_tokens = 0;
    int64_t m_current_window = -1;
    int64_t m_next_token = 0;
    std::vector<LayerState> m_layers;
};

}  // namespace sy::analysis
