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

// Rows an expert's GEMMs run with for `count` tokens of x; the per-expert loop pads the rest
// with copies of the expert's first token and drops their outputs. Why: oneDNN, which
// LibTorch's bf16 / f16 matmuls use on the CPU, JIT-compiles a kernel for each GEMM shape it has
// not seen (its primitive cache is keyed by shape), and an expert's row count changes with
// every batch: bf16 GEMMs of 100-400 varying rows against a [3584, 1024] weight ran at 425-470
// GFLOP/s, the same rows rounded up to a multiple of 32 at 1090-1130 (bench/README.md#load).
// There the count is rounded up to a multiple of 16 (an AMX tile's rows), of 64 above 256
// rows: at most 15 or 63 padding rows (under 25%), about 140 shapes up to 8,192 rows. A row's
// result may differ in the last bf16 bit from an unpadded GEMM's (oneDNN's blocking follows
// the row count, as it did between batches before). f32 on the CPU (OpenBLAS, no per-shape
// kernels) and CUDA (cuBLAS) run the exact count.
int64_t expert_gemm_rows(int64_t count, const torch::Tensor& x);

// One routed expert's un-gated output f_e(x) for x [n, H] (activation dtype) -> [n, H].
torch::Tensor expert_output(const ModelDescription& model, ExpertSource& experts, int expert, const torch::Tensor& x);

}  // namespace sy
