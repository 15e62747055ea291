// run_trace: dataset -> ModelRunner -> routing observer -> TraceWriter, one
// flushed batch at a time, so Ctrl-C or a crash loses at most the batch in flight.

#include "distributed/batch_rounds.h"
#include "jobs/corpus_job.h"
#include "jobs/trace_output.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/utc_time.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"

namespace sy {
namespace {

constexpr uint16_t k_half_nan = 0x7e00;   // router_logits padding for layers with fewer experts

// Copies each MoE layer's routing of one batch into the [Lm, n, k] / [Lm, n, E] arrays of a
// TraceBatchData. Called on the runner's thread during run().
class RoutingCollector final : public RoutingObserver {
public:
    RoutingCollector(const TraceMeta& meta, int64_t tokens, TraceBatchData& out)
        : m_layers(meta.moe_layer_count()), m_top_k(meta.top_k), m_experts(meta.max_experts()), m_tokens(tokens),
          m_logits(meta.router_logits), m_out(out), m_seen(static_cast<std::size_t>(m_layers), false) {
        out.topk_ids.assign(static_cast<std::size_t>(m_layers * tokens * m_top_k), 0);
        out.topk_weights.assign(out.topk_ids.size(), 0.f);
        if (m_logits) out.router_logits.assign(static_cast<std::size_t>(m_layers * tokens * m_experts), k_half_nan);
    }

    void on_layer_routing(const LayerRouting& r) override {
        SY_CHECK(r.moe_index >= 0 && r.moe_index < m_layers && r.tokens == m_tokens && r.top_k == m_top_k &&
                     r.experts <= m_experts,
                 ShapeMismatch,
                 "layer " + std::to_string(r.layer) + ": routing of shape [" + std::to_string(r.tokens) + ", " +
                     std::to_string(r.top_k) + "] does not match the trace ([" + std::to_string(m_tokens) + ", " +
                     std::to_string(m_top_k) + "])");
        const std::size_t base = static_cast<std::size_t>(r.moe_index * m_tokens * m_top_k);
        for (std::size_t i = 0; i < static_cast<std::size_t>(m_tokens * m_top_k); ++i) {
            m_out.topk_ids[base + i] = static_cast<int16_t>(r.topk_ids[i]);
            m_out.topk_weights[base + i] = r.topk_weights[i];
        }
        if (m_logits) copy_logits(r);
        m_seen[static_cast<std::size_t>(r.moe_index)] = true;
    }

    void check_complete() const {
        for (int64_t l = 0; l < m_layers; ++l)
            SY_CHECK(m_seen[static_cast<std::size_t>(l)], ShapeMismatch,
                     "MoE layer index " + std::to_string(l) + " reported no routing for this batch");
    }

private:
    void copy_logits(const LayerRouting& r) {
        uint16_t* out = m_out.router_logits.data() + r.moe_index * m_tokens * m_experts;
        for (int64_t t = 0; t < m_tokens; ++t)
            for (int64_t e = 0; e < r.experts; ++e)
                out[t * m_experts + e] = float_to_half(r.router_logits[t * r.experts + e]);
    }

    int64_t m_layers, m_top_k, m_experts, m_tokens;
    bool m_logits;
    TraceBatchData& m_out;
    std::vector<bool> m_seen;
};

TraceMeta make_trace_meta(const Model& model, const TraceOptions& options, const PreparedCorpus& corpus,
                          const DatasetReader& reader) {
    const ModelDescription& d = model.description;
    TraceMeta meta;
    meta.tool_version = std::string("switchyard ") + SWITCHYARD_VERSION;
    meta.command_line = options.command_line;
    meta.model_path = std::filesystem::absolute(model.checkpoint.dir()).lexically_normal().string();
    meta.model_fingerprint = model_fingerprint(model);
    meta.model_type = d.model_type;
    meta.num_layers = d.num_layers;
    meta.top_k = d.top_k;
    meta.dtype = compute_dtype_name(options.runner.dtype);
    meta.device = options.runner.device;
    meta.bos = bos_mode_name(corpus.options.text.mode);
    meta.bos_id = corpus.options.text.bos_id.value_or(-1);
    meta.created = utc_now_iso8601();
    meta.seq_len = corpus.options.seq_len;
    meta.batch_tokens = corpus.options.batch_tokens;
    meta.max_tokens = corpus.options.max_tokens;
    for (const auto& file : reader.files())
        meta.data += (meta.data.empty() ? "" : "\n") + std::filesystem::absolute(file).lexically_normal().string();
    meta.data_bytes = static_cast<int64_t>(reader.total_bytes());
    meta.router_logits = options.router_logits;
    meta.masked_experts = format_layer_experts(options.runner.masked_experts);
    for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
        meta.moe_layers.push_back(d.moe_layers[i]);
        meta.num_experts.push_back(static_cast<int32_t>(d.num_experts[i]));
    }
    SY_CHECK(meta.max_experts() <= INT16_MAX, UsageError,
             "more than 32767 experts per layer do not fit int16 topk_ids");
    if (corpus.tokenizer)
        for (int32_t id = 0; id < corpus.tokenizer->id_count(); ++id)
            meta.token_strings.push_back(corpus.tokenizer->token_string(id));
    return meta;
}

// --resume: re-reads (tokenizes, no compute) the batches the file already holds and checks that
// they end exactly where the file does; returns the documents they hold.
int64_t skip_to(DatasetReader& reader, int64_t tokens, const std::filesystem::path& output, const CancelToken& cancel) {
    int64_t docs = 0;
    DatasetBatch batch;
    while (reader.tokens_emitted() < tokens && reader.next(batch)) {
        docs += int64_t(batch.new_docs.size());
        cancel.throw_if_cancelled();   // ~TraceWriter closes the file; nothing was appended yet
    }
    SY_CHECK(reader.tokens_emitted() == tokens, UsageError,
             output.string() + ": cannot resume: the file holds " + std::to_string(tokens) +
                 " tokens, which is not a batch boundary of this dataset with these options (reached " +
                 std::to_string(reader.tokens_emitted()) + "); was the data or --max-tokens changed?");
    return docs;
}

// Token and document rows of a batch; routing and nll are filled in by the run.
TraceBatchData batch_rows(const DatasetBatch& batch) {
    TraceBatchData data;
    for (const DocumentInfo& doc : batch.new_docs) {
        data.doc_domains.push_back(doc.domain);
        data.doc_sources.push_back(doc.source);
    }
    for (const Window& window : batch.windows)
        for (std::size_t i = 0; i < window.ids.size(); ++i) {
            data.ids.push_back(window.ids[i]);
            data.doc.push_back(static_cast<int32_t>(window.doc));
            data.pos.push_back(static_cast<int32_t>(window.first_pos + static_cast<int64_t>(i)));
        }
    return data;
}

// --resume without --max-tokens keeps the interrupted run's cap (a larger one extends it).
int64_t resumed_max_tokens(const TraceOptions& options) {
    if (!options.resume || options.corpus.max_tokens > 0) return options.corpus.max_tokens;
    std::error_code ec;
    SY_CHECK(std::filesystem::exists(options.output, ec), UsageError,
             options.output.string() + ": no trace to resume (file not found)");
    return TraceReader::open(options.output).meta().max_tokens;
}

void refuse_dense(const Model& model) {
    SY_CHECK(!model.description.moe_layers.empty(), UsageError,
             model.checkpoint.dir().string() + ": " + model.description.model_type +
                 " is a dense model (no MoE layers): there is no routing to trace (eval works on dense models)");
}

// What every rank of a trace run holds: the data, the forward pass, the trace's shape.
struct TraceInput {
    PreparedCorpus corpus;
    std::optional<DatasetReader> reader;
    std::optional<TraceMeta> meta;
    std::shared_ptr<ModelRunner> runner;   // TraceOptions::reuse_runner, or our own
    std::optional<DatasetBatch> first;   // read ahead, before the output is touched

    void open(const Model& model, const TraceOptions& options, int64_t max_tokens) {
        CorpusOptions corpus_options = options.corpus;
        corpus_options.max_tokens = max_tokens;
        corpus = prepare_corpus(model, corpus_options);
        reader.emplace(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
        meta.emplace(make_trace_meta(model, options, corpus, *reader));
    }
    void read_first(const TraceOptions& options) {
        DatasetBatch batch;
        if (read_first_batch(options, *reader, batch)) first = std::move(batch);
    }
};

// One batch through the forward pass: its routing and losses, as the payload rank 0 appends
// (topk_ids, topk_weights, router_logits when recorded, nll). `batch` is null on a rank that
// only serves its experts to the others this round (expert parallelism).
std::vector<uint8_t> trace_batch(ModelRunner& runner, const TraceMeta& meta, const DatasetBatch* batch,
                                 const CancelToken* cancel) {
    if (!batch) {
        runner.run(Batch{}, nullptr, false, nullptr);
        return {};
    }
    TraceBatchData data;
    const int64_t tokens = batch->token_count();
    RoutingCollector collector(meta, tokens, data);
    BatchOutput output = runner.run(runner_batch(*batch), &collector, false, cancel);
    collector.check_complete();
    SY_CHECK(int64_t(output.nll.size()) == tokens, ShapeMismatch,
             "runner returned " + std::to_string(output.nll.size()) + " losses for " + std::to_string(tokens) + " tokens");
    std::vector<uint8_t> bytes;
    append_bytes(bytes, data.topk_ids);
    append_bytes(bytes, data.topk_weights);
    append_bytes(bytes, data.router_logits);
    append_bytes(bytes, output.nll);
    return bytes;
}

// The rows of a batch with the routing a rank computed for it.
TraceBatchData batch_data(const DatasetBatch& batch, const TraceMeta& meta, const std::vector<uint8_t>& bytes) {
    TraceBatchData data = batch_rows(batch);
    const auto n = static_cast<std::size_t>(data.token_count());
    const auto routed = static_cast<std::size_t>(meta.moe_layer_count() * meta.top_k) * n;
    std::size_t offset = 0;
    data.topk_ids = read_bytes<int16_t>(bytes, offset, routed);
    data.topk_weights = read_bytes<float>(bytes, offset, routed);
    if (meta.router_logits)
        data.router_logits = read_bytes<uint16_t>(bytes, offset, static_cast<std::size_t>(meta.moe_layer_count() * meta.max_experts()) * n);
    data.nll = read_bytes<float>(bytes, offset, n);
    SY_CHECK(offset == bytes.size(), ShapeMismatch, "a batch result is longer than its routing");
    return data;
}

// The batch loop: rounds of batches over the ranks (batch_rounds.h), rank 0 appending each
// round's batches in dataset order and flushing after each.
TraceSummary trace_rounds(TraceInput& in, const TraceOptions& options, BatchRounds& rounds, TraceWriter* writer,
                          Progress& progress, const CancelToken& cancel) {
    TraceSummary summary;
    summary.resumed_from = writer ? writer->token_count() : 0;
    const int64_t max_tokens = in.corpus.options.max_tokens;
    RateMeter meter("trace", options.corpus.max_tokens);
    // The batch read ahead (before the output was created) is not done yet: a fresh trace starts at 0.
    if (writer) meter.report(progress, writer->token_count(), 0, in.first ? 0.0 : corpus_fraction(*in.reader, max_tokens));
    const bool lockstep = options.runner.expert_parallel && rounds.size() > 1;
    const auto compute = [&](const DatasetBatch* batch) {
        return trace_batch(*in.runner, *in.meta, batch, lockstep ? nullptr : &cancel);
    };
    std::vector<DatasetBatch> round;
    try {
        while (rounds.read_round(*in.reader, round, in.first)) {
            rounds.run_round(round, cancel, lockstep, compute, [&](int i, std::vector<uint8_t>& bytes) {
                const TraceBatchData data = batch_data(round[static_cast<std::size_t>(i)], *in.meta, bytes);
                const int64_t first_token = writer->token_count(), first_doc = writer->doc_count();
                writer->append(data);
                if (options.on_batch) options.on_batch(TraceBatchEvent{*in.meta, data, first_token, first_doc});
                ++summary.batches;
                const double fraction = corpus_fraction(*in.reader, max_tokens);
                meter.report(progress, writer->token_count(), writer->token_count() - summary.resumed_from, fraction);
            });
        }
    } catch (const Cancelled&) {
        if (writer) writer->close();   // every finished batch is already flushed; the file stays valid and resumable
        throw;
    }
    summary.seconds = meter.seconds();
    if (!writer) return summary;
    summary.tokens = writer->token_count();
    summary.documents = writer->doc_count();
    writer->close();
    if (summary.batches == 0) meter.report(progress, summary.tokens, 0, 1.0);   // resumed a finished trace
    return summary;
}

}  // namespace

ComputeDType parse_compute_dtype(const std::string& text) {
    if (text == "f32") return ComputeDType::f32;
    if (text == "bf16") return ComputeDType::bf16;
    throw UsageError("--dtype: expected f32 or bf16, got \"" + text + "\"");
}

std::string compute_dtype_name(ComputeDType dtype) { return dtype == ComputeDType::bf16 ? "bf16" : "f32"; }

TraceSummary run_trace(const Model& model, const TraceOptions& requested, Progress& progress, const CancelToken& cancel) {
    TraceOptions options = requested;   // a reused runner's own options are the ones recorded in /meta
    if (options.reuse_runner) options.runner = options.reuse_runner->options();
    refuse_dense(model);
    BatchRounds rounds(options.runner.ranks.get());
    TraceInput in;
    std::optional<TraceWriter> writer;   // rank 0 writes the one output file
    // Rank 0 checks everything and creates (or reopens) the output; the others then read the
    // same data with the same --max-tokens (a resumed trace keeps the file's).
    const std::vector<int64_t> start = rounds.share_from_collector([&]() -> std::vector<int64_t> {
        in.open(model, options, resumed_max_tokens(options));
        check_trace_output_is_no_input(model, options.output, in.reader->files());
        in.runner = options.reuse_runner ? options.reuse_runner   // device, --max-memory refused here
                                         : std::make_shared<ModelRunner>(model, options.runner);
        in.read_first(options);   // bad data refused before any file is touched
        writer.emplace(options.resume ? TraceWriter::resume(options.output, *in.meta)
                                      : TraceWriter::create(options.output, *in.meta, options.overwrite));
        const int64_t limit = in.corpus.options.max_tokens;
        SY_CHECK(!options.resume || limit <= 0 || limit >= writer->token_count(), UsageError,
                 options.output.string() + ": cannot resume: the file holds " + std::to_string(writer->token_count()) +
                     " tokens, more than --max-tokens " + std::to_string(limit) +
                     "; give a larger --max-tokens, or none to continue to the trace's own limit");
        return {limit, writer->token_count()};
    });
    if (!rounds.collector()) {
        in.open(model, options, start.at(0));
        in.runner = options.reuse_runner ? options.reuse_runner : std::make_shared<ModelRunner>(model, options.runner);
        in.read_first(options);
    }
    const int64_t docs = options.resume ? skip_to(*in.reader, start.at(1), options.output, cancel) : 0;
    if (writer && options.resume) writer->start(docs);
    return trace_rounds(in, options, rounds, writer ? &*writer : nullptr, progress, cancel);
}

}  // namespace sy
