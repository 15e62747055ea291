#pragma once
// One call per CLI verb / GUI job: a whole trace file streamed through the accumulators.
// Memory is bounded by the chunk size, never the trace length.
#include <cstdint>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/compare.h"
#include "switchyard/analysis/placement.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/analysis/trace_source.h"

namespace sy::analysis {

// options.domain_names and vocab_size are filled from the trace. Router statistics are computed
// when the trace holds router logits; options.score should come from trace_score_function().
StatsResult trace_stats(const TraceReader& reader, StatsOptions options, int64_t chunk_tokens, Progress& progress,
                        const CancelToken& cancel);
AffinityResult trace_affinity(const TraceReader& reader, const AffinityOptions& options, int64_t chunk_tokens,
                              Progress& progress, const CancelToken& cancel);
// One-hop affinity (options.hops ignored) -> placement_problem -> place_experts.
PlacementResult trace_placement(const TraceReader& reader, AffinityConvention convention,
                                const PlacementOptions& options, int64_t chunk_tokens, Progress& progress,
                                const CancelToken& cancel);
// Same tokens in both traces (UsageError when the token counts or ids differ).
CompareResult trace_compare(const TraceReader& a, const TraceReader& b, int most_changed, int64_t chunk_tokens,
                            Progress& progress, const CancelToken& cancel);
// Different data on one model: loads and affinity of each, then their deltas.
DatasetComparison trace_compare_datasets(const TraceReader& a, const TraceReader& b, const AffinityOptions& affinity,
                                         int64_t chunk_tokens, Progress& progress, const CancelToken& cancel);

}  // namespace sy::analysis
