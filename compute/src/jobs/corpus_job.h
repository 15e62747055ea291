#pragma once
// What trace_job.cpp and eval_job.cpp share: opening the model's tokenizer and dataset the same
// way (so eval and trace see identical tokens), batches for the runner, and progress text.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/compute/trace_job.h"
#include "switchyard/core/human_format.h"
#include "switchyard/core/progress.h"
#include "switchyard/core/tokenizer.h"

namespace sy {

struct PreparedCorpus {
    std::optional<Tokenizer> tokenizer;   // absent when the model folder has no tokenizer.json
    DatasetOptions options;               // batch_tokens resolved, vocab_size set
};

// Throws UsageError for bad options (before any file is created).
PreparedCorpus prepare_corpus(const Model& model, const CorpusOptions& corpus);

Batch runner_batch(const DatasetBatch& batch);

// Tracks throughput for progress lines like "trace 12,288 tokens  3,104 tok/s  ETA 0:42".
class RateMeter {
public:
    // total_tokens: the token budget when known (--max-tokens), else -1.
    explicit RateMeter(std::string verb, int64_t total_tokens = -1)
        : m_verb(std::move(verb)), m_total(total_tokens > 0 ? total_tokens : -1),
          m_start(std::chrono::steady_clock::now()) {}
    double seconds() const;
    // tokens_total: tokens in the output so far; tokens_run: processed by this run.
    std::string stage(int64_t tokens_total, int64_t tokens_run, double fraction) const;
    // Reports the counts (unit "tokens") with stage()'s line as the human text.
    void report(Progress& progress, int64_t tokens_total, int64_t tokens_run, double fraction) const;

private:
    std::string m_verb;
    int64_t m_total;
    std::chrono::steady_clock::time_point m_start;
};

// Fraction done: tokens against --max-tokens when set, else bytes read of the data.
double corpus_fraction(const DatasetReader& reader, int64_t max_tokens);

// The UsageError of a dataset that yields no token ("a.jsonl, b.txt: no tokens to `what` (every
// record is empty)"), for jobs that would otherwise finish with nothing to report.
[[noreturn]] void throw_no_tokens(const DatasetReader& reader, const std::string& what);

}  // namespace sy
