#include "trace_file_feed.h"

#include <QMetaObject>
#include <QPointer>
#include <QThread>

#include "job_runner.h"
#include "switchyard/core/progress.h"

namespace sy::gui {

namespace {

constexpr int64_t read_chunk_tokens = 65536;
constexpr int follow_poll_ms = 500;

}  // namespace

sy::TraceBatchData read_trace_rows(const sy::TraceReader& reader, int64_t begin, int64_t end, int64_t first_doc) {
    sy::TraceBatchData rows;
    rows.ids = reader.token_ids(begin, end);
    rows.doc = reader.token_docs(begin, end);
    rows.pos = reader.token_positions(begin, end);
    rows.nll = reader.nll(begin, end);
    for (int l = 0; l < static_cast<int>(reader.meta().moe_layer_count()); ++l) {
        sy::TraceRouting routing = reader.routing(l, begin, end);
        rows.topk_ids.insert(rows.topk_ids.end(), routing.topk_ids.begin(), routing.topk_ids.end());
        rows.topk_weights.insert(rows.topk_weights.end(), routing.topk_weights.begin(), routing.topk_weights.end());
    }
    // Documents a live reader sees may run ahead of the committed tokens; take those referenced.
    int64_t last_doc = first_doc;
    for (int32_t d : rows.doc) last_doc = std::max<int64_t>(last_doc, d + 1);
    last_doc = std::min(last_doc, reader.doc_count());
    if (last_doc > first_doc) rows.doc_domains = reader.doc_domains(first_doc, last_doc);
    return rows;
}

TraceFileFeed::TraceFileFeed(QObject* parent) : QObject(parent) {}

TraceFileFeed::~TraceFileFeed() {
    stop();
    for (const QPointer<QThread>& thread : m_threads)   // shutdown: each stops within one poll
        if (thread) thread->wait();
}

void TraceFileFeed::stop() {
    if (m_stop) m_stop->cancel();
}

void TraceFileFeed::open(const QString& path, bool follow) {
    stop();
    m_path = path;
    auto stop_token = std::make_shared<sy::CancelToken>();
    m_stop = stop_token;
    QThread* thread = QThread::create([this, path, follow, stop_token]() {
        auto post = [this, stop_token](auto f) {
            if (!stop_token->cancelled()) QMetaObject::invokeMethod(this, f, Qt::QueuedConnection);
        };
        try {
            sy::TraceReader reader = sy::TraceReader::open(path.toStdString());
            LiveRouting live(reader.meta(), path.toStdString());
            int64_t docs = 0;
            auto read_to_end = [&]() {
                while (live.tokens() < reader.token_count() && !stop_token->cancelled()) {
                    const int64_t begin = live.tokens(), end = std::min(reader.token_count(), begin + read_chunk_tokens);
                    sy::TraceBatchData rows = read_trace_rows(reader, begin, end, docs);
                    live.add(rows, begin, docs);
                    docs += static_cast<int64_t>(rows.doc_domains.size());
                }
            };
            read_to_end();
            auto snapshot = live.snapshot(!follow);
            const qint64 tokens = live.tokens();
            post([this, snapshot, path, tokens]() { emit snapshot_ready(snapshot); emit loaded(path, tokens); });
            while (follow && !stop_token->cancelled()) {
                QThread::msleep(follow_poll_ms);
                if (!reader.refresh()) continue;
                read_to_end();
                auto grown = live.snapshot(false);
                post([this, grown]() { emit snapshot_ready(grown); });
            }
        } catch (const std::exception& error) {
            const QString message = error_message(error);
            post([this, message]() { emit failed(message); });
        }
    });
    m_threads.push_back(thread);   // an older reader ends on its own at its next poll
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

}  // namespace sy::gui
