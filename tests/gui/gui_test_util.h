#pragma once
// Helpers for driving the window in tests: run the event loop until a condition holds.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <functional>

namespace sy::test {

// Runs the event loop (worker results arrive as queued calls) until `done()` or the timeout.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms = 180000) {
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeout_ms) return false;
        QEventLoop loop;
        QTimer::singleShot(10, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

}  // namespace sy::test
