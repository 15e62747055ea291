#pragma once
// Which layer weights are resident when:
// - unbounded (max_memory_bytes == 0) or a bound above every weight: each layer is converted
//   once and stays cached; layer l + 1 loads on a worker thread while layer l computes (and
//   layer 0 while the runner loads the embeddings), so the first batch overlaps the load;
// - bounded: only the current layer is resident (load -> compute -> release, source pages
//   dropped); a layer larger than the bound streams its experts one at a time, or, when two of
//   its experts fit beside its other weights, loads the next expert while one computes
//   (StreamedExperts); when two adjacent layers fit, the next layer is loaded on a worker thread
//   while this one computes;
//   when they do not, the next layer's file bytes are read ahead into the page cache (which
//   is not this process's memory) while this one computes.
// Only the compute thread calls these methods; the prefetch thread only runs the loader.
#include <future>
#include <memory>
#include <vector>

#include "weights/layer_weights.h"
#include "weights/memory_plan.h"

namespace sy {

enum class Residency { cache_all, stream_layers, stream_layers_prefetch };

class WeightSchedule {
public:
    // Throws OutOfMemory (message holds the smallest workable bound) when `max_memory_bytes` is
    // non-zero and below plan.min_max_memory_bytes. Sets the loader's source mapping from the
    // residency it chooses (WeightLoader::SourceMapping: resident for cache_all, streamed
    // otherwise) before it starts any read-ahead, which depends on it.
    WeightSchedule(WeightLoader& loader, const MemoryPlan& plan, uint64_t max_memory_bytes);
    ~WeightSchedule();

    // Weights of `layer`; `next_layer` (or -1) is prefetched when the schedule allows.
    std::shared_ptr<const LayerWeights> acquire(int layer, int next_layer);
    // Done with `layer`: streaming schedules drop it and release its source pages.
    void finish(int layer);
    // cache_all: starts loading `layer` on a worker thread unless it is cached or loading
    // (acquire() calls it for the next layer; ModelRunner for layer 0 while it loads the
    // embeddings). Other schedules prefetch in acquire() only.
    void prefetch(int layer);
    // Streaming schedules: waits for and drops any prefetch left over from an interrupted run.
    void reset();

    bool experts_streamed(int layer) const { return m_stream_experts.at(static_cast<std::size_t>(layer)); }
    // Streamed experts of `layer` may be loaded one ahead (the bound holds two at a time).
    bool experts_loaded_ahead(int layer) const { return m_load_experts_ahead.at(static_cast<std::size_t>(layer)); }
    Residency residency() const { return m_residency; }

private:
    std::shared_ptr<LayerWeights> load(int layer) const;
    // Announces `sources` to the loader (WeightLoader::expect_read_ahead), then reads them ahead
    // on a thread of its own (posix_fadvise may block while the device queue is full), after
    // the previous read-ahead.
    void read_ahead(std::vector<WeightLoader::Source> sources);

    const WeightLoader& m_loader;
    Residency m_residency = Residency::cache_all;
    std::vector<bool> m_stream_experts;                    // per layer
    std::vector<bool> m_load_experts_ahead;                // per layer
    std::vector<std::shared_ptr<LayerWeights>> m_cache;    // cache_all only
    int m_prefetched_layer = -1;
    std::future<std::shared_ptr<LayerWeights>> m_prefetch;
    std::future<void> m_warm;                 // page-cache read-ahead (stream_layers)
    int m_warmed_layer = -1;                  // the layer the last read-ahead ended with
    std::shared_ptr<LayerWeights> m_current;   // streaming: the layer being computed, recycled by finish()
};

}  // namespace sy
