#include "switchyard/analysis/trace_source.h"

#include <algorithm>

#include "switchyard/core/errors.h"
#include "switchyard/core/family.h"

namespace sy::analysis {

RoutingShape trace_routing_shape(const TraceMeta& meta, bool with_logits) {
    RoutingShape s;
    s.moe_layers.assign(meta.moe_layers.begin(), meta.moe_layers.end());
    s.num_experts.assign(meta.num_experts.begin(), meta.num_experts.end());
    s.top_k = static_cast<int>(meta.top_k);
    s.logits_width = with_logits ? static_cast<int>(meta.max_experts()) : 0;
    validate_shape(s);
    return s;
}

ScoreFunction trace_score_function(const TraceMeta& meta) {
    for (const FamilySpec& spec : family_table()) {
        if (spec.model_type == meta.model_type) {
            return spec.sigmoid_router() ? ScoreFunction::sigmoid : ScoreFunction::softmax;
        }
    }
    return ScoreFunction::softmax;
}

TraceChunkSource::TraceChunkSource(const TraceReader& reader, const TraceScanOptions& options)
    : m_reader(reader), m_options(options), m_shape(trace_routing_shape(reader.meta(), options.router_logits)),
      m_tokens(reader.token_count()) {
    SY_CHECK(options.chunk_tokens >= 1, UsageError, "--chunk-tokens must be at least 1");
    SY_CHECK(!options.router_logits || reader.has_router_logits(), UsageError,
             "this trace has no router logits (trace again with --router-logits)");
}

// Token -> domain index through the documents the chunk touches (a contiguous doc range, since
// documents are written in order), so only that range of /docs/domain is read.
void TraceChunkSource::read_domains(RoutingChunkBuffer& b) {
    b.domain.clear();
    if (b.n == 0 || m_reader.doc_count() == 0) return;
    const auto [lo, hi] = std::minmax_element(b.doc.begin(), b.doc.end());
    const int64_t first = std::max<int64_t>(*lo, 0), last = std::min<int64_t>(*hi + 1, m_reader.doc_count());
    const std::vector<std::string> names = first < last ? m_reader.doc_domains(first, last) : std::vector<std::string>{};
    std::vector<int32_t> index_of_doc;
    for (const std::string& name : names) {
        auto [it, added] = m_domain_index.emplace(name, static_cast<int32_t>(m_domain_names.size()));
        if (added) m_domain_names.push_back(name);
        index_of_doc.push_back(it->second);
    }
    b.domain.resize(static_cast<size_t>(b.n));
    for (int64_t t = 0; t < b.n; ++t) {
        const int64_t d = static_cast<int64_t>(b.doc[t]) - first;
        b.domain[t] = d >= 0 && d < static_cast<int64_t>(index_of_doc.size()) ? index_of_doc[d] : -1;
    }
}

bool TraceChunkSource::next(RoutingChunkBuffer& b) {
    if (m_next >= m_tokens) return false;
    const int64_t begin = m_next, end = std::min(m_tokens, begin + m_options.chunk_tokens);
    b.first_token = begin;
    b.n = end - begin;
    b.token_ids = m_reader.token_ids(begin, end);
    b.doc = m_reader.token_docs(begin, end);
    b.pos = m_reader.token_positions(begin, end);
    b.topk_ids.clear();
    b.topk_weights.clear();
    b.router_logits.clear();
    for (int l = 0; l < m_shape.layer_count(); ++l) {
        const TraceRouting r = m_reader.routing(l, begin, end);
        b.topk_ids.insert(b.topk_ids.end(), r.topk_ids.begin(), r.topk_ids.end());
        b.topk_weights.insert(b.topk_weights.end(), r.topk_weights.begin(), r.topk_weights.end());
        if (m_options.router_logits) {
            const std::vector<float> logits = m_reader.router_logits(l, begin, end);
            b.router_logits.insert(b.router_logits.end(), logits.begin(), logits.end());
        }
    }
    read_domains(b);
    m_next = end;
    return true;
}

void scan_trace(TraceChunkSource& source, const std::function<void(const RoutingChunk&)>& consume, Progress& progress,
                const CancelToken& cancel, std::string_view stage) {
    RoutingChunkBuffer buffer;
    const int64_t total = source.token_count();
    progress.update({stage, 0.0, 0, total, "tokens"});
    while (true) {
        cancel.throw_if_cancelled();
        if (!source.next(buffer)) break;
        consume(buffer.view());
        const double fraction = static_cast<double>(source.next_token()) / static_cast<double>(std::max<int64_t>(total, 1));
        progress.update({stage, fraction, source.next_token(), total, "tokens"});
    }
}

}  // namespace sy::analysis
