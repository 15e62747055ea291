#pragma once
// sy::Progress adapter for jobs on worker threads: throttles at the source (style.md rule 8:
// only when the fraction moved >= 0.1% or 100 ms passed) and delivers to the main thread as a
// queued call, so the event queue never floods.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <functional>

#include "switchyard/core/progress.h"

namespace sy::gui {

class QtProgress final : public sy::Progress {
public:
    using Sink = std::function<void(double fraction, QString stage)>;
    // `sink` runs on `context`'s thread.
    QtProgress(QObject* context, Sink sink);
    // Called on the job's thread.
    void report(double fraction, std::string_view stage) override;

private:
    QObject* m_context;
    Sink m_sink;
    QElapsedTimer m_clock;
    double m_last_fraction = -1;
};

}  // namespace sy::gui
