#pragma once
// Names, widths and chunk shapes of the trace layout (docs/hdf5-schema.md).
// One place, so the writer, the reader and the docs cannot drift apart.
#include <cstddef>
#include <cstdint>

namespace sy::trace_schema {

inline constexpr const char* meta = "/meta";
inline constexpr const char* moe_layers = "/meta/moe_layers";
inline constexpr const char* num_experts = "/meta/num_experts";
inline constexpr const char* token_strings = "/meta/token_strings";
inline constexpr const char* doc_domain = "/docs/domain";
inline constexpr const char* doc_source = "/docs/source";
inline constexpr const char* token_ids = "/tokens/ids";
inline constexpr const char* token_doc = "/tokens/doc";
inline constexpr const char* token_pos = "/tokens/pos";
inline constexpr const char* topk_ids = "/routing/topk_ids";
inline constexpr const char* topk_weights = "/routing/topk_weights";
inline constexpr const char* router_logits = "/routing/router_logits";
inline constexpr const char* nll = "/eval/nll";

// Fixed-length string cells (SWMR on HDF5 1.10 cannot append variable-length strings).
inline constexpr std::size_t domain_width = 64;
inline constexpr std::size_t source_width = 256;

inline constexpr std::size_t docs_chunk = 4096;

// Rows per chunk along N for a dataset with `row_bytes` per token (per layer): a power of two
// in [256, 65536], at most about 256 KiB, and at most an eighth of a batch. Why so small: each
// flush rewrites the last, partly filled chunk of every dataset and layer, compressed to a new
// size, and under SWMR the HDF5 1.10 writer does not reuse the space it frees (a reader may
// still follow the old address), so every rewrite leaks about half a chunk. Chunks of a batch/8
// bound that to ~6% of the file; whole-batch chunks measured ~40% (traces are
// flushed per batch, so buffering whole chunks is not an option).
inline std::size_t token_chunk(std::size_t row_bytes, int64_t batch_tokens) {
    std::size_t rows = 65536;
    while (rows > 256 && (rows * row_bytes > (std::size_t(256) << 10) || int64_t(rows) * 8 > batch_tokens)) rows /= 2;
    return rows;
}

}  // namespace sy::trace_schema
