#include "moe_block.h"

#include <torch/torch.h>

#include "grouped_experts.h"
#include "mlp.h"

namespace sy {
namespace {

using Role = TensorRole;

// Token-slot pairs sorted by expert: rows[i] is the token of the i-th pair, gate[i] its weight,
// counts[e] how many pairs expert e has (pairs of expert e are contiguous).
struct ExpertGroups {
    torch::Tensor rows;            // [N*k] int64
    torch::Tensor gate;            // [N*k] f32
    std::vector<int64_t> counts;   // [E], on the host
};

ExpertGroups group_by_expert(const Routing& routing, int64_t experts) {
    const int64_t k = routing.ids.size(1);
    const torch::Tensor flat = routing.ids.reshape({-1});
    const torch::Tensor order = std::get<1>(flat.sort(/*stable=*/true, 0, /*descending=*/false));
    ExpertGroups groups;
    groups.rows = torch::div(order, k, "floor");
    groups.gate = routing.weights.reshape({-1}).index_select(0, order);
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

// One GEMM chain per expert over its tokens (CPU, streamed experts, LibTorch without grouped
// GEMM). out [N, H] f32 accumulates gate-weighted outputs.
void per_expert_loop(const ModelDescription& m, const torch::Tensor& x, const ExpertGroups& groups,
                     ExpertSource& experts, torch::Tensor& out) {
    int64_t offset = 0;
    for (int64_t e = 0; e < static_cast<int64_t>(groups.counts.size()); ++e) {
        const int64_t count = groups.counts[static_cast<std::size_t>(e)];
        if (count == 0) continue;
        const torch::Tensor rows = groups.rows.narrow(0, offset, count);
        const ExpertWeights weights = experts.acquire(static_cast<int>(e));
        const torch::Tensor y = expert_mlp(m, x.index_select(0, rows), weights);
        out.index_add_(0, rows, y.to(torch::kFloat32) * groups.gate.narrow(0, offset, count).unsqueeze(1));
        experts.release(static_cast<int>(e));
        offset += count;
    }
}

// All experts in two grouped GEMMs when the weights are stacked and the build has the kernel;
// false when the caller must run the loop instead.
bool grouped_experts(const torch::Tensor& x, const ExpertGroups& groups, ExpertSource& experts, torch::Tensor& out) {
    const StackedExperts* stacked = experts.stacked();
    if (!stacked || !grouped_gemm_available(x.device(), stacked->gate_up.scalar_type())) return false;
    const torch::Tensor y = grouped_expert_mlp(*stacked, x.index_select(0, groups.rows), groups.counts);
    if (!y.defined()) return false;
    out.index_add_(0, groups.rows, y.to(torch::kFloat32) * groups.gate.unsqueeze(1));
    return true;
}

}  // namespace

torch::Tensor moe_block(const ModelDescription& m, const LayerWeights& w, const torch::Tensor& x,
                        const Routing& routing, ExpertSource& experts) {
    const int64_t expert_count = routing.logits.size(1);
    const ExpertGroups groups = group_by_expert(routing, expert_count);
    torch::Tensor out = torch::zeros({x.size(0), x.size(1)}, x.options().dtype(torch::kFloat32));
    if (!grouped_experts(x, groups, experts, out)) per_expert_loop(m, x, groups, experts, out);
    if (m.shared_expert_count > 0) out += shared_experts(m, w, x).to(torch::kFloat32);
    return out.to(x.scalar_type());
}

}  // namespace sy
