#pragma once
// Expert parallelism (README "Expert parallelism"): each rank holds the experts a placement
// gives it; a MoE layer sends every (token, expert) pair's hidden state to the expert's rank with
// one all-to-all (dispatch), each rank runs its experts over what it received, and a second
// all-to-all brings the outputs back (combine), where the MoE block weights and sums them in
// the usual order. Each rank keeps its own tokens (attention stays data-parallel), as in
// DeepSpeed-MoE / Megatron expert parallelism. Compute thread only.
#include <memory>
#include <vector>

#include "forward/moe_block.h"
#include "switchyard/compute/parallel_job.h"
#include "switchyard/compute/rank_group.h"

namespace sy {

class ExpertExchange final : public RemoteExperts {
public:
    // expert_ranks [Lm][E_l]; `traffic` (may be null) receives this rank's sends; row_bytes:
    // one hidden state in the compute dtype.
    ExpertExchange(RankGroup& ranks, const ModelDescription& model, std::vector<std::vector<int>> expert_ranks,
                   std::shared_ptr<ExpertTraffic> traffic, int64_t row_bytes);
    torch::Tensor run(int layer, const torch::Tensor& x_sorted, const std::vector<int64_t>& counts,
                      ExpertSource& local, const torch::Tensor& first_choice) override;

private:
    struct Plan;   // who sends what to whom in one layer
    Plan plan(int moe_index, const std::vector<int64_t>& counts) const;
    torch::Tensor all_to_all(const torch::Tensor& rows, const std::vector<int64_t>& send_rows,
                             const std::vector<int64_t>& receive_rows, int layer, const char* leg) const;
    torch::Tensor run_local(const Plan& plan, const torch::Tensor& received, ExpertSource& local) const;
    void count_transitions(int moe_index, const torch::Tensor& first_choice);

    RankGroup& m_ranks;
    const ModelDescription& m_model;
    std::vector<std::vector<int>> m_expert_ranks;
    std::shared_ptr<ExpertTraffic> m_traffic;
    std::vector<int> m_previous_ranks;   // rank of each token's first choice in the last MoE layer
    int m_previous_layer = -1;           // its MoE index
};

// [layer][E] whether this rank holds each expert (true for every expert of a dense layer's
// nonexistent ones), for the weight loader.
std::vector<std::vector<bool>> held_experts(const ModelDescription& model, const std::vector<std::vector<int>>& expert_ranks,
                                            int rank);

}  // namespace sy
