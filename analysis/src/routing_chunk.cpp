#include "switchyard/analysis/routing_chunk.h"

#include <algorithm>

#include "switchyard/core/errors.h"

namespace sy::analysis {

int RoutingShape::max_experts() const {
    int e = 0;
    for (int v : num_experts) e = std::max(e, v);
    return e;
}

RoutingChunk RoutingChunkBuffer::view() const {
    RoutingChunk c;
    c.first_token = first_token;
    c.n = n;
    c.topk_ids = topk_ids.data();
    c.topk_weights = topk_weights.data();
    c.router_logits = router_logits.empty() ? nullptr : router_logits.data();
    c.token_ids = token_ids.data();
    c.doc = doc.data();
    c.pos = pos.data();
    c.domain = domain.empty() ? nullptr : domain.data();
    c.nll = nll.empty() ? nullptr : nll.data();
    return c;
}

namespace {

// Copies rows [begin, end) of every layer of a layer-major [Lm, n, width] array.
template <typename T>
std::vector<T> slice_layers(const std::vector<T>& src, int layers, int64_t n, int64_t width, int64_t begin,
                            int64_t end) {
    std::vector<T> out;
    if (src.empty()) return out;
    out.reserve(static_cast<size_t>(layers * (end - begin) * width));
    for (int l = 0; l < layers; ++l) {
        auto first = src.begin() + (l * n + begin) * width;
        out.insert(out.end(), first, first + (end - begin) * width);
    }
    return out;
}

template <typename T>
std::vector<T> slice_tokens(const std::vector<T>& src, int64_t begin, int64_t end) {
    if (src.empty()) return {};
    return std::vector<T>(src.begin() + begin, src.begin() + end);
}

}  // namespace

RoutingChunkBuffer RoutingChunkBuffer::slice(const RoutingShape& shape, int64_t begin, int64_t end) const {
    SY_CHECK(0 <= begin && begin <= end && end <= n, UsageError, "chunk slice out of range");
    RoutingChunkBuffer out;
    out.first_token = first_token + begin;
    out.n = end - begin;
    const int layers = shape.layer_count();
    out.topk_ids = slice_layers(topk_ids, layers, n, shape.top_k, begin, end);
    out.topk_weights = slice_layers(topk_weights, layers, n, shape.top_k, begin, end);
    out.router_logits = slice_layers(router_logits, layers, n, shape.logits_width, begin, end);
    out.token_ids = slice_tokens(token_ids, begin, end);
    out.doc = slice_tokens(doc, begin, end);
    out.pos = slice_tokens(pos, begin, end);
    out.domain = slice_tokens(domain, begin, end);
    out.nll = slice_tokens(nll, begin, end);
    return out;
}

void validate_shape(const RoutingShape& shape) {
    SY_CHECK(shape.num_experts.size() == shape.moe_layers.size(), ShapeMismatch,
             "routing shape: moe_layers has " + std::to_string(shape.moe_layers.size()) +
                 " entries but num_experts has " + std::to_string(shape.num_experts.size()));
    SY_CHECK(!shape.moe_layers.empty(), UsageError, "routing shape: the trace has no MoE layers");
    SY_CHECK(shape.top_k >= 1, ShapeMismatch, "routing shape: top_k must be at least 1");
    for (int l = 0; l < shape.layer_count(); ++l) {
        SY_CHECK(shape.num_experts[l] >= shape.top_k && shape.num_experts[l] <= 32767, ShapeMismatch,
                 layer_label(shape, l) + ": " + std::to_string(shape.num_experts[l]) +
                     " experts is not in [top_k, 32767]");
    }
    SY_CHECK(shape.logits_width == 0 || shape.logits_width >= shape.max_experts(), ShapeMismatch,
             "routing shape: router_logits width " + std::to_string(shape.logits_width) +
                 " is smaller than the largest expert count " + std::to_string(shape.max_experts()));
}

void validate_chunk(const RoutingShape& shape, const RoutingChunk& chunk) {
    SY_CHECK(chunk.n >= 0 && chunk.first_token >= 0, UsageError, "routing chunk: negative token range");
    if (chunk.n == 0) return;
    SY_CHECK(chunk.topk_ids && chunk.topk_weights && chunk.token_ids && chunk.doc && chunk.pos, UsageError,
             "routing chunk: a required array is missing");
    for (int l = 0; l < shape.layer_count(); ++l) {
        const int16_t* ids = chunk.ids(shape, l, 0);
        const int64_t count = chunk.n * shape.top_k;
        for (int64_t i = 0; i < count; ++i) {
            if (ids[i] < 0 || ids[i] >= shape.num_experts[l]) {
                throw ShapeMismatch(layer_label(shape, l) + ", token " +
                                    std::to_string(chunk.first_token + i / shape.top_k) + ": expert id " +
                                    std::to_string(ids[i]) + " is outside [0, " +
                                    std::to_string(shape.num_experts[l]) + ")");
            }
        }
    }
    for (int64_t t = 0; t < chunk.n; ++t) {
        SY_CHECK(chunk.pos[t] >= 0, ShapeMismatch,
                 "token " + std::to_string(chunk.first_token + t) + ": negative position");
    }
}

std::string layer_label(const RoutingShape& shape, int l) {
    return "layer " + std::to_string(shape.moe_layers.at(static_cast<size_t>(l)));
}

int moe_index_of_layer(const RoutingShape& shape, int model_layer) {
    for (int l = 0; l < shape.layer_count(); ++l) {
        if (shape.moe_layers[l] == model_layer) return l;
    }
    std::string list;
    for (int v : shape.moe_layers) list += (list.empty() ? "" : ", ") + std::to_string(v);
    throw UsageError("layer " + std::to_string(model_layer) + " is not an MoE layer of this trace (MoE layers: " + list +
                     ")");
}

}  // namespace sy::analysis
