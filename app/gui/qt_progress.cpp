#include "qt_progress.h"

#include <QMetaObject>
#include <algorithm>
#include <cmath>

namespace sy::gui {

QtProgress::QtProgress(QObject* context, Sink sink) : m_context(context), m_sink(std::move(sink)) { m_clock.start(); }

void QtProgress::report(double fraction, std::string_view stage) {
    // The first and the last report always pass; between them at most one per 100 ms, and only
    // when the fraction moved by 0.1% (the stage text's rate/ETA refresh with it).
    const bool first = m_last_fraction < 0, last = fraction >= 1.0;
    const bool moved = std::abs(fraction - m_last_fraction) >= 0.001;
    if (!first && !last && (m_clock.elapsed() < 100 || !moved)) return;
    m_last_fraction = fraction;
    m_clock.restart();
    const QString text = QString::fromUtf8(stage.data(), static_cast<int>(stage.size())).simplified();
    Sink sink = m_sink;
    QMetaObject::invokeMethod(m_context, [sink, fraction, text]() { sink(fraction, text); }, Qt::QueuedConnection);
}

PartProgress::PartProgress(sy::Progress& whole, double begin, double end, std::string name)
    : m_whole(whole), m_begin(begin), m_width(end - begin), m_name(std::move(name)) {}

void PartProgress::report(double fraction, std::string_view stage) {
    // Only the job's last step may report 1.0 (QtProgress always passes a final report through).
    const double whole = std::min(m_begin + std::clamp(fraction, 0.0, 1.0) * m_width, 0.999);
    m_whole.report(whole, m_name + ": " + std::string(stage));
}

}  // namespace sy::gui
