#include "trace_run.h"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QThread>

#include "job_runner.h"
#include "qt_progress.h"
#include "switchyard/core/model.h"

namespace sy::gui {

namespace {

// Snapshots cost a StatsAccumulator::finish(); one per 150 ms is plenty for a 40 ms replot.
constexpr qint64 snapshot_interval_ms = 150;
}  // namespace

TraceRun::TraceRun(QObject* parent) : QObject(parent) {}

TraceRun::~TraceRun() {
    if (m_thread == nullptr) return;
    m_cancel->cancel();
    m_thread->wait();   // shutdown only: the run stops within one layer
}

void TraceRun::cancel() {
    if (m_cancel) m_cancel->cancel();
}

bool TraceRun::start(std::shared_ptr<const sy::Model> model, sy::TraceOptions options, QString source) {
    if (m_thread != nullptr) return false;
    auto cancel = std::make_shared<sy::CancelToken>();
    m_cancel = cancel;
    const QString output = QString::fromStdString(options.output.string());
    m_thread = QThread::create([this, model, options = std::move(options), source, cancel, output]() mutable {
        lower_this_thread_priority();
        std::unique_ptr<LiveRouting> live;
        QElapsedTimer clock;
        clock.start();
        auto publish = [this](std::shared_ptr<const RoutingSnapshot> snapshot) {
            QMetaObject::invokeMethod(this, [this, snapshot]() { emit snapshot_ready(snapshot); }, Qt::QueuedConnection);
        };
        options.on_batch = [&](const sy::TraceBatchEvent& event) {
            if (!live) live = std::make_unique<LiveRouting>(event.meta, source.toStdString());
            live->add(event.batch, event.first_token, event.first_doc);
            if (clock.elapsed() >= snapshot_interval_ms) {
                clock.restart();
                publish(live->snapshot(false));
            }
        };
        QtProgress progress(this, [this](double fraction, QString stage) { emit this->progress(fraction, stage); });
        try {
            const sy::TraceSummary summary = sy::run_trace(*model, options, progress, *cancel);
            if (live) publish(live->snapshot(true));
            const QString text = QStringLiteral("traced %1 tokens of %2 document(s) into %3 in %4 s")
                                     .arg(summary.tokens).arg(summary.documents).arg(output).arg(summary.seconds, 0, 'f', 1);
            QMetaObject::invokeMethod(this, [this, output, text]() { on_thread_done(); emit finished(output, text); },
                                      Qt::QueuedConnection);
        } catch (const sy::Cancelled&) {
            if (live) publish(live->snapshot(true));
            QMetaObject::invokeMethod(this, [this, output]() { on_thread_done(); emit cancelled(output); },
                                      Qt::QueuedConnection);
        } catch (const std::exception& error) {
            if (live) publish(live->snapshot(true));
            const QString message = error_message(error);
            QMetaObject::invokeMethod(this, [this, message]() { on_thread_done(); emit failed(message); },
                                      Qt::QueuedConnection);
        }
    });
    connect(m_thread, &QThread::finished, m_thread, &QObject::deleteLater);
    m_thread->start();
    return true;
}

void TraceRun::on_thread_done() {
    m_thread = nullptr;   // deleted by its finished() connection
}

}  // namespace sy::gui
