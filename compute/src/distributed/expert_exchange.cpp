// Dispatch, local experts, combine; see expert_exchange.h.
#include "expert_exchange.h"

#include <torch/torch.h>

#include <numeric>

#include "rank_group_impl.h"
#include "switchyard/core/errors.h"

namespace sy {

// Rows this rank sends and receives in one MoE layer. Pairs go out grouped by destination rank
// and, within it, by expert; they arrive grouped by source rank, then expert.
struct ExpertExchange::Plan {
    int moe_index = 0;
    int64_t experts = 0;                  // E
    std::vector<int64_t> all_counts;      // [W * E]: pairs rank s has for expert e at [s * E + e]
    std::vector<int64_t> send_rows;       // [W] to each rank
    std::vector<int64_t> receive_rows;    // [W] from each rank
    std::vector<int64_t> send_order;      // [P] row of x_sorted sent i-th; empty when that is the identity
    std::vector<int> mine;                // experts held here, ascending
};

namespace {

torch::Tensor index_tensor(const std::vector<int64_t>& values, const torch::Device& device) {
    return torch::tensor(values, torch::kInt64).to(device);
}

// A tensor's bytes as a flat uint8 tensor on the same device (no copy; `t` must stay alive).
torch::Tensor as_bytes(const torch::Tensor& t) {
    return torch::from_blob(t.data_ptr(), {t.numel() * static_cast<int64_t>(t.element_size())},
                            t.options().dtype(torch::kUInt8));
}

}  // namespace

std::vector<std::vector<bool>> held_experts(const ModelDescription& model, const std::vector<std::vector<int>>& expert_ranks,
                                            int rank) {
    std::vector<std::vector<bool>> held(static_cast<std::size_t>(model.num_layers));
    for (std::size_t m = 0; m < model.moe_layers.size(); ++m) {
        auto& layer = held[static_cast<std::size_t>(model.moe_layers[m])];
        for (int owner : expert_ranks.at(m)) layer.push_back(owner == rank);
    }
    return held;
}

ExpertExchange::ExpertExchange(RankGroup& ranks, const ModelDescription& model,
                               std::vector<std::vector<int>> expert_ranks, std::shared_ptr<ExpertTraffic> traffic,
                               int64_t row_bytes)
    : m_ranks(ranks), m_model(model), m_expert_ranks(std::move(expert_ranks)), m_traffic(std::move(traffic)) {
    if (!m_traffic) return;
    const int w = m_ranks.size();
    m_traffic->ranks = w;
    m_traffic->row_bytes = row_bytes;
    m_traffic->moe_layers.assign(model.moe_layers.begin(), model.moe_layers.end());
    m_traffic->pairs.assign(model.moe_layers.size(), std::vector<int64_t>(static_cast<std::size_t>(w * w), 0));
    m_traffic->transitions = m_traffic->pairs;
    m_traffic->expert_ranks = m_expert_ranks;
}

ExpertExchange::Plan ExpertExchange::plan(int moe_index, const std::vector<int64_t>& counts) const {
    const int w = m_ranks.size(), me = m_ranks.rank();
    const std::vector<int>& owner = m_expert_ranks.at(static_cast<std::size_t>(moe_index));
    Plan p;
    p.moe_index = moe_index;
    p.experts = static_cast<int64_t>(counts.size());
    SY_CHECK(p.experts == static_cast<int64_t>(owner.size()), ShapeMismatch,
             "expert parallelism: " + std::to_string(p.experts) + " experts routed, placement has " +
                 std::to_string(owner.size()));
    p.all_counts.assign(static_cast<std::size_t>(w * p.experts), 0);
    std::copy(counts.begin(), counts.end(), p.all_counts.begin() + me * p.experts);
    m_ranks.sum(p.all_counts, "exchanging expert counts of MoE layer " + std::to_string(m_model.moe_layers[moe_index]));
    std::vector<int64_t> first(counts.size(), 0);   // first row of each expert in x_sorted
    std::partial_sum(counts.begin(), counts.end() - 1, first.begin() + 1);
    p.send_rows.assign(static_cast<std::size_t>(w), 0);
    p.receive_rows.assign(static_cast<std::size_t>(w), 0);
    bool identity = true;
    for (int q = 0; q < w; ++q)
        for (int64_t e = 0; e < p.experts; ++e) {
            if (owner[static_cast<std::size_t>(e)] != q) continue;
            const int64_t n = counts[static_cast<std::size_t>(e)];
            for (int64_t i = 0; i < n; ++i) {
                identity &= first[std::size_t(e)] + i == int64_t(p.send_order.size());
                p.send_order.push_back(first[static_cast<std::size_t>(e)] + i);
            }
            p.send_rows[static_cast<std::size_t>(q)] += n;
        }
    if (identity) p.send_order.clear();
    for (int64_t e = 0; e < p.experts; ++e)
        if (owner[static_cast<std::size_t>(e)] == me) p.mine.push_back(static_cast<int>(e));
    for (int s = 0; s < w; ++s)
        for (int e : p.mine) p.receive_rows[static_cast<std::size_t>(s)] += p.all_counts[std::size_t(s * p.experts + e)];
    return p;
}

torch::Tensor ExpertExchange::all_to_all(const torch::Tensor& rows, const std::vector<int64_t>& send_rows,
                                         const std::vector<int64_t>& receive_rows, int layer, const char* leg) const {
    RankGroup::Impl& group = m_ranks.impl();
    // Gloo moves host memory; NCCL moves the GPU's own.
    const bool host = group.backend == "gloo";
    const torch::Tensor send = (host ? rows.to(torch::kCPU) : rows).contiguous();
    const int64_t row_bytes = send.size(1) * static_cast<int64_t>(send.element_size());
    const int64_t received = std::accumulate(receive_rows.begin(), receive_rows.end(), int64_t(0));
    torch::Tensor out = torch::empty({received, send.size(1)}, send.options());
    std::vector<int64_t> send_bytes, receive_bytes;
    for (int64_t n : send_rows) send_bytes.push_back(n * row_bytes);
    for (int64_t n : receive_rows) receive_bytes.push_back(n * row_bytes);
    at::Tensor in_view = as_bytes(send), out_view = as_bytes(out);
    group.run([&] { return group.device->alltoall_base(out_view, in_view, receive_bytes, send_bytes); },
              std::string("the ") + leg + " all-to-all of MoE layer " + std::to_string(layer));
    return out.to(rows.device());
}

torch::Tensor ExpertExchange::run_local(const Plan& p, const torch::Tensor& received, ExpertSource& local) const {
    // Rows of each held expert from every source, so that each expert runs once over all of them.
    std::vector<int64_t> order, expert_rows;
    const int w = m_ranks.size();
    std::vector<int64_t> source_first(static_cast<std::size_t>(w), 0);
    std::partial_sum(p.receive_rows.begin(), p.receive_rows.end() - 1, source_first.begin() + 1);
    std::vector<int64_t> cursor = source_first;
    std::vector<std::vector<int64_t>> rows_of(p.mine.size());
    for (int s = 0; s < w; ++s)
        for (std::size_t i = 0; i < p.mine.size(); ++i)
            for (int64_t n = p.all_counts[std::size_t(s * p.experts + p.mine[i])]; n > 0; --n)
                rows_of[i].push_back(cursor[std::size_t(s)]++);
    for (const auto& rows : rows_of) order.insert(order.end(), rows.begin(), rows.end());
    if (order.empty()) return received;
    const torch::Tensor index = index_tensor(order, received.device());
    const torch::Tensor x = received.index_select(0, index);
    torch::Tensor y = torch::empty_like(x);
    int64_t offset = 0;
    for (std::size_t i = 0; i < p.mine.size(); ++i) {
        const auto n = static_cast<int64_t>(rows_of[i].size());
        if (n == 0) continue;
        y.narrow(0, offset, n).copy_(expert_output(m_model, local, p.mine[i], x.narrow(0, offset, n)));
        local.release(p.mine[i]);
        offset += n;
    }
    return torch::empty_like(received).index_copy_(0, index, y);
}

// `switchyard place` scores a placement by the first-choice transitions between consecutive MoE
// layers that change GPU (analysis/src/placement, convention "first"): the traffic if each token
// moved to its first expert's GPU. Counting the same here checks that prediction on the data run.
void ExpertExchange::count_transitions(int moe_index, const torch::Tensor& first_choice) {
    if (!m_traffic || !first_choice.defined()) return;
    const torch::Tensor ids = first_choice.to(torch::kCPU, torch::kInt64).contiguous();
    const std::vector<int>& owner = m_expert_ranks.at(static_cast<std::size_t>(moe_index));
    std::vector<int> ranks(static_cast<std::size_t>(ids.numel()));
    for (std::size_t t = 0; t < ranks.size(); ++t) ranks[t] = owner.at(static_cast<std::size_t>(ids.data_ptr<int64_t>()[t]));
    if (moe_index > 0 && m_previous_layer == moe_index - 1 && m_previous_ranks.size() == ranks.size()) {
        std::vector<int64_t>& counts = m_traffic->transitions.at(static_cast<std::size_t>(moe_index));
        for (std::size_t t = 0; t < ranks.size(); ++t) ++counts[static_cast<std::size_t>(m_previous_ranks[t] * m_ranks.size() + ranks[t])];
    }
    m_previous_ranks = std::move(ranks);
    m_previous_layer = moe_index;
}

torch::Tensor ExpertExchange::run(int layer, const torch::Tensor& x_sorted, const std::vector<int64_t>& counts,
                                  ExpertSource& local, const torch::Tensor& first_choice) {
    const Plan p = plan(m_model.moe_layer_index(layer), counts);
    count_transitions(p.moe_index, first_choice);
    const bool permuted = !p.send_order.empty();
    const torch::Tensor order = permuted ? index_tensor(p.send_order, x_sorted.device()) : torch::Tensor();
    const torch::Tensor x_send = permuted ? x_sorted.index_select(0, order) : x_sorted;
    const torch::Tensor received = all_to_all(x_send, p.send_rows, p.receive_rows, layer, "dispatch");
    const torch::Tensor y_received = run_local(p, received, local);
    const torch::Tensor y_send = all_to_all(y_received, p.receive_rows, p.send_rows, layer, "combine");
    if (m_traffic) {
        std::vector<int64_t>& pairs = m_traffic->pairs.at(static_cast<std::size_t>(p.moe_index));
        const int w = m_ranks.size(), me = m_ranks.rank();
        for (int q = 0; q < w; ++q) pairs[static_cast<std::size_t>(me * w + q)] += p.send_rows[static_cast<std::size_t>(q)];
    }
    return permuted ? torch::empty_like(y_send).index_copy_(0, order, y_send) : y_send;
}

}  // namespace sy
