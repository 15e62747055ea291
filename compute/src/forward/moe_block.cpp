#include "forward/moe_block.h"

#include <torch/torch.h>

#include "forward/grouped_experts.h"
#include "forward/mlp.h"

namespace sy {
namespace {

using Role = TensorRole;

// Token-slot pairs sorted by expert: rows[i] is the token of the i-th pair, gate[i] its weight,
// slots[i] its flat (token * k + slot) index, counts[e] how many pairs expert e has (pairs of
// expert e are contiguous).
struct ExpertGroups {
    torch::Tensor rows;            // [N*k] int64
    torch::Tensor gate;            // [N*k] f32
    torch::Tensor slots;           // [N*k] int64
    std::vector<int64_t> counts;   // [E], on the host
};

ExpertGroups group_by_expert(const Routing& routing, int64_t experts) {
    const int64_t k = routing.ids.size(1);
    const torch::Tensor flat = routing.ids.reshape({-1});
    ExpertGroups groups;
    groups.slots = std::get<1>(flat.sort(/*stable=*/true, 0, /*descending=*/false));
    groups.rows = torch::div(groups.slots, k, "floor");
    groups.gate = routing.weights.reshape({-1}).index_select(0, groups.slots);
    const torch::Tensor counts = torch::bincount(flat, {}, experts).to(torch::kCPU).to(torch::kInt64).contiguous();
    groups.counts.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + experts);
    return groups;
}

torch::Tensor shared_experts(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x) {
    torch::Tensor out = silu_mlp(x, w.at(Role::shared_gate), w.at(Role::shared_up), w.at(Role::shared_down));
    // Qwen2-MoE: one scalar sigmoid gate per token; DeepSeek: ungated.
    if (m.family->shared_expert == SharedExpertKind::gated_sigmoid)
        out = out * torch::sigmoid(torch::matmul(x, w.at(Role::shared_expert_gate).t()));
    return out;
}

// Where the per-pair output norms go (sorted pair order), when asked for.
struct NormSink {
    torch::Tensor sorted;   // [N*k] f32, or undefined
    void put(int64_t offset, const torch::Tensor& y) {
        if (sorted.defined()) sorted.narrow(0, offset, y.size(0)).copy_(y.to(torch::kFloat32).norm(2, {1}));
    }
};

// One GEMM chain per expert over its tokens (CPU, streamed experts, LibTorch without grouped
// GEMM). out [N, H] f32 accumulates gate-weighted outputs.
void per_expert_loop(const ModelDescription& m, const torch::Tensor& x, const ExpertGroups& groups,
                     ExpertSource& experts, torch::Tensor& out, NormSink& norms) {
    std::vector<int> order;   // experts with tokens, in the order the loop acquires them
    for (std::size_t e = 0; e < groups.counts.size(); ++e)
        if (groups.counts[e] > 0) order.push_back(static_cast<int>(e));
    experts.will_acquire(order);
    int64_t offset = 0;
    for (int64_t e = 0; e < static_cast<int64_t>(groups.counts.size()); ++e) {
        const int64_t count = groups.counts[static_cast<std::size_t>(e)];
        if (count == 0) continue;
        const torch::Tensor rows = groups.rows.narrow(0, offset, count);
        const int64_t padded = expert_gemm_rows(count, x);
        const torch::Tensor gemm_input_rows =
            padded == count ? rows : torch::cat({rows, rows.narrow(0, 0, 1).expand({padded - count})});
        const torch::Tensor y =
            expert_output(m, experts, static_cast<int>(e), x.index_select(0, gemm_input_rows)).narrow(0, 0, count);
        norms.put(offset, y);
        out.index_add_(0, rows, y.to(torch::kFloat32) * groups.gate.narrow(0, offset, count).unsqueeze(1));
        experts.release(static_cast<int>(e));
        offset += count;
    }
}

// All experts in two grouped GEMMs when the weights are stacked and the build has the kernel;
// false when the caller must run the loop instead.
bool grouped_experts(const torch::Tensor& x, const ExpertGroups& groups, ExpertSource& experts, torch::Tensor& out,
                     NormSink& norms) {
    const StackedExperts* stacked = experts.stacked();
    if (!stacked || !grouped_gemm_available(x.device(), stacked->gate_up.scalar_type())) return false;
    const torch::Tensor y = grouped_expert_mlp(*stacked, x.index_select(0, groups.rows), groups.counts);
    if (!y.defined()) return false;
    norms.put(0, y);
    out.index_add_(0, groups.rows, y.to(torch::kFloat32) * groups.gate.unsqueeze(1));
    return true;
}

// Expert parallelism: the same grouped rows, run wherever each expert lives; the weighted sum
// then goes in the same (expert-sorted) order as above.
bool remote_experts(RemoteExperts* remote, int layer, const torch::Tensor& x, const Routing& routing,
                    const ExpertGroups& groups, ExpertSource& experts, torch::Tensor& out, NormSink& norms) {
    if (!remote) return false;
    const torch::Tensor y = remote->run(layer, x.index_select(0, groups.rows), groups.counts, experts, routing.ids.select(1, 0));
    norms.put(0, y);
    out.index_add_(0, groups.rows, y.to(torch::kFloat32) * groups.gate.unsqueeze(1));
    return true;
}

}  // namespace

int64_t expert_gemm_rows(int64_t count, const torch::Tensor& x) {
    const bool onednn = x.is_cpu() && (x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf);
    if (!onednn) return count;
    const int64_t multiple = count > 256 ? 64 : 16;
    return (count + multiple - 1) / multiple * multiple;
}

torch::Tensor expert_output(const ModelDescription& m, ExpertSource& experts, int expert, const torch::Tensor& x) {
    const ExpertWeights weights = experts.acquire(expert);
    return expert_mlp(m, x, weights);
}

MoeOutput moe_block(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x, const Routing& routing,
                    ExpertSource& experts, bool want_norms, RemoteExperts* remote) {
    const int64_t expert_count = routing.logits.size(1);
    const ExpertGroups groups = group_by_expert(routing, expert_count);
    torch::Tensor out = torch::zeros({x.size(0), x.size(1)}, x.options().dtype(torch::kFloat32));
    NormSink norms;
    if (want_norms) norms.sorted = torch::zeros({groups.slots.size(0)}, out.options());
    if (!remote_experts(remote, w.layer, x, routing, groups, experts, out, norms) && !grouped_experts(x, groups, experts, out, norms))
        per_expert_loop(m, x, groups, experts, out, norms);
    if (m.shared_expert_count > 0) out += shared_experts(m, w, x).to(torch::kFloat32);
    MoeOutput result{out.to(x.scalar_type()), {}};
    if (want_norms)   // back from sorted pair order to [N, k]
        result.norms = torch::zeros_like(norms.sorted).index_put_({groups.slots}, norms.sorted).view(routing.ids.sizes());
    return result;
}

}  // namespace sy
