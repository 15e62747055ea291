#pragma once
// The MoE feed-forward block: routed experts run once each over the tokens routed to them
// (tokens grouped by expert, no per-token loops), weighted outputs accumulated with index_add_,
// plus the family's shared experts (formats.md §3.3, §4.5, §5.4).
#include <torch/types.h>

#include "weights/layer_weights.h"
#include "forward/router.h"
#include "switchyard/core/model_config.h"

namespace sy {

struct MoeOutput {
    torch::Tensor out;     // [N, H] activation dtype
    torch::Tensor norms;   // [N, k] f32 ||f_e(x)||_2 of each chosen expert (un-gated), only on request
};

// Routed experts that live on other processes (expert parallelism, distributed/expert_exchange.h):
// the MoE block hands over its (token, expert) pairs and gets their outputs back.
class RemoteExperts {
public:
    virtual ~RemoteExperts() = default;
    // x_sorted [P, H]: the rows of the layer's (token, expert) pairs sorted by expert, counts[e]
    // of them for expert e -> [P, H] un-gated expert outputs in the same order. `local` holds
    // this process's experts; first_choice [N] int64: each token's first-choice expert (for the
    // traffic counts), undefined when there are no tokens. Collective: every process calls it for
    // every MoE layer of every forward pass, in layer order (with P = 0 when it has no tokens).
    virtual torch::Tensor run(int layer, const torch::Tensor& x_sorted, const std::vector<int64_t>& counts,
                              ExpertSource& local, const torch::Tensor& first_choice) = 0;
};

// x [N, H] activation dtype (normed input). Expert outputs are weighted and summed in f32 (HF
// sums in the activation dtype; f32 is at least as exact). `remote`: the experts live on other
// processes too (null: all here).
MoeOutput moe_block(const ModelDescription& model, const LayerWeights& weights, const torch::Tensor& x,
                    const Routing& routing, ExpertSource& experts, bool want_norms = false,
                    RemoteExperts* remote = nullptr);

// One routed expert's un-gated output f_e(x) for x [n, H] (activation dtype) -> [n, H].
torch::Tensor expert_output(const ModelDescription& model, ExpertSource& experts, int expert, const torch::Tensor& x);

}  // namespace sy
