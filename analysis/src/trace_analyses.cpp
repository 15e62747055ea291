#include "switchyard/analysis/trace_analyses.h"

#include <memory>

#include "switchyard/core/errors.h"

namespace sy::analysis {

namespace {

// Progress of one of `parts` consecutive scans, mapped into [part/parts, (part+1)/parts).
class PartProgress final : public Progress {
public:
    PartProgress(Progress& outer, int part, int parts) : m_outer(outer), m_part(part), m_parts(parts) {}
    void report(double fraction, std::string_view stage) override {
        m_outer.report((m_part + fraction) / m_parts, stage);
    }
    void update(const ProgressUpdate& u) override {
        ProgressUpdate whole = u;   // counts stay the part's own; the sink restarts its rate on a new stage
        whole.fraction = (m_part + u.fraction) / m_parts;
        m_outer.update(whole);
    }

private:
    Progress& m_outer;
    int m_part, m_parts;
};

// A trace with no committed token (a run stopped before its first batch finished) has nothing
// to measure: every statistic would be 0 or NaN, so it is refused instead of printed.
void require_tokens(const TraceReader& reader) {
    SY_CHECK(reader.token_count() > 0, UsageError,
             reader.path().string() + ": the trace holds no tokens (its run stopped before the first batch was "
                                      "written?); there is nothing to analyse");
}

}  // namespace

StatsResult trace_stats(const TraceReader& reader, StatsOptions options, int64_t chunk_tokens, Progress& progress,
                        const CancelToken& cancel) {
    require_tokens(reader);
    TraceChunkSource source(reader, {chunk_tokens, reader.has_router_logits()});
    options.vocab_size = static_cast<int64_t>(reader.meta().token_strings.size());
    StatsAccumulator acc(source.shape(), options);
    scan_trace(source, [&](const RoutingChunk& c) { acc.add(c); }, progress, cancel, "stats");
    acc.set_domain_names(source.domain_names());
    return acc.finish();
}

AffinityResult trace_affinity(const TraceReader& reader, const AffinityOptions& options, int64_t chunk_tokens,
                              Progress& progress, const CancelToken& cancel) {
    require_tokens(reader);
    TraceChunkSource source(reader, {chunk_tokens, false});
    AffinityAccumulator acc(source.shape(), options);
    scan_trace(source, [&](const RoutingChunk& c) { acc.add(c); }, progress, cancel, "affinity");
    return acc.finish();
}

PlacementResult trace_placement(const TraceReader& reader, AffinityConvention convention,
                                const PlacementOptions& options, int64_t chunk_tokens, Progress& progress,
                                const CancelToken& cancel) {
    PartProgress scan(progress, 0, 2), search(progress, 1, 2);
    const AffinityResult affinity = trace_affinity(reader, {convention, 1, 1}, chunk_tokens, scan, cancel);
    return place_experts(placement_problem(affinity), options, search, cancel);
}

CompareResult trace_compare(const TraceReader& a, const TraceReader& b, int most_changed, int64_t chunk_tokens,
                            Progress& progress, const CancelToken& cancel) {
    require_tokens(a);
    require_tokens(b);
    SY_CHECK(a.token_count() == b.token_count(), UsageError,
             "compare: the traces hold " + std::to_string(a.token_count()) + " and " + std::to_string(b.token_count()) +
                 " tokens; use --datasets to compare traces of different data");
    TraceChunkSource source_a(a, {chunk_tokens, false}), source_b(b, {chunk_tokens, false});
    CompareAccumulator acc(source_a.shape(), source_b.shape(), most_changed);
    RoutingChunkBuffer chunk_b;
    scan_trace(
        source_a,
        [&](const RoutingChunk& c) {
            source_b.next(chunk_b);
            acc.add(c, chunk_b.view());
        },
        progress, cancel, "compare");
    return acc.finish();
}

DatasetComparison trace_compare_datasets(const TraceReader& a, const TraceReader& b, const AffinityOptions& affinity,
                                         int64_t chunk_tokens, Progress& progress, const CancelToken& cancel) {
    std::vector<LayerLoad> loads[2];
    AffinityResult affinities[2];
    const TraceReader* readers[2] = {&a, &b};
    for (const TraceReader* reader : readers) require_tokens(*reader);
    for (int i = 0; i < 2; ++i) {
        PartProgress part(progress, i, 2);
        TraceChunkSource source(*readers[i], {chunk_tokens, false});
        LoadAccumulator load(source.shape());
        AffinityAccumulator aff(source.shape(), affinity);
        scan_trace(
            source,
            [&](const RoutingChunk& c) {
                aff.add(c);   // validates the chunk
                load.add(c);
            },
            part, cancel, i == 0 ? "trace A" : "trace B");
        loads[i] = load.finish();
        affinities[i] = aff.finish();
    }
    DatasetComparison out = compare_loads(loads[0], loads[1]);
    compare_affinity(affinities[0], affinities[1], out);
    return out;
}

}  // namespace sy::analysis
