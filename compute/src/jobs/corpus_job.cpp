// Shared plumbing of the trace and eval jobs; see corpus_job.h.
#include "jobs/corpus_job.h"

#include <cmath>
#include <cstdio>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {

PreparedCorpus prepare_corpus(const Model& model, const CorpusOptions& corpus) {
    PreparedCorpus prepared;
    const std::filesystem::path dir = model.checkpoint.dir();
    std::error_code ec;
    if (std::filesystem::exists(dir / "tokenizer.json", ec))
        prepared.tokenizer.emplace(Tokenizer::from_file((dir / "tokenizer.json").string()));
    DatasetOptions& options = prepared.options;
    options.files = corpus.data;
    options.seq_len = corpus.seq_len;
    options.batch_tokens = corpus.batch_tokens > 0 ? corpus.batch_tokens : default_batch_tokens(corpus.seq_len);
    options.max_tokens = corpus.max_tokens;
    options.vocab_size = model.description.vocab_size;
    if (prepared.tokenizer) options.text = resolve_text_encoding(corpus.bos, *prepared.tokenizer, dir);
    else options.text.mode = corpus.bos;
    return prepared;
}

Batch runner_batch(const DatasetBatch& batch) {
    Batch out;
    out.sequences.reserve(batch.windows.size());
    for (const Window& window : batch.windows) out.sequences.push_back(window.ids);
    return out;
}

double RateMeter::seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

std::string RateMeter::stage(int64_t tokens_total, int64_t tokens_run, double fraction) const {
    // Fixed-width fields: the line is redrawn in place with '\r', so it must never get shorter.
    const double elapsed = seconds();
    const bool have_rate = elapsed > 0 && tokens_run > 0;
    const std::string rate = have_rate ? format_count(int64_t(tokens_run / elapsed)) + " tok/s" : "";
    const std::string eta = have_rate && fraction > 0.001 && fraction < 1
                                ? "ETA " + format_duration(elapsed / fraction * (1 - fraction))
                                : "";
    char text[160];
    std::snprintf(text, sizeof text, "%s %13s tokens %15s %12s", m_verb.c_str(), format_count(tokens_total).c_str(),
                  rate.c_str(), eta.c_str());
    return text;
}

void RateMeter::report(Progress& progress, int64_t tokens_total, int64_t tokens_run, double fraction) const {
    const std::string text = stage(tokens_total, tokens_run, fraction);
    std::string_view name = m_verb;   // the verb is padded for the human line's alignment
    name = name.substr(0, name.find_last_not_of(' ') + 1);
    progress.update({name, fraction, tokens_total, m_total, "tokens", text});
}

double corpus_fraction(const DatasetReader& reader, int64_t max_tokens) {
    double fraction = reader.fraction_read();
    if (max_tokens > 0) fraction = std::max(fraction, double(reader.tokens_emitted()) / double(max_tokens));
    return std::min(fraction, 1.0);
}

void throw_no_tokens(const DatasetReader& reader, const std::string& what) {
    std::string files;
    for (const auto& file : reader.files()) files += (files.empty() ? "" : ", ") + file.string();
    throw UsageError(files + ": no tokens to " + what + " (every record is empty)");
}

}  // namespace sy
