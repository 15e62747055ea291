#include "routing_snapshot.h"

#include <algorithm>

#include "switchyard/analysis/trace_source.h"
#include "switchyard/core/token_pieces.h"

namespace sy::gui {

namespace {

// Hops with their own affinity accumulator: enough to choose a layer pair up to 3 apart while
// keeping memory at 3 x Lm x E^2 counts.
constexpr int max_live_hops = 3;

}  // namespace

std::shared_ptr<const std::vector<std::string>> readable_vocabulary(const std::vector<std::string>& token_strings) {
    const sy::PieceStyle style = sy::vocabulary_piece_style(token_strings);
    auto readable = std::make_shared<std::vector<std::string>>();
    readable->reserve(token_strings.size());
    for (const std::string& piece : token_strings) readable->push_back(sy::readable_piece(piece, style));
    return readable;
}

int64_t RoutingSnapshot::kept_tokens() const {
    return blocks.empty() ? 0 : blocks.back()->first_token + blocks.back()->n;
}

std::string RoutingSnapshot::token_text(int32_t id) const {
    if (vocab && id >= 0 && id < static_cast<int32_t>(vocab->size()) && !(*vocab)[id].empty()) return (*vocab)[id];
    return "#" + std::to_string(id);
}

int64_t LiveRouting::row_cap(const TraceMeta& meta) {
    const int64_t cells = std::max<int64_t>(1, meta.moe_layer_count() * std::max<int64_t>(meta.top_k, 1));
    return std::clamp<int64_t>((int64_t(1) << 20) / cells, 1024, 16384);
}

LiveRouting::LiveRouting(const TraceMeta& meta, std::string source)
    : m_shape(analysis::trace_routing_shape(meta, false)), m_source(std::move(source)), m_model_type(meta.model_type),
      m_row_cap(row_cap(meta)), m_vocab(readable_vocabulary(meta.token_strings)) {
    analysis::StatsOptions stats;
    stats.score = analysis::trace_score_function(meta);
    stats.vocab_size = static_cast<int64_t>(meta.token_strings.size());
    m_stats = std::make_unique<analysis::StatsAccumulator>(m_shape, stats);
    for (int hops = 1; hops <= std::min(max_live_hops, m_shape.layer_count() - 1); ++hops) {
        analysis::AffinityOptions options;
        options.hops = hops;
        m_affinity.push_back(std::make_unique<analysis::AffinityAccumulator>(m_shape, options));
    }
}

LiveRouting::~LiveRouting() = default;

void LiveRouting::add(const TraceBatchData& batch, int64_t first_token, int64_t first_doc) {
    for (std::size_t d = 0; d < batch.doc_domains.size(); ++d) {
        const auto [it, added] = m_domain_index.emplace(batch.doc_domains[d], int32_t(m_domain_names.size()));
        if (added) m_domain_names.push_back(batch.doc_domains[d]);
        if (static_cast<int64_t>(m_doc_domain.size()) < first_doc + int64_t(d) + 1)
            m_doc_domain.resize(static_cast<std::size_t>(first_doc + int64_t(d) + 1), -1);
        m_doc_domain[static_cast<std::size_t>(first_doc + int64_t(d))] = it->second;
    }
    analysis::RoutingChunkBuffer chunk;
    std::vector<int32_t> domain(batch.ids.size(), -1);
    for (std::size_t t = 0; t < batch.doc.size(); ++t) {
        const int32_t doc = batch.doc[t];
        if (doc >= 0 && doc < static_cast<int32_t>(m_doc_domain.size())) domain[t] = m_doc_domain[doc];
    }
    analysis::RoutingChunk view;
    view.first_token = first_token;
    view.n = batch.token_count();
    view.topk_ids = batch.topk_ids.data();
    view.topk_weights = batch.topk_weights.data();
    view.token_ids = batch.ids.data();
    view.doc = batch.doc.data();
    view.pos = batch.pos.data();
    view.domain = domain.data();
    m_stats->add(view);
    for (auto& affinity : m_affinity) affinity->add(view);
    keep_rows(batch, first_token);
    m_tokens = first_token + batch.token_count();
}

void LiveRouting::keep_rows(const TraceBatchData& batch, int64_t first_token) {
    const int64_t n = std::min<int64_t>(batch.token_count(), m_row_cap - m_kept);
    if (n <= 0 || first_token != m_kept) return;
    const int64_t layers = m_shape.layer_count(), k = m_shape.top_k, rows = batch.token_count();
    auto block = std::make_shared<TokenBlock>();
    block->first_token = first_token;
    block->n = n;
    block->ids.assign(batch.ids.begin(), batch.ids.begin() + n);
    block->doc.assign(batch.doc.begin(), batch.doc.begin() + n);
    block->pos.assign(batch.pos.begin(), batch.pos.begin() + n);
    block->topk_ids.resize(static_cast<std::size_t>(n * layers * k));
    block->topk_weights.resize(block->topk_ids.size());
    for (int64_t t = 0; t < n; ++t)   // [Lm, n, k] in the file -> [n, Lm, k] here
        for (int64_t l = 0; l < layers; ++l)
            for (int64_t j = 0; j < k; ++j) {
                const std::size_t from = static_cast<std::size_t>((l * rows + t) * k + j);
                const std::size_t to = static_cast<std::size_t>((t * layers + l) * k + j);
                block->topk_ids[to] = batch.topk_ids[from];
                block->topk_weights[to] = batch.topk_weights[from];
            }
    m_blocks.push_back(std::move(block));
    m_kept += n;
}

std::shared_ptr<const RoutingSnapshot> LiveRouting::snapshot(bool complete) const {
    auto snapshot = std::make_shared<RoutingSnapshot>();
    snapshot->source = m_source;
    snapshot->model_type = m_model_type;
    snapshot->shape = m_shape;
    snapshot->tokens = m_tokens;
    snapshot->complete = complete;
    snapshot->vocab = m_vocab;
    snapshot->domain_names = m_domain_names;
    analysis::StatsAccumulator& stats = *m_stats;
    stats.set_domain_names(m_domain_names);
    snapshot->stats = stats.finish();
    if (m_tokens > 0)
        for (const auto& affinity : m_affinity) snapshot->affinity.push_back(affinity->finish());
    snapshot->blocks = m_blocks;
    // Documents of the kept rows only (doc indices grow with the token index).
    const std::size_t docs = m_blocks.empty() ? 0 : std::min<std::size_t>(m_doc_domain.size(), m_blocks.back()->doc.back() + 1);
    for (std::size_t d = 0; d < docs; ++d) {
        const int32_t index = m_doc_domain[d];
        snapshot->doc_domains.push_back(index >= 0 ? m_domain_names[static_cast<std::size_t>(index)] : std::string());
    }
    return snapshot;
}

}  // namespace sy::gui
