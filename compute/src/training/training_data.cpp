// Training windows: loaded once through the dataset reader eval and trace use, split and
// shuffled with std::mt19937_64 (its sequence is fixed by the standard, so a seed gives the same
// order on every platform; std::shuffle's use of it is not, so the shuffle is written out).
#include "training/training_data.h"

#include <algorithm>
#include <cmath>

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

// Fisher-Yates with a bounded draw by rejection: same result for the same seed everywhere.
void seeded_shuffle(std::vector<int64_t>& values, uint64_t seed) {
    std::mt19937_64 engine(seed);
    for (std::size_t i = values.size(); i > 1; --i) {
        const uint64_t bound = i, limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t draw = engine();
        while (draw >= limit) draw = engine();
        std::swap(values[i - 1], values[static_cast<std::size_t>(draw % bound)]);
    }
}

uint64_t mix(uint64_t seed, uint64_t salt) { return seed * 0x9E3779B97F4A7C15ULL + salt * 0xBF58476D1CE4E5B9ULL + 1; }

}  // namespace

std::string WindowSet::domain_of(const Window& window) const {
    const std::string& domain = documents.at(static_cast<std::size_t>(window.doc)).domain;
    return domain.empty() ? "(none)" : domain;
}

Batch WindowSet::batch(const std::vector<int64_t>& indices) const {
    Batch out;
    out.sequences.reserve(indices.size());
    for (int64_t i : indices) out.sequences.push_back(windows.at(static_cast<std::size_t>(i)).ids);
    return out;
}

int64_t WindowSet::tokens_of(const std::vector<int64_t>& indices) const {
    int64_t total = 0;
    for (int64_t i : indices) total += static_cast<int64_t>(windows.at(static_cast<std::size_t>(i)).ids.size());
    return total;
}

WindowSet load_windows(const Model& model, const CorpusOptions& corpus, const std::string& what,
                       const CancelToken& cancel) {
    SY_CHECK(!corpus.data.empty(), UsageError, what + ": no data files given");
    PreparedCorpus prepared = prepare_corpus(model, corpus);
    DatasetReader reader(prepared.options, prepared.tokenizer ? &*prepared.tokenizer : nullptr);
    WindowSet set;
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        set.documents.insert(set.documents.end(), batch.new_docs.begin(), batch.new_docs.end());
        for (Window& window : batch.windows) {
            if (window.ids.size() < 2) continue;   // no next-token target
            set.tokens += static_cast<int64_t>(window.ids.size());
            set.windows.push_back(std::move(window));
        }
    }
    std::string files;
    for (const auto& f : corpus.data) files += (files.empty() ? "" : ", ") + f.string();
    SY_CHECK(!set.windows.empty(), UsageError, what + " " + files + ": holds no document of two or more tokens");
    return set;
}

HoldoutSplit split_holdout(int64_t windows, double fraction, uint64_t seed) {
    HoldoutSplit split;
    int64_t held = fraction > 0 ? std::llround(fraction * double(windows)) : 0;
    if (fraction > 0 && windows >= 2) held = std::max<int64_t>(held, 1);
    held = std::min(held, windows - 1);
    std::vector<int64_t> order(static_cast<std::size_t>(windows));
    for (int64_t i = 0; i < windows; ++i) order[static_cast<std::size_t>(i)] = i;
    seeded_shuffle(order, mix(seed, 0x484F4C44));   // "HOLD"
    split.heldout.assign(order.begin(), order.begin() + std::max<int64_t>(held, 0));
    split.train.assign(order.begin() + std::max<int64_t>(held, 0), order.end());
    std::sort(split.heldout.begin(), split.heldout.end());
    std::sort(split.train.begin(), split.train.end());
    return split;
}

WindowSampler::WindowSampler(std::vector<int64_t> windows, const WindowSet& set, int64_t tokens, uint64_t seed)
    : m_windows(std::move(windows)), m_set(set), m_tokens(tokens), m_seed(seed) {
    SY_CHECK(!m_windows.empty(), UsageError, "no training windows left after the held-out split");
    shuffle();
}

void WindowSampler::shuffle() {
    m_order = m_windows;
    seeded_shuffle(m_order, mix(m_seed, static_cast<uint64_t>(m_cursor.epoch)));
}

void WindowSampler::set_cursor(const SamplerCursor& cursor) {
    SY_CHECK(cursor.position >= 0 && cursor.position <= static_cast<int64_t>(m_windows.size()), UsageError,
             "resumable state: sampler position " + std::to_string(cursor.position) + " is outside the " +
                 std::to_string(m_windows.size()) + " training windows");
    m_cursor = cursor;
    shuffle();
}

std::vector<int64_t> WindowSampler::next() {
    std::vector<int64_t> out;
    int64_t used = 0;
    while (true) {
        if (m_cursor.position == static_cast<int64_t>(m_order.size())) {
            if (!out.empty()) break;   // a micro-batch never spans two epochs
            ++m_cursor.epoch;
            m_cursor.position = 0;
            shuffle();
        }
        const int64_t index = m_order[static_cast<std::size_t>(m_cursor.position)];
        const int64_t length = static_cast<int64_t>(m_set.windows[static_cast<std::size_t>(index)].ids.size());
        if (!out.empty() && used + length > m_tokens) break;
        out.push_back(index);
        used += length;
        ++m_cursor.position;
    }
    return out;
}

}  // namespace sy
