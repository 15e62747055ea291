#pragma once
// The converted weights of one decoder layer, and where a MoE block gets its experts from:
// resident (loaded with the layer) or streamed one at a time under a tight memory bound.
// A LayerWeights is immutable once loaded; the compute thread reads it while a prefetch thread
// may be loading the next one.
#include <torch/types.h>

#include <map>
#include <memory>
#include <vector>

#include "forward/grouped_experts.h"
#include "weights/weight_loader.h"

namespace sy {

struct ExpertWeights {
    torch::Tensor gate;   // [I, H]
    torch::Tensor up;     // [I, H]
    torch::Tensor down;   // [H, I]
    // gpt-oss only (undefined for the other families): [I], [I], [H].
    torch::Tensor gate_bias, up_bias, down_bias;
};

struct LayerWeights {
    int layer = 0;
    std::map<TensorRole, torch::Tensor> common;   // norms, attention, dense MLP / router / shared
    std::vector<ExpertWeights> experts;           // empty when this layer's experts stream
    // Defined when grouped GEMM is available (CUDA): `experts` are then views into these.
    StackedExperts stacked;

    const torch::Tensor& at(TensorRole role) const;   // throws std::logic_error when absent
    torch::Tensor find(TensorRole role) const;        // undefined tensor when absent
};

// Loads the layer's common tensors and, when `with_experts`, all its routed experts.
std::shared_ptr<LayerWeights> load_layer_weights(const WeightLoader& loader, int layer, bool with_experts);
// Drops the mapped source pages of every tensor of the layer (after its converted copy is gone
// or no longer needed).
void release_layer_sources(const WeightLoader& loader, int layer);
// Moves every tensor out of `weights` (views first), for WeightLoader::recycle.
std::vector<torch::Tensor> take_tensors(LayerWeights&& weights);
// Starts reading every tensor of the layer into the page cache (not into this process), so
// that loading it later overlaps the disk with the current layer's compute even when the
// memory bound leaves no room to prefetch converted weights.
void warm_layer_sources(const WeightLoader& loader, int layer);

class ExpertSource {
public:
    virtual ~ExpertSource() = default;
    virtual ExpertWeights acquire(int expert) = 0;
    virtual void release(int expert) {}
    // All experts stacked for grouped GEMM, or nullptr (streamed experts never are).
    virtual const StackedExperts* stacked() const { return nullptr; }
};

class ResidentExperts final : public ExpertSource {
public:
    explicit ResidentExperts(const LayerWeights& weights) : m_weights(weights) {}
    ExpertWeights acquire(int expert) override;
    const StackedExperts* stacked() const override { return m_weights.stacked.defined() ? &m_weights.stacked : nullptr; }

private:
    const LayerWeights& m_weights;
};

// Loads each expert when the MoE block asks for it and drops it right after (for
// a layer larger than the memory bound).
class StreamedExperts final : public ExpertSource {
public:
    StreamedExperts(const WeightLoader& loader, int layer) : m_loader(loader), m_layer(layer) {}
    ExpertWeights acquire(int expert) override;
    void release(int expert) override;

private:
    const WeightLoader& m_loader;
    int m_layer;
    ExpertWeights m_last;   // recycled as the next expert's read destinations
};

}  // namespace sy
