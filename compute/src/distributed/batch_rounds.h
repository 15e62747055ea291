#pragma once
// Data parallelism over the batches of a dataset, shared by trace, eval and score.
//
// Every rank reads the same batches (the reader is deterministic, so batch boundaries, and with
// them every result, are exactly those of a single-process run); batch b is computed by rank
// b mod W. Batches go in rounds of W: after its batch each rank sends its result to rank 0,
// which consumes the round's results in dataset order (appending to the one output file, say)
// and tells every rank to go on or stop. Rank 0 holds one round of results at a time.
//
// Cancel (Ctrl-C reaches every rank of a launcher, at slightly different moments): a rank that
// sees it reports so with its result, rank 0 keeps the batches of the round up to the first one
// not computed and stops everyone after the round. A rank that fails sends its error to rank 0,
// which stops the others with a PeerError naming it.
//
// With no RankGroup (one process) a round is one batch and consume runs directly. Thread: the
// job's.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "switchyard/compute/rank_group.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/progress.h"

namespace sy {

class BatchRounds {
public:
    explicit BatchRounds(RankGroup* group) : m_group(group) {}

    int rank() const { return m_group ? m_group->rank() : 0; }
    int size() const { return m_group ? m_group->size() : 1; }
    bool collector() const { return rank() == 0; }

    // Rank 0 runs `setup` (checks, creating the output) and every rank gets the numbers it
    // returns. When setup throws on rank 0 the others throw PeerError with its message.
    std::vector<int64_t> share_from_collector(const std::function<std::vector<int64_t>()>& setup);

    // Reads the next round (up to size() batches, the same on every rank). `first`: a batch read
    // ahead (the first one, checked before the output is created) that starts the round; it is
    // moved from and cleared. Returns false when the data is exhausted.
    bool read_round(DatasetReader& reader, std::vector<DatasetBatch>& round, std::optional<DatasetBatch>& first);
    // This rank's batch of the round, or null.
    const DatasetBatch* mine(const std::vector<DatasetBatch>& round) const;

    // What this rank made of its batch: kind data (payload; empty when it had no batch), stop
    // (payload, and Ctrl-C was seen: stop after this round), cancelled (no result), failed
    // (error text; the caller rethrows its own error after exchange returns).
    // Rank 0 calls consume(index_in_round, payload) for the round's batches in order up to the
    // first without a result. Returns true to go on, false when the job stops (cancelled).
    // Throws PeerError when another rank failed.
    bool exchange(RankMessage mine, const std::function<void(int, std::vector<uint8_t>&)>& consume);

    // One whole round: runs compute(batch) on this rank's batch (it returns the payload for
    // rank 0) and exchanges the results. `lockstep`: compute runs on every rank every round,
    // with a null batch when the rank has none and even after Ctrl-C (expert parallelism, where
    // each forward pass is collective); a failure then skips the exchange, since the others are
    // inside the same forward pass and see this rank go. Throws Cancelled when the job stops
    // after this round, this rank's own error, or PeerError for another rank's.
    void run_round(const std::vector<DatasetBatch>& round, const CancelToken& cancel, bool lockstep,
                   const std::function<std::vector<uint8_t>(const DatasetBatch*)>& compute,
                   const std::function<void(int, std::vector<uint8_t>&)>& consume);

private:
    bool collect(RankMessage mine, const std::function<void(int, std::vector<uint8_t>&)>& consume);
    void tell_all(const RankMessage& decision, int skip);

    RankGroup* m_group;
    int64_t m_round_size = 0;   // batches in the round being exchanged
};

// Payloads are plain byte strings; these append and read arrays of numbers.
template <class T>
void append_bytes(std::vector<uint8_t>& out, const std::vector<T>& values) {
    const auto* p = reinterpret_cast<const uint8_t*>(values.data());
    out.insert(out.end(), p, p + values.size() * sizeof(T));
}
// Reads `count` values at `offset` (advanced); throws ShapeMismatch when the payload is short.
template <class T>
std::vector<T> read_bytes(const std::vector<uint8_t>& in, std::size_t& offset, std::size_t count);

}  // namespace sy
