// run_trace: dataset -> ModelRunner -> routing observer -> TraceWriter, one
// flushed batch at a time, so Ctrl-C or a crash loses at most the batch in flight.

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
// they end exactly where the file does; returns the writer ready to append.
TraceWriter resume_writer(const TraceOptions& options, const TraceMeta& meta, DatasetReader& reader,
                          const CancelToken& cancel) {
    TraceWriter writer = TraceWriter::resume(options.output, meta);
    int64_t docs = 0;
    DatasetBatch batch;
    while (reader.tokens_emitted() < writer.token_count() && reader.next(batch)) {
        docs += int64_t(batch.new_docs.size());
        cancel.throw_if_cancelled();   // ~TraceWriter closes the file; nothing was appended yet
    }
    SY_CHECK(reader.tokens_emitted() == writer.token_count(), UsageError,
             options.output.string() + ": cannot resume: the file holds " + std::to_string(writer.token_count()) +
                 " tokens, which is not a batch boundary of this dataset with these options (reached " +
                 std::to_string(reader.tokens_emitted()) + "); was the data or --max-tokens changed?");
    writer.start(docs);
    return writer;
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

}  // namespace

ComputeDType parse_compute_dtype(const std::string& text) {
    if (text == "f32") return ComputeDType::f32;
    if (text == "bf16") return ComputeDType::bf16;
    throw UsageError("--dtype: expected f32 or bf16, got \"" + text + "\"");
}

std::string compute_dtype_name(ComputeDType dtype) { return dtype == ComputeDType::bf16 ? "bf16" : "f32"; }

TraceSummary run_trace(const Model& model, const TraceOptions& requested, Progress& progress, const CancelToken& cancel) {
    refuse_dense(model);
    TraceOptions options = requested;   // a reused runner's own options are the ones recorded in /meta
    if (options.reuse_runner) options.runner = options.reuse_runner->options();
    CorpusOptions corpus_options = options.corpus;
    corpus_options.max_tokens = resumed_max_tokens(options);
    PreparedCorpus corpus = prepare_corpus(model, corpus_options);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    const TraceMeta meta = make_trace_meta(model, options, corpus, reader);
    check_trace_output_is_no_input(model, options.output, reader.files());
    // Device and --max-memory are refused before any file is touched.
    const std::shared_ptr<ModelRunner> runner_owner =
        options.reuse_runner ? options.reuse_runner : std::make_shared<ModelRunner>(model, options.runner);
    ModelRunner& runner = *runner_owner;
    DatasetBatch batch;
    bool have_batch = read_first_batch(options, reader, batch);   // bad data refused before any file is touched
    TraceWriter writer = options.resume ? resume_writer(options, meta, reader, cancel)
                                        : TraceWriter::create(options.output, meta, options.overwrite);
    TraceSummary summary;
    summary.resumed_from = writer.token_count();
    RateMeter meter("trace", options.corpus.max_tokens);
    meter.report(progress, writer.token_count(), 0, corpus_fraction(reader, corpus.options.max_tokens));
    try {
        while (!cancel.cancelled() && (have_batch || reader.next(batch))) {
            have_batch = false;
            TraceBatchData data = batch_rows(batch);
            RoutingCollector collector(meta, data.token_count(), data);
            BatchOutput output = runner.run(runner_batch(batch), &collector, false, &cancel);
            collector.check_complete();
            SY_CHECK(output.nll.size() == data.ids.size(), ShapeMismatch,
                     "runner returned " + std::to_string(output.nll.size()) + " losses for " +
                         std::to_string(data.ids.size()) + " tokens");
            data.nll = std::move(output.nll);
            const int64_t first_token = writer.token_count(), first_doc = writer.doc_count();
            writer.append(data);
            if (options.on_batch) options.on_batch(TraceBatchEvent{meta, data, first_token, first_doc});
            ++summary.batches;
            const double fraction = corpus_fraction(reader, corpus.options.max_tokens);
            meter.report(progress, writer.token_count(), writer.token_count() - summary.resumed_from, fraction);
        }
        cancel.throw_if_cancelled();
    } catch (const Cancelled&) {
        writer.close();   // every finished batch is already flushed; the file stays valid and resumable
        throw;
    }
    summary.tokens = writer.token_count();
    summary.documents = writer.doc_count();
    summary.seconds = meter.seconds();
    writer.close();
    if (summary.batches == 0) meter.report(progress, summary.tokens, 0, 1.0);   // resumed a finished trace
    return summary;
}

}  // namespace sy
