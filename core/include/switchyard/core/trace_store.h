#pragma once
// Routing traces in HDF5 (the layout is documented in docs/hdf5-schema.md and
// is stable). The writer appends one batch at a time and flushes it, under HDF5 SWMR, so the
// GUI (or h5py with swmr=True) can read a trace while `switchyard trace` writes it; the reader
// opens such a file and refreshes to see new batches. No HDF5 headers here.
//
// Consistency rule: /tokens/ids is extended last in every batch, after everything else of that
// batch has been written and flushed, so its length N is the committed token count; every other
// token-indexed dataset holds at least N rows. TraceReader clamps every read to N.
//
// Thread rules: one TraceWriter or TraceReader object per thread at a time. Debian's HDF5 is
// built thread-safe (one global lock), so different objects may be used on different threads.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sy {

struct Model;

inline constexpr int64_t trace_format_version = 1;

// Everything in /meta: provenance attributes, run options a resume must match, and the datasets
// describing the routing shape.
struct TraceMeta {
    // --- /meta attributes (fixed-length strings / int64 scalars) ---
    std::string tool_version;          // "switchyard 0.1.0"
    std::string command_line;          // as typed, of the run that created the file
    std::string model_path;            // absolute model folder
    std::string model_fingerprint;     // model_fingerprint(): SHA-256 hex
    std::string model_type;            // config.json model_type
    int64_t num_layers = 0;            // decoder layers
    int64_t top_k = 0;                 // k
    std::string dtype;                 // compute dtype: "f32" | "bf16"
    std::string device;                // "cpu", "cuda:0", ... (of the latest run on this file)
    std::string bos;                   // --bos: "auto" | "on" | "off"
    int64_t bos_id = -1;               // BOS that starts each `text` document, -1 when none
    std::string created;               // ISO 8601 UTC, e.g. "2025-01-31T12:00:00Z"
    int64_t seq_len = 0;               // --seq-len
    int64_t batch_tokens = 0;          // tokens per batch (resume re-creates the same batches)
    int64_t max_tokens = 0;            // --max-tokens, 0 = whole dataset
    std::string data;                  // absolute data file paths, '\n'-separated
    int64_t data_bytes = 0;            // their total size in bytes
    bool router_logits = false;        // /routing/router_logits present
    std::string masked_experts;        // --mask-experts "L:E,..." of the run ("" when none)
    int64_t format_version = trace_format_version;
    // --- /meta datasets ---
    std::vector<int32_t> moe_layers;          // [Lm] model-layer index of each MoE layer
    std::vector<int32_t> num_experts;         // [Lm] routed experts per MoE layer
    std::vector<std::string> token_strings;   // [V] tokenizer vocab strings by id ("" if unused)

    int64_t moe_layer_count() const { return static_cast<int64_t>(moe_layers.size()); }   // Lm
    int64_t max_experts() const;   // E: width of router_logits (layers with fewer experts: NaN pad)
};

// One batch to append. n = ids.size() tokens; new documents first seen in this batch.
struct TraceBatchData {
    std::vector<std::string> doc_domains;   // [d] appended to /docs/domain
    std::vector<std::string> doc_sources;   // [d] appended to /docs/source ("file:line")
    std::vector<int32_t> ids;               // [n] token ids
    std::vector<int32_t> doc;               // [n] document index
    std::vector<int32_t> pos;               // [n] position in the document
    std::vector<int16_t> topk_ids;          // [Lm, n, k] selection order
    std::vector<float> topk_weights;        // [Lm, n, k] final gate weights
    std::vector<uint16_t> router_logits;    // [Lm, n, E] IEEE binary16 bits; only with meta.router_logits
    std::vector<float> nll;                 // [n] next-token loss, NaN at each window's last token

    int64_t token_count() const { return static_cast<int64_t>(ids.size()); }
};

// Refuses (UsageError naming `source`, the record's "path:line") a domain longer than the
// trace's /docs/domain cell (64 bytes, docs/hdf5-schema.md). The trace job checks its first
// batch's records before it creates or replaces the output; the writer checks every batch.
void check_trace_domain(const std::string& domain, const std::string& source);

class TraceWriter {
public:
    // Every writer holds a lock on its file until close() (or destruction), which a process that
    // dies in any way gives up; other writers consult it (docs/hdf5-schema.md "Writers and locks").
    //
    // Creates `path` and starts SWMR writing. An existing file is refused (UsageError) unless
    // `overwrite`, and even then while a live writer (named by process id) or a reader without
    // SWMR (HDF5's lock) has it open. Domain names longer than 64 bytes are refused at append
    // (UsageError).
    static TraceWriter create(const std::filesystem::path& path, const TraceMeta& meta, bool overwrite);
    // Reopens an interrupted trace for `--resume`: refuses (UsageError naming the field) when the
    // file's fingerprint or options differ from `meta` (device and max_tokens may change; start()
    // stores them, so a resume refused before it leaves /meta as it was), and drops rows of a batch that was cut off before it committed. Refuses
    // while a live writer (named by process id) or a reader without SWMR has the file open; a
    // file still marked as open for writing by a writer that died (kill -9, power cut) has the
    // mark cleared, as `h5clear -s` would. SWMR starts at start(); until then nothing can be
    // appended.
    static TraceWriter resume(const std::filesystem::path& path, const TraceMeta& meta);

    TraceWriter(TraceWriter&&) noexcept;
    TraceWriter& operator=(TraceWriter&&) noexcept;
    ~TraceWriter();   // closes (errors ignored; call close() to see them)

    // Resume only: keeps the first `doc_count` documents (those of the batches already
    // committed), stores the resumed run's device and max_tokens in /meta, then starts SWMR. Throws UsageError when the file holds fewer.
    void start(int64_t doc_count);

    int64_t token_count() const;   // committed tokens N
    int64_t doc_count() const;     // documents written
    const TraceMeta& meta() const;

    // Appends and flushes one batch (shapes checked: ShapeMismatch). Thread: the writer's.
    void append(const TraceBatchData& batch);
    // Closes the file; a later append throws. Safe to call twice.
    void close();

    struct Impl;

private:
    explicit TraceWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Routing of one MoE layer over a token range [begin, end): n = end - begin rows.
struct TraceRouting {
    int64_t tokens = 0;                  // n
    int64_t top_k = 0;                   // k
    std::vector<int16_t> topk_ids;       // [n, k]
    std::vector<float> topk_weights;     // [n, k]
};

class TraceReader {
public:
    // Opens read-only with SWMR read access, so it works while a writer is active and on a file
    // whose writer was killed. Throws IoError (unreadable) / UsageError (not a Switchyard trace,
    // or a newer format_version).
    static TraceReader open(const std::filesystem::path& path);

    TraceReader(TraceReader&&) noexcept;
    TraceReader& operator=(TraceReader&&) noexcept;
    ~TraceReader();

    const TraceMeta& meta() const;
    const std::filesystem::path& path() const;   // as given to open()
    int64_t token_count() const;   // committed N as of open() / the last refresh()
    int64_t doc_count() const;
    bool has_router_logits() const;

    // Picks up batches appended since; true when token_count() grew.
    bool refresh();

    // Token-indexed reads over [begin, end) with 0 <= begin <= end <= token_count() (UsageError
    // otherwise).
    std::vector<int32_t> token_ids(int64_t begin, int64_t end) const;
    std::vector<int32_t> token_docs(int64_t begin, int64_t end) const;
    std::vector<int32_t> token_positions(int64_t begin, int64_t end) const;
    std::vector<float> nll(int64_t begin, int64_t end) const;
    // moe_index: position in meta().moe_layers.
    TraceRouting routing(int moe_index, int64_t begin, int64_t end) const;
    // [n, E] float32 (converted from the stored float16); UsageError when the trace has none.
    std::vector<float> router_logits(int moe_index, int64_t begin, int64_t end) const;

    // Document reads over [begin, end) with end <= doc_count().
    std::vector<std::string> doc_domains(int64_t begin, int64_t end) const;
    std::vector<std::string> doc_sources(int64_t begin, int64_t end) const;

    struct Impl;

private:
    explicit TraceReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// SHA-256 (hex) over config.json and every shard's safetensors header (names and shapes,
// dtypes and offsets of all tensors; not the tensor data, so it costs milliseconds).
std::string model_fingerprint(const Model& model);

// IEEE binary16 conversion (round to nearest even; NaN and infinities kept).
uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);

}  // namespace sy
