#pragma once
// The converted weights of one decoder layer, and where a MoE block gets its experts from:
// resident (loaded with the layer) or streamed one (or, with room for two, one ahead) at a time
// under a tight memory bound.
// A LayerWeights is immutable once loaded; the compute thread reads it while a prefetch thread
// may be loading the next one.
#include <torch/types.h>

#include <future>
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
// The tensors of the layer to read into the page cache ahead of its load (WeightLoader::will_need,
// not into this process), so that loading it later overlaps the disk with the current layer's
// compute even when the memory bound leaves no room to prefetch converted weights: all of them,
// in load order, except, when `experts_loaded_ahead` (each streamed expert loads on a worker
// while the one before computes: StreamedExperts), the experts after the first that the loader
// would read directly (WeightLoader::reads_uncached_directly): their load already overlaps
// compute, and reading them past the page cache saves the kernel's page cache work
// (bench/README.md#load). The first stays in: nothing computes while it loads.
std::vector<WeightLoader::Source> layer_sources_to_read_ahead(const WeightLoader& loader, int layer, bool experts_loaded_ahead);

class ExpertSource {
public:
    virtual ~ExpertSource() = default;
    // The experts the caller is about to acquire, in that order (a hint: acquiring others, or in
    // another order, still works). A streamed source loads the next one while this one computes.
    virtual void will_acquire(const std::vector<int>& order) {}
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

// Loads each expert when the MoE block asks for it and drops it right after (for a layer larger
// than the memory bound). With `load_ahead` (the bound holds two experts besides the layer's
// other weights), the next expert of the will_acquire() order is loaded on a worker thread while
// the caller computes with the current one, so reading and widening overlap the GEMMs; the
// expert before the current one is recycled as that load's destinations, so at most two experts
// are held. Not thread-safe: one compute thread calls it.
class StreamedExperts final : public ExpertSource {
public:
    StreamedExperts(const WeightLoader& loader, int layer, bool load_ahead)
        : m_loader(loader), m_layer(layer), m_load_ahead(load_ahead) {}
    // Waits for a load in flight (its error, if any, is dropped); the experts still held go back
    // to the loader's pool (WeightLoader::recycle).
    ~StreamedExperts() override;
    void will_acquire(const std::vector<int>& order) override;
    ExpertWeights acquire(int expert) override;
    void release(int expert) override;

private:
    ExpertWeights load(int expert) const;   // the patch's replacement, or the checkpoint's
    void start_next(int expert);            // after `expert` in the order, if any
    void recycle(ExpertWeights&& weights) const;

    const WeightLoader& m_loader;
    int m_layer;
    bool m_load_ahead;
    std::vector<int> m_order;   // from will_acquire; consumed as acquire() moves along it
    std::size_t m_position = 0;
    int m_ahead_expert = -1;
    std::future<ExpertWeights> m_ahead;
    ExpertWeights m_last;   // recycled as a later expert's read destinations
};

}  // namespace sy
