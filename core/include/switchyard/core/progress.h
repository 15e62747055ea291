#pragma once
// Progress sink and cancel token shared by CLI and GUI (style.md rule 8). No Qt here.
#include <atomic>
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

class Progress {
public:
    virtual ~Progress() = default;
    // fraction in [0, 1]; implementations throttle before drawing.
    virtual void report(double fraction, std::string_view stage) = 0;
};

class NullProgress final : public Progress {
public:
    void report(double, std::string_view) override {}
};

}  // namespace sy
