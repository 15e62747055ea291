#pragma once
// A contiguous token range of a routing trace, as plain arrays. Every analysis in this
// library is a streaming accumulator fed RoutingChunks in token order, so traces larger than
// memory are read chunk by chunk; nothing here knows about HDF5 (the trace reader lives in core).
//
// Layouts match the trace file (docs/hdf5-schema.md): routing arrays are MoE-layer-major,
// [Lm, n, k], so one layer's rows for the chunk are contiguous.
#include <cstdint>
#include <string>
#include <vector>

namespace sy::analysis {

// What does not change from chunk to chunk: the routing shape of the model that was traced.
struct RoutingShape {
    std::vector<int> moe_layers;    // [Lm] model-layer index of each MoE layer
    std::vector<int> num_experts;   // [Lm] routed experts E_l of each MoE layer
    int top_k = 0;                  // k: experts selected per token per layer
    int logits_width = 0;           // E: row width of router_logits (max E_l; 0 = no logits)

    int layer_count() const { return static_cast<int>(moe_layers.size()); }   // Lm
    int max_experts() const;                                                  // max_l E_l
};

// Non-owning view of tokens [first_token, first_token + n). Pointers stay valid only as long as
// the buffer that owns them; accumulators copy what they keep. Thread: read-only.
struct RoutingChunk {
    int64_t first_token = 0;                // global index of row 0 in the trace
    int64_t n = 0;                          // tokens in this chunk
    const int16_t* topk_ids = nullptr;      // [Lm, n, k] expert ids in selection order
    const float* topk_weights = nullptr;    // [Lm, n, k] final gate weights
    const float* router_logits = nullptr;   // [Lm, n, E] raw logits (f16 widened), or null;
                                            // entries past E_l of a layer are ignored
    const int32_t* token_ids = nullptr;     // [n] vocabulary ids
    const int32_t* doc = nullptr;           // [n] document index (consecutive tokens of a document
                                            //     have equal doc and pos differing by one)
    const int32_t* pos = nullptr;           // [n] position in the document
    const int32_t* domain = nullptr;        // [n] domain index of the token's document (an index
                                            //     into the caller's domain-name list), -1 = none;
                                            //     null = no domains at all

    // Row of token t (0 <= t < n) of MoE layer l: k ids / weights / E logits.
    const int16_t* ids(const RoutingShape& s, int l, int64_t t) const {
        return topk_ids + (static_cast<int64_t>(l) * n + t) * s.top_k;
    }
    const float* weights(const RoutingShape& s, int l, int64_t t) const {
        return topk_weights + (static_cast<int64_t>(l) * n + t) * s.top_k;
    }
    const float* logits(const RoutingShape& s, int l, int64_t t) const {
        return router_logits + (static_cast<int64_t>(l) * n + t) * s.logits_width;
    }
};

// Owning storage for one chunk (what a reader fills, what tests build). view() borrows it.
struct RoutingChunkBuffer {
    int64_t first_token = 0;
    int64_t n = 0;
    std::vector<int16_t> topk_ids;        // [Lm, n, k]
    std::vector<float> topk_weights;      // [Lm, n, k]
    std::vector<float> router_logits;     // [Lm, n, E] or empty
    std::vector<int32_t> token_ids;       // [n]
    std::vector<int32_t> doc;             // [n]
    std::vector<int32_t> pos;             // [n]
    std::vector<int32_t> domain;          // [n] or empty

    RoutingChunk view() const;
    // Rows [begin, end) of this buffer as a new buffer (first_token shifted accordingly).
    RoutingChunkBuffer slice(const RoutingShape& shape, int64_t begin, int64_t end) const;
};

// Throws ShapeMismatch / UsageError naming the first problem: shape fields inconsistent, a null
// required pointer, an expert id outside [0, E_l), a negative position. Cost O(Lm n k).
void validate_shape(const RoutingShape& shape);
void validate_chunk(const RoutingShape& shape, const RoutingChunk& chunk);

// "layer 7" style label of MoE layer l for messages (model-layer index).
std::string layer_label(const RoutingShape& shape, int l);
// Position of model layer `model_layer` in shape.moe_layers; UsageError naming the MoE layers
// when it is not one.
int moe_index_of_layer(const RoutingShape& shape, int model_layer);

}  // namespace sy::analysis
