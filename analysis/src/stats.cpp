#include "switchyard/analysis/stats.h"

#include "switchyard/core/errors.h"

namespace sy::analysis {

StatsAccumulator::StatsAccumulator(const RoutingShape& shape, const StatsOptions& options)
    : m_shape(shape), m_options(options) {
    validate_shape(shape);
    m_load = std::make_unique<LoadAccumulator>(shape);
    m_router = std::make_unique<RouterScoreAccumulator>(shape, options.score, options.window_tokens);
    m_domain = std::make_unique<DomainAccumulator>(shape);
    m_token = std::make_unique<TokenExpertAccumulator>(shape, options.token_layers, options.vocab_size,
                                                       options.token_table_budget_bytes);
    m_repetition = std::make_unique<RepetitionAccumulator>(shape);
    m_position =
        std::make_unique<PositionAccumulator>(shape, options.position_bucket_tokens, options.max_position_buckets);
}

StatsAccumulator::~StatsAccumulator() = default;

void StatsAccumulator::add(const RoutingChunk& chunk) {
    validate_chunk(m_shape, chunk);
    if (chunk.router_logits) {
        SY_CHECK(m_shape.logits_width > 0, UsageError, "routing chunk has router logits but the shape has no width");
    }
    m_load->add(chunk);
    m_router->add(chunk);
    m_domain->add(chunk);
    m_token->add(chunk);
    m_repetition->add(chunk);
    m_position->add(chunk);
    m_tokens += chunk.n;
}

StatsResult StatsAccumulator::finish() const {
    StatsResult r;
    r.shape = m_shape;
    r.tokens = m_tokens;
    r.window_tokens = m_options.window_tokens;
    r.loads = m_load->finish();
    r.has_router_scores = m_router->has_data();
    if (r.has_router_scores) r.router = m_router->finish();
    r.domains = m_domain->finish(m_options.domain_names);
    r.token_table = m_token->finish(m_options.top_tokens, m_options.min_token_count);
    r.repetition = m_repetition->finish();
    r.positions = m_position->finish();
    return r;
}

}  // namespace sy::analysis
