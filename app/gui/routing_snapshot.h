#pragma once
// Routing data every view draws from. LiveRouting runs the analysis/ streaming
// accumulators (stats, affinity) over batches as they are committed, whether they come from a
// running trace (TraceBatchEvent) or from a trace file being read; snapshot() hands an
// immutable copy to the main thread. The GUI computes nothing of its own: every number shown
// comes from these results.
//
// Thread rules: a LiveRouting lives on one worker thread; snapshots are immutable and may be
// read from any thread.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/core/trace_store.h"

namespace sy::gui {

// Token rows of one batch kept for the routing map and the token table; token-major, so a
// batch is one immutable block shared by every later snapshot.
struct TokenBlock {
    int64_t first_token = 0;
    int64_t n = 0;
    std::vector<int32_t> ids, doc, pos;   // [n]
    std::vector<int16_t> topk_ids;        // [n, Lm, k] selection order
    std::vector<float> topk_weights;      // [n, Lm, k] final gate weights
};

struct RoutingSnapshot {
    std::string source;                      // "tiny-mixtral on corpus-sample.jsonl" / trace path
    std::string model_type;
    analysis::RoutingShape shape;
    int64_t tokens = 0;                      // tokens accumulated so far
    bool complete = false;                   // the run / file read has ended
    std::shared_ptr<const std::vector<std::string>> vocab;   // [V] token strings by id
    std::vector<std::string> domain_names;   // [D] as in stats.domains
    analysis::StatsResult stats;
    // affinity[h - 1]: hop-h pairs (l, l+h), first-choice convention; empty with one MoE layer.
    std::vector<analysis::AffinityResult> affinity;
    std::vector<std::shared_ptr<const TokenBlock>> blocks;   // first tokens, up to row_cap()
    std::vector<std::string> doc_domains;    // [docs of the kept blocks] domain of each document

    int64_t kept_tokens() const;
    std::string token_text(int32_t id) const;   // vocabulary string, "#id" when unknown
    int layers() const { return shape.layer_count(); }
};

class LiveRouting {
public:
    // Tokens whose rows are kept for the routing map: about 1M (layer, slot) cells, 1k-16k tokens.
    static int64_t row_cap(const TraceMeta& meta);

    LiveRouting(const TraceMeta& meta, std::string source);
    ~LiveRouting();

    // One committed batch ([Lm, n, k] routing as in the file); first_doc is the global index of
    // batch.doc_domains[0]. Batches must come in token order.
    void add(const TraceBatchData& batch, int64_t first_token, int64_t first_doc);
    int64_t tokens() const { return m_tokens; }

    std::shared_ptr<const RoutingSnapshot> snapshot(bool complete) const;

private:
    void keep_rows(const TraceBatchData& batch, int64_t first_token);

    analysis::RoutingShape m_shape;
    std::string m_source, m_model_type;
    int64_t m_row_cap = 0;
    int64_t m_tokens = 0, m_kept = 0;
    std::shared_ptr<const std::vector<std::string>> m_vocab;
    std::vector<std::string> m_domain_names;
    std::map<std::string, int32_t> m_domain_index;
    std::vector<int32_t> m_doc_domain;                 // [docs] index into m_domain_names
    std::unique_ptr<analysis::StatsAccumulator> m_stats;
    std::vector<std::unique_ptr<analysis::AffinityAccumulator>> m_affinity;   // [hops]
    std::vector<std::shared_ptr<const TokenBlock>> m_blocks;
};

}  // namespace sy::gui
