#pragma once
// An existing trace file for the views: read on a worker thread with
// sy::TraceReader (SWMR), fed through the same LiveRouting as a live run, then followed: while
// a `switchyard trace` process is still writing it, new batches appear in the views.
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <memory>

#include "routing_snapshot.h"

namespace sy {
class CancelToken;
}

namespace sy::gui {

class TraceFileFeed : public QObject {
    Q_OBJECT
public:
    explicit TraceFileFeed(QObject* parent = nullptr);
    ~TraceFileFeed() override;   // stops following and joins the reader thread

    // Main thread. Stops a previous feed first (without waiting for it).
    void open(const QString& path, bool follow = true);
    void stop();
    QString path() const { return m_path; }

signals:
    void snapshot_ready(std::shared_ptr<const sy::gui::RoutingSnapshot> snapshot);
    void loaded(QString path, qint64 tokens);   // first full read done
    void failed(QString message);

private:
    QString m_path;
    QList<QPointer<QThread>> m_threads;
    std::shared_ptr<sy::CancelToken> m_stop;
};

// Rows [begin, end) of a trace as one batch (documents [first_doc, reader.doc_count()) are
// its new documents). Thread: the reader's.
sy::TraceBatchData read_trace_rows(const sy::TraceReader& reader, int64_t begin, int64_t end, int64_t first_doc);

}  // namespace sy::gui
