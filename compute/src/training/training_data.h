#pragma once
// Training and evaluation tokens held in memory as attention windows (the windows trace and
// eval cut, from the same DatasetReader), a deterministic held-out split, and a sampler that
// shuffles the training windows once per epoch from the seed and fills micro-batches.
// No torch here; compute thread only.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "switchyard/compute/model_runner.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/dataset.h"

namespace sy {

struct Model;

struct WindowSet {
    std::vector<Window> windows;            // every window with at least one next-token target
    std::vector<DocumentInfo> documents;    // every record read, in order (Window::doc indexes it)
    int64_t tokens = 0;                     // tokens of `windows`

    std::string domain_of(const Window& window) const;
    // The windows at `indices` as a runner batch.
    Batch batch(const std::vector<int64_t>& indices) const;
    int64_t tokens_of(const std::vector<int64_t>& indices) const;
};

// Reads every window of `corpus` (its max_tokens caps what is read). Throws UsageError for bad
// records and for data without any window of two or more tokens, naming `what` ("--forget").
WindowSet load_windows(const Model& model, const CorpusOptions& corpus, const std::string& what,
                       const CancelToken& cancel);

// Windows held out of training: a seeded draw of round(fraction * n) windows (at least one when
// fraction > 0 and there are two or more windows). Both lists ascending.
struct HoldoutSplit {
    std::vector<int64_t> train, heldout;
};
HoldoutSplit split_holdout(int64_t windows, double fraction, uint64_t seed);

// Where a sampler stands, for resumable state.
struct SamplerCursor {
    int64_t epoch = 0;
    int64_t position = 0;
};

// Micro-batches of whole windows, at most `tokens` tokens each (one window when a single window
// is longer), in a per-epoch shuffle of `windows` seeded by (seed, epoch).
class WindowSampler {
public:
    WindowSampler(std::vector<int64_t> windows, const WindowSet& set, int64_t tokens, uint64_t seed);
    std::vector<int64_t> next();
    SamplerCursor cursor() const { return m_cursor; }
    void set_cursor(const SamplerCursor& cursor);

private:
    void shuffle();

    std::vector<int64_t> m_windows;
    std::vector<int64_t> m_order;
    const WindowSet& m_set;
    int64_t m_tokens;
    uint64_t m_seed;
    SamplerCursor m_cursor;
};

}  // namespace sy
