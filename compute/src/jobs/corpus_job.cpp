// Shared plumbing of the trace and eval jobs; see corpus_job.h.
#include "jobs/corpus_job.h"

#include <cmath>
#include <cstdio>

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

double corpus_fraction(const DatasetReader& reader, int64_t max_tokens) {
    double fraction = reader.fraction_read();
    if (max_tokens > 0) fraction = std::max(fraction, double(reader.tokens_emitted()) / double(max_tokens));
    return std::min(fraction, 1.0);
}

std::string format_bytes(uint64_t bytes) {
    char text[32];
    if (bytes >= 1'000'000'000) std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1'000'000) std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1'000) std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
    else std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    return text;
}

std::string format_count(int64_t count) {
    std::string digits = std::to_string(count < 0 ? -count : count), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return count < 0 ? "-" + out : out;
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto total = static_cast<int64_t>(std::llround(seconds));
    char text[32];
    if (total >= 3600)
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", (long long)(total / 3600), (long long)(total / 60 % 60),
                      (long long)(total % 60));
    else std::snprintf(text, sizeof text, "%lld:%02lld", (long long)(total / 60), (long long)(total % 60));
    return text;
}

}  // namespace sy
