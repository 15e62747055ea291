// Rounds of batches between ranks; see batch_rounds.h.
#include "batch_rounds.h"

#include <algorithm>
#include <cstring>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

using Kind = RankMessage::Kind;

std::string text_of(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }
std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

bool has_result(Kind kind) { return kind == Kind::data || kind == Kind::stop; }

}  // namespace

template <class T>
std::vector<T> read_bytes(const std::vector<uint8_t>& in, std::size_t& offset, std::size_t count) {
    SY_CHECK(offset + count * sizeof(T) <= in.size(), ShapeMismatch,
             "a rank's batch result is " + std::to_string(in.size()) + " bytes, shorter than expected");
    std::vector<T> values(count);
    if (count) std::memcpy(values.data(), in.data() + offset, count * sizeof(T));
    offset += count * sizeof(T);
    return values;
}
template std::vector<float> read_bytes<float>(const std::vector<uint8_t>&, std::size_t&, std::size_t);
template std::vector<int16_t> read_bytes<int16_t>(const std::vector<uint8_t>&, std::size_t&, std::size_t);
template std::vector<uint16_t> read_bytes<uint16_t>(const std::vector<uint8_t>&, std::size_t&, std::size_t);
template std::vector<int64_t> read_bytes<int64_t>(const std::vector<uint8_t>&, std::size_t&, std::size_t);
template std::vector<double> read_bytes<double>(const std::vector<uint8_t>&, std::size_t&, std::size_t);

std::vector<int64_t> BatchRounds::share_from_collector(const std::function<std::vector<int64_t>()>& setup) {
    if (!m_group) return setup();
    // Rank 0 may take a while (tokenizing the first batch, creating the output); the others
    // wait longer than the group timeout, and at least as long as for the ranks to start
    // (rendezvous.cpp), so that a slow rank 0 is not mistaken for a dead one.
    const double patience = std::max(2 * m_group->timeout_s(), 120.0);
    if (!collector()) {
        RankMessage m = m_group->receive(0, "waiting for rank 0 to set up the job", patience);
        if (m.kind == Kind::failed) throw PeerError("rank 0 failed: " + text_of(m.bytes));
        std::size_t offset = 0;
        return read_bytes<int64_t>(m.bytes, offset, m.bytes.size() / sizeof(int64_t));
    }
    std::vector<int64_t> values;
    try {
        values = setup();
    } catch (const std::exception& e) {
        tell_all({Kind::failed, bytes_of(e.what())}, -1);
        throw;
    }
    RankMessage m;
    append_bytes(m.bytes, values);
    tell_all(m, -1);
    return values;
}

bool BatchRounds::read_round(DatasetReader& reader, std::vector<DatasetBatch>& round, std::optional<DatasetBatch>& first) {
    round.clear();
    if (first) {
        round.push_back(std::move(*first));
        first.reset();
    }
    DatasetBatch batch;
    while (int(round.size()) < size() && reader.next(batch)) round.push_back(std::move(batch));
    m_round_size = static_cast<int64_t>(round.size());
    return !round.empty();
}

const DatasetBatch* BatchRounds::mine(const std::vector<DatasetBatch>& round) const {
    return rank() < int(round.size()) ? &round[static_cast<std::size_t>(rank())] : nullptr;
}

void BatchRounds::tell_all(const RankMessage& decision, int skip) {
    for (int r = 1; r < size(); ++r)
        if (r != skip) m_group->send(r, decision, "telling rank " + std::to_string(r) + " how to go on");
}

bool BatchRounds::exchange(RankMessage mine, const std::function<void(int, std::vector<uint8_t>&)>& consume) {
    if (!m_group) {
        if (has_result(mine.kind)) consume(0, mine.bytes);
        return mine.kind == Kind::data;
    }
    if (collector()) return collect(std::move(mine), consume);
    const Kind kind = mine.kind;
    m_group->send(0, mine, "sending a batch result to rank 0");
    if (kind == Kind::failed) return false;   // the caller rethrows its own error
    // Rank 0 may wait up to the timeout for a silent rank before it answers: wait longer, so
    // that it is rank 0 that names the silent rank.
    const RankMessage decision = m_group->receive(0, "waiting for rank 0's go-ahead", 2 * m_group->timeout_s());
    if (decision.kind == Kind::failed) throw PeerError(text_of(decision.bytes));
    return decision.kind == Kind::go;
}

void BatchRounds::run_round(const std::vector<DatasetBatch>& round, const CancelToken& cancel, bool lockstep,
                            const std::function<std::vector<uint8_t>(const DatasetBatch*)>& compute,
                            const std::function<void(int, std::vector<uint8_t>&)>& consume) {
    const DatasetBatch* batch = mine(round);
    RankMessage own;
    std::exception_ptr error;
    if (!lockstep && cancel.cancelled()) own.kind = Kind::cancelled;
    else if (batch || lockstep) {
        try {
            own.bytes = compute(batch);
            own.kind = cancel.cancelled() ? Kind::stop : Kind::data;
        } catch (const Cancelled&) {
            own.kind = Kind::cancelled;
        } catch (const std::exception& e) {
            if (lockstep) throw;
            own = {Kind::failed, bytes_of(e.what())};
            error = std::current_exception();
        }
    }
    const bool go = exchange(std::move(own), consume);
    if (error) std::rethrow_exception(error);
    if (!go) throw Cancelled("cancelled");
}

bool BatchRounds::collect(RankMessage mine, const std::function<void(int, std::vector<uint8_t>&)>& consume) {
    std::vector<RankMessage> results;
    results.push_back(std::move(mine));
    for (int r = 1; r < size(); ++r)
        results.push_back(m_group->receive(r, "collecting rank " + std::to_string(r) + "'s batch result"));
    std::string failure;
    bool stop = false, complete = true;   // complete: every batch so far had its result
    int failed_rank = -1;
    for (int r = 0; r < size(); ++r) {
        const Kind kind = results[static_cast<std::size_t>(r)].kind;
        if (kind == Kind::failed && failure.empty()) {
            failed_rank = r;
            failure = r == 0 ? "rank 0 failed: " + text_of(results[0].bytes)
                             : "rank " + std::to_string(r) + " failed: " + text_of(results[std::size_t(r)].bytes);
        }
        stop |= kind != Kind::data;
        complete &= has_result(kind);
        if (!complete || r >= m_round_size || !failure.empty()) continue;
        try {
            consume(r, results[static_cast<std::size_t>(r)].bytes);
        } catch (const std::exception& e) {
            tell_all({Kind::failed, bytes_of("rank 0 failed: " + std::string(e.what()))}, -1);
            throw;
        }
    }
    if (!failure.empty()) {
        tell_all({Kind::failed, bytes_of(failure)}, failed_rank);
        if (failed_rank != 0) throw PeerError(failure);
        return false;
    }
    tell_all({stop ? Kind::stop : Kind::go, {}}, -1);
    return !stop;
}

}  // namespace sy
