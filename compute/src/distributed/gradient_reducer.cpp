// The GradientReducer of a data-parallel training run (training.h) over a RankGroup.
#include "switchyard/compute/rank_group.h"
#include "switchyard/compute/training.h"

namespace sy {
namespace {

class RankGroupReducer final : public GradientReducer {
public:
    RankGroupReducer(std::shared_ptr<RankGroup> ranks, std::string device)
        : m_ranks(std::move(ranks)), m_device(std::move(device)) {}
    int rank() const override { return m_ranks->rank(); }
    int world_size() const override { return m_ranks->size(); }
    void all_reduce_sum(float* data, int64_t count) override {
        m_ranks->sum(data, count, m_device, "summing the gradients of a training step");
    }
    void all_reduce_sum(std::vector<double>& values) override {
        m_ranks->sum(values, "summing the losses of a training step");
    }

private:
    std::shared_ptr<RankGroup> m_ranks;
    std::string m_device;
};

}  // namespace

std::unique_ptr<GradientReducer> make_gradient_reducer(std::shared_ptr<RankGroup> ranks, const std::string& device) {
    return std::make_unique<RankGroupReducer>(std::move(ranks), device);
}

}  // namespace sy
