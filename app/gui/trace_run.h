#pragma once
// A trace run for the window: sy::run_trace on its own QThread, exactly as
// `switchyard trace` calls it, with the live-view hook feeding a LiveRouting. Everything comes
// back to the main thread as signals; the window never waits on the run.
#include <QObject>
#include <QString>
#include <memory>

#include "routing_snapshot.h"
#include "switchyard/compute/trace_job.h"

class QThread;

namespace sy {
struct Model;
class CancelToken;
}  // namespace sy

namespace sy::gui {

class TraceRun : public QObject {
    Q_OBJECT
public:
    explicit TraceRun(QObject* parent = nullptr);
    ~TraceRun() override;   // cancels and joins a running trace (the file stays valid)

    // Main thread. Refused (returns false) while a run is active.
    bool start(std::shared_ptr<const sy::Model> model, sy::TraceOptions options, QString source);
    void cancel();   // any time; the run stops after the current layer/batch
    bool running() const { return m_thread != nullptr; }

signals:
    void progress(double fraction, QString stage);
    void snapshot_ready(std::shared_ptr<const sy::gui::RoutingSnapshot> snapshot);
    // Exactly one of these ends a run. `output` is the trace file (readable in every case but failure before it was created).
    void finished(QString output, QString summary);
    void cancelled(QString output);
    void failed(QString message);

private:
    void on_thread_done();

    QThread* m_thread = nullptr;
    std::shared_ptr<sy::CancelToken> m_cancel;
};

}  // namespace sy::gui
