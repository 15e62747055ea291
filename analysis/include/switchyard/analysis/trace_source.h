#pragma once
// Streams a routing trace file (core's TraceReader; no HDF5 here) as RoutingChunks of a bounded
// number of tokens, so every analysis runs in memory independent of the trace length.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"
#include "switchyard/analysis/stats_router.h"
#include "switchyard/core/progress.h"
#include "switchyard/core/trace_store.h"

namespace sy::analysis {

// Routing shape from /meta; logits_width = meta.max_experts() when `with_logits`, else 0.
RoutingShape trace_routing_shape(const TraceMeta& meta, bool with_logits);
// sigmoid for families whose router is sigmoid-scored (DeepSeek-V3), softmax otherwise
// (including model types the family table does not know).
ScoreFunction trace_score_function(const TraceMeta& meta);

struct TraceScanOptions {
    int64_t chunk_tokens = 65536;   // tokens per chunk (memory: about chunk * Lm * (6k + 4E) bytes)
    bool router_logits = false;     // read /routing/router_logits (UsageError if the trace has none)
    bool nll = false;               // read /eval/nll
};

// Thread: one thread at a time; the reader must outlive this object.
class TraceChunkSource {
public:
    TraceChunkSource(const TraceReader& reader, const TraceScanOptions& options);
    const RoutingShape& shape() const { return m_shape; }
    int64_t token_count() const { return m_tokens; }   // committed tokens when opened
    int64_t next_token() const { return m_next; }
    // Reads the next chunk into `buffer` (reusing its storage); false once the trace is done.
    bool next(RoutingChunkBuffer& buffer);
    // Domain names by the indices used in chunk.domain, in order of first appearance.
    const std::vector<std::string>& domain_names() const { return m_domain_names; }

private:
    void read_domains(RoutingChunkBuffer& buffer);

    const TraceReader& m_reader;
    TraceScanOptions m_options;
    RoutingShape m_shape;
    int64_t m_tokens = 0, m_next = 0;
    std::vector<std::string> m_domain_names;
    std::unordered_map<std::string, int32_t> m_domain_index;
};

// Feeds every chunk to `consume`, reporting progress per chunk and polling `cancel` between
// chunks (throws Cancelled).
void scan_trace(TraceChunkSource& source, const std::function<void(const RoutingChunk&)>& consume, Progress& progress,
                const CancelToken& cancel, std::string_view stage);

}  // namespace sy::analysis
