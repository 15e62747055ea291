#pragma once
// Synthetic routing traces for the analysis tests: planted expert chains, random routing, and a
// helper that feeds a trace to an accumulator in chunks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "switchyard/analysis/routing_chunk.h"

namespace sy::analysis::testing {

struct Trace {
    RoutingShape shape;
    RoutingChunkBuffer buffer;   // the whole trace, first_token 0
};

// Empty trace of n tokens with the given shape; every token in doc 0 at position t.
inline Trace empty_trace(std::vector<int> moe_layers, std::vector<int> num_experts, int k, int64_t n,
                         bool logits = false) {
    Trace tr;
    tr.shape.moe_layers = std::move(moe_layers);
    tr.shape.num_experts = std::move(num_experts);
    tr.shape.top_k = k;
    tr.shape.logits_width = logits ? tr.shape.max_experts() : 0;
    const int layers = tr.shape.layer_count();
    tr.buffer.n = n;
    tr.buffer.topk_ids.assign(static_cast<size_t>(layers * n * k), 0);
    tr.buffer.topk_weights.assign(static_cast<size_t>(layers * n * k), 1.0f / k);
    if (logits) tr.buffer.router_logits.assign(static_cast<size_t>(layers * n * tr.shape.logits_width), 0.0f);
    tr.buffer.token_ids.assign(static_cast<size_t>(n), 0);
    tr.buffer.doc.assign(static_cast<size_t>(n), 0);
    tr.buffer.pos.resize(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) tr.buffer.pos[t] = static_cast<int32_t>(t);
    return tr;
}

inline int16_t& id_at(Trace& tr, int l, int64_t t, int j) {
    return tr.buffer.topk_ids[static_cast<size_t>((l * tr.buffer.n + t) * tr.shape.top_k + j)];
}
inline float& weight_at(Trace& tr, int l, int64_t t, int j) {
    return tr.buffer.topk_weights[static_cast<size_t>((l * tr.buffer.n + t) * tr.shape.top_k + j)];
}
inline float* logits_at(Trace& tr, int l, int64_t t) {
    return tr.buffer.router_logits.data() + (l * tr.buffer.n + t) * tr.shape.logits_width;
}

// Token t belongs to group t % chains.size() and takes expert chains[g][l] first at MoE layer l;
// its other choices are chains[g][l] + 1, + 2, ... (mod E), weights 0.7, 0.3 / (k-1) each.
// Token ids: 100 + group. Documents of `doc_len` tokens.
inline Trace planted_chains(const std::vector<std::vector<int>>& chains, int experts, int k, int64_t n,
                            int doc_len = 1 << 30) {
    const int layers = static_cast<int>(chains.front().size());
    std::vector<int> moe_layers, num_experts(static_cast<size_t>(layers), experts);
    for (int l = 0; l < layers; ++l) moe_layers.push_back(2 * l + 1);   // model layers 1, 3, 5, ...
    Trace tr = empty_trace(moe_layers, num_experts, k, n);
    for (int64_t t = 0; t < n; ++t) {
        const size_t g = static_cast<size_t>(t) % chains.size();
        tr.buffer.token_ids[t] = static_cast<int32_t>(100 + g);
        tr.buffer.doc[t] = static_cast<int32_t>(t / doc_len);
        tr.buffer.pos[t] = static_cast<int32_t>(t % doc_len);
        for (int l = 0; l < layers; ++l)
            for (int j = 0; j < k; ++j) {
                id_at(tr, l, t, j) = static_cast<int16_t>((chains[g][l] + j) % experts);
                weight_at(tr, l, t, j) = j == 0 ? 0.7f : 0.3f / static_cast<float>(k - 1);
            }
    }
    return tr;
}

// Uniformly random distinct top-k per token and layer, random logits, token ids in [0, vocab),
// documents of random length, domains = doc % domains.
inline Trace random_trace(int layers, int experts, int k, int64_t n, int vocab, int domains, uint64_t seed) {
    std::vector<int> moe_layers, num_experts(static_cast<size_t>(layers), experts);
    for (int l = 0; l < layers; ++l) moe_layers.push_back(l);
    Trace tr = empty_trace(moe_layers, num_experts, k, n, true);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.5f);
    int32_t doc = 0, pos = 0;
    tr.buffer.domain.resize(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
        if (pos > 0 && rng() % 37 == 0) {
            ++doc;
            pos = 0;
        }
        tr.buffer.doc[t] = doc;
        tr.buffer.pos[t] = pos++;
        tr.buffer.domain[t] = doc % domains;
        tr.buffer.token_ids[t] = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
        for (int l = 0; l < layers; ++l) {
            float* lg = logits_at(tr, l, t);
            for (int e = 0; e < experts; ++e) lg[e] = normal(rng);
            std::vector<int> order;
            while (static_cast<int>(order.size()) < k) {
                const int e = static_cast<int>(rng() % static_cast<uint64_t>(experts));
                bool seen = false;
                for (int o : order) seen |= o == e;
                if (!seen) order.push_back(e);
            }
            for (int j = 0; j < k; ++j) {
                id_at(tr, l, t, j) = static_cast<int16_t>(order[j]);
                weight_at(tr, l, t, j) = static_cast<float>(rng() % 1000) / 1000.0f;
            }
        }
    }
    return tr;
}

// Cuts [0, n) into chunks of random sizes in [1, max_chunk].
inline std::vector<RoutingChunkBuffer> random_chunks(const Trace& tr, int64_t max_chunk, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<RoutingChunkBuffer> out;
    for (int64_t begin = 0; begin < tr.buffer.n;) {
        const int64_t size = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(max_chunk));
        const int64_t end = std::min(tr.buffer.n, begin + size);
        out.push_back(tr.buffer.slice(tr.shape, begin, end));
        begin = end;
    }
    return out;
}

}  // namespace sy::analysis::testing
