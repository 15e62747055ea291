#pragma once
// Progress sink and cancel token shared by CLI and GUI (style.md rule 8). No Qt here.
#include <atomic>
#include <cstdint>
#include <string_view>

#include "switchyard/core/errors.h"

namespace sy {

class CancelToken {
public:
    void cancel() noexcept { m_cancelled.store(true, std::memory_order_relaxed); }
    bool cancelled() const noexcept { return m_cancelled.load(std::memory_order_relaxed); }
    void throw_if_cancelled() const {
        if (cancelled()) throw Cancelled("cancelled");
    }

private:
    std::atomic<bool> m_cancelled{false};
};

// A progress update with counts, for sinks that print numbers (`--progress json`, log lines):
//   progress.update({"export", fraction, bytes_written, bytes_total, "bytes"});
// Counts are of `unit` ("tokens", "bytes", "pairs"); -1 when not known (a trace without
// --max-tokens does not know its token total). `stage` is a short stable name ("trace",
// "similarity: outputs"); `text` is an optional human line for sinks that only show text (the
// GUI), e.g. with a rate the job measured itself. Rate and ETA are the sink's business.
struct ProgressUpdate {
    ProgressUpdate(std::string_view stage_, double fraction_, int64_t done_ = -1, int64_t total_ = -1,
                   std::string_view unit_ = {}, std::string_view text_ = {})
        : stage(stage_), fraction(fraction_), done(done_), total(total_), unit(unit_), text(text_) {}
    std::string_view stage;
    double fraction;   // [0, 1]
    int64_t done;
    int64_t total;
    std::string_view unit;
    std::string_view text;
};

class Progress {
public:
    virtual ~Progress() = default;
    // fraction in [0, 1]; implementations throttle before drawing.
    virtual void report(double fraction, std::string_view stage) = 0;
    // Sinks that only draw a fraction and a line need not override this.
    virtual void update(const ProgressUpdate& u) { report(u.fraction, u.text.empty() ? u.stage : u.text); }
};

class NullProgress final : public Progress {
public:
    void report(double, std::string_view) override {}
    void update(const ProgressUpdate&) override {}
};

}  // namespace sy
