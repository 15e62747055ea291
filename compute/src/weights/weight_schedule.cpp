#include "weights/weight_schedule.h"

#include <algorithm>
#include <sstream>

#include "switchyard/core/errors.h"
#include "torch_errors.h"
#include "weights/layer_tensors.h"

namespace sy {
namespace {

std::string mib(uint64_t bytes) {
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
    return out.str();
}

// Peak of holding layer l and l+1 together (prefetch), over all adjacent pairs.
uint64_t largest_adjacent_pair(const MemoryPlan& plan) {
    uint64_t pair = plan.layer_bytes.empty() ? 0 : plan.layer_bytes.front();
    for (std::size_t l = 1; l < plan.layer_bytes.size(); ++l)
        pair = std::max(pair, plan.layer_bytes[l - 1] + plan.layer_bytes[l]);
    return pair;
}

}  // namespace

WeightSchedule::WeightSchedule(WeightLoader& loader, const MemoryPlan& plan, uint64_t max_memory_bytes)
    : m_loader(loader),
      m_stream_experts(plan.layer_bytes.size(), false),
      m_load_experts_ahead(plan.layer_bytes.size(), false),
      m_cache(plan.layer_bytes.size()) {
    loader.set_source_mapping(WeightLoader::SourceMapping::resident);
    if (max_memory_bytes == 0 || max_memory_bytes >= plan.total_weight_bytes) return;
    if (max_memory_bytes < plan.min_max_memory_bytes)
        throw OutOfMemory("--max-memory " + std::to_string(max_memory_bytes) + " bytes is below the smallest workable bound of " +
                          std::to_string(plan.min_max_memory_bytes) + " bytes (" + mib(plan.min_max_memory_bytes) +
                          ": resident weights plus the largest layer with its experts streamed one at a time)");
    bool any_streamed = false;
    for (std::size_t l = 0; l < plan.layer_bytes.size(); ++l) {
        m_stream_experts[l] = plan.resident_bytes + plan.layer_bytes[l] > max_memory_bytes;
        // One expert computing and the next one loading (StreamedExperts).
        const uint64_t two_experts = plan.resident_bytes + plan.layer_common_bytes[l] + 2 * plan.largest_expert_bytes[l];
        m_load_experts_ahead[l] = m_stream_experts[l] && two_experts <= max_memory_bytes;
        any_streamed = any_streamed || m_stream_experts[l];
    }
    const bool pairs_fit = plan.resident_bytes + largest_adjacent_pair(plan) <= max_memory_bytes;
    m_residency = !any_streamed && pairs_fit ? Residency::stream_layers_prefetch : Residency::stream_layers;
    loader.set_source_mapping(WeightLoader::SourceMapping::streamed);
    if (m_residency != Residency::stream_layers || plan.layer_bytes.empty()) return;
    // The runner reads the resident weights, then layer 0, with synchronous reads; the disk
    // serves them faster from read-ahead issued now.
    std::vector<WeightLoader::Source> sources;
    for (TensorRole role : resident_tensor_roles(m_loader.model().description)) sources.push_back({role, -1, -1});
    for (const WeightLoader::Source& s : layer_sources_to_read_ahead(m_loader, 0, experts_loaded_ahead(0))) sources.push_back(s);
    read_ahead(std::move(sources));
    m_warmed_layer = 0;
}

WeightSchedule::~WeightSchedule() {
    if (m_prefetch.valid()) m_prefetch.wait();
    if (m_warm.valid()) m_warm.wait();
}

std::shared_ptr<LayerWeights> WeightSchedule::load(int layer) const {
    return load_layer_weights(m_loader, layer, !experts_streamed(layer));
}

std::shared_ptr<const LayerWeights> WeightSchedule::acquire(int layer, int next_layer) {
    const auto index = static_cast<std::size_t>(layer);
    if (m_residency == Residency::cache_all) {
        if (!m_cache[index]) {
            if (m_prefetch.valid() && m_prefetched_layer == layer) m_cache[index] = m_prefetch.get();   // rethrows its error
            else m_cache[index] = load(layer);
            release_layer_sources(m_loader, layer);   // converted copies stay; mapped pages can go
        }
        // The first batch loads each layer on a worker thread while the one before computes.
        if (next_layer >= 0) prefetch(next_layer);
        return m_cache[index];
    }
    std::shared_ptr<LayerWeights> weights;
    if (m_prefetch.valid() && m_prefetched_layer == layer) weights = m_prefetch.get();   // rethrows its error
    else reset(), weights = load(layer);
    m_current = weights;
    // Streamed experts are read only when the MoE block reaches them, by small synchronous
    // reads (0.2-0.3 GB/s here against 2 GB/s for read-ahead: bench/README.md#load); unless the
    // previous layer's read-ahead covered this layer (it does not for the first), its experts
    // are read ahead first, then the next layer.
    const bool warm_this = experts_streamed(layer) && m_warmed_layer != layer;
    if (m_residency == Residency::stream_layers && (warm_this || next_layer >= 0)) {
        std::vector<WeightLoader::Source> sources;
        if (warm_this) sources = layer_sources_to_read_ahead(m_loader, layer, experts_loaded_ahead(layer));
        if (next_layer >= 0)
            for (const WeightLoader::Source& s : layer_sources_to_read_ahead(m_loader, next_layer, experts_loaded_ahead(next_layer)))
                sources.push_back(s);
        read_ahead(std::move(sources));
        m_warmed_layer = next_layer;
    }
    if (m_residency == Residency::stream_layers_prefetch && next_layer >= 0) {
        m_prefetched_layer = next_layer;
        // std::async(launch::async) runs on its own std::thread; errors surface in get().
        m_prefetch = std::async(std::launch::async, [this, next_layer] { return load(next_layer); });
    }
    return weights;
}

void WeightSchedule::read_ahead(std::vector<WeightLoader::Source> sources) {
    m_loader.expect_read_ahead(sources);
    if (m_warm.valid()) m_warm.wait();
    m_warm = std::async(std::launch::async, [this, sources = std::move(sources)] {
        for (const WeightLoader::Source& s : sources) m_loader.will_need(s.role, s.layer, s.expert);
    });
}

void WeightSchedule::prefetch(int layer) {
    if (m_residency != Residency::cache_all || m_cache.at(static_cast<std::size_t>(layer))) return;
    if (m_prefetch.valid()) {
        if (m_prefetched_layer == layer) return;
        // Only one load in flight: a finished one goes into the cache, a running one is waited for.
        const int done = m_prefetched_layer;
        m_cache[static_cast<std::size_t>(done)] = m_prefetch.get();
        release_layer_sources(m_loader, done);
    }
    m_prefetched_layer = layer;
    m_prefetch = std::async(std::launch::async, [this, layer] { return load(layer); });
}

void WeightSchedule::finish(int layer) {
    if (m_residency == Residency::cache_all) return;
    release_layer_sources(m_loader, layer);
    // The caller has dropped its reference; if nothing else holds the layer, its memory becomes
    // the next load's destination instead of going back to the kernel.
    if (m_current && m_current->layer == layer && m_current.use_count() == 1)
        m_loader.recycle(take_tensors(std::move(*m_current)));
    m_current.reset();
}

void WeightSchedule::reset() {
    // A cached layer loading in the background is still wanted: acquire() takes it.
    if (m_residency == Residency::cache_all) return;
    if (m_prefetch.valid()) {
        try {
            m_prefetch.get();
        } catch (const Error&) {
            // The prefetch belonged to an interrupted run; the next load reports its own errors.
        }
    }
    m_prefetched_layer = -1;
}

}  // namespace sy
