#pragma once
// sy::Progress adapters for jobs on worker threads. QtProgress throttles at the source
// (style.md rule 8: only when the fraction moved >= 0.1% or 100 ms passed) and delivers to the
// main thread as a queued call, so the event queue never floods. PartProgress maps one step of
// a job made of several library calls onto its share of the whole.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <functional>
#include <string>

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

// The part [begin, end) of `whole`; the stage text is prefixed with `name`. Same thread as
// `whole`.
class PartProgress final : public sy::Progress {
public:
    PartProgress(sy::Progress& whole, double begin, double end, std::string name);
    void report(double fraction, std::string_view stage) override;

private:
    sy::Progress& m_whole;
    double m_begin, m_width;
    std::string m_name;
};

}  // namespace sy::gui
