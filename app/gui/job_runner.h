#pragma once
// Runs one piece of library work on a worker thread and hands its result, or the message of the
// sy::Error it threw, back to the main thread (style.md rule 9, 4.2). The GUI never waits on a
// job: results arrive as queued calls on the main thread; a job whose context was destroyed
// meanwhile is dropped silently.
#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <exception>
#include <functional>
#include <memory>

#include "qt_progress.h"
#include "switchyard/core/errors.h"

namespace sy::gui {

// The text shown for an exception: sy::Error's what() is the same line the CLI prints after
// "error: "; anything else is an internal error.
QString error_message(const std::exception& error);

// Called first on every worker thread: a trace or an analysis keeps every core busy (LibTorch's
// intra-op threads inherit the nice value of the thread that spawns them), and a lower
// scheduling weight lets the GUI thread preempt the workers at once instead of waiting out a
// time slice. QThread::LowPriority has no effect under Linux's SCHED_OTHER.
void lower_this_thread_priority();

// Thread rules: call from the main thread. `work` runs on a new QThread; `done` / `failed` run
// on `context`'s thread. Result is held by shared_ptr so move-only values (a Model) travel.
template <class Result>
void run_job(QObject* context, std::function<std::shared_ptr<Result>()> work,
             std::function<void(std::shared_ptr<Result>)> done, std::function<void(QString)> failed) {
    // The result is posted to the application object and delivered only if `context` still
    // exists when it arrives: the QPointer is read on the main thread, never on the worker.
    QPointer<QObject> guard(context);
    QThread* thread = QThread::create([guard, work = std::move(work), done = std::move(done),
                                       failed = std::move(failed)]() {
        lower_this_thread_priority();
        try {
            std::shared_ptr<Result> result = work();
            QMetaObject::invokeMethod(
                QCoreApplication::instance(), [guard, done, result]() { if (guard) done(result); }, Qt::QueuedConnection);
        } catch (const std::exception& error) {
            const QString message = error_message(error);
            QMetaObject::invokeMethod(
                QCoreApplication::instance(), [guard, failed, message]() { if (guard) failed(message); },
                Qt::QueuedConnection);
        }
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

// A job that reports progress and can be cancelled, as the CLI's verbs run (a Progress sink and
// a CancelToken). Exactly one of done / failed / cancelled runs at the end, on the main thread.
struct JobCallbacks {
    QtProgress::Sink progress;                 // throttled at the source (QtProgress)
    std::function<void(QString)> failed;
    std::function<void()> cancelled;
};

// Returns the token that cancels the job (polled by the library between batches / layers).
// Thread rules as run_job; the token may be cancelled from any thread.
template <class Result>
std::shared_ptr<sy::CancelToken> run_cancellable_job(
    QObject* context, std::function<std::shared_ptr<Result>(sy::Progress&, const sy::CancelToken&)> work,
    std::function<void(std::shared_ptr<Result>)> done, JobCallbacks callbacks) {
    auto cancel = std::make_shared<sy::CancelToken>();
    QPointer<QObject> guard(context);
    auto on_main = [guard](std::function<void()> f) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(), [guard, f]() { if (guard) f(); }, Qt::QueuedConnection);
    };
    // Progress goes through the application object too, dropped once `context` is gone.
    QtProgress::Sink sink = [guard, f = std::move(callbacks.progress)](double fraction, QString stage) {
        if (guard && f) f(fraction, stage);
    };
    QThread* thread = QThread::create([cancel, on_main, sink, work = std::move(work), done = std::move(done),
                                       callbacks = std::move(callbacks)]() {
        lower_this_thread_priority();
        QtProgress progress(QCoreApplication::instance(), sink);
        try {
            std::shared_ptr<Result> result = work(progress, *cancel);
            on_main([done, result]() { done(result); });
        } catch (const sy::Cancelled&) {
            on_main([cancelled = callbacks.cancelled]() { if (cancelled) cancelled(); });
        } catch (const std::exception& error) {
            on_main([failed = callbacks.failed, message = error_message(error)]() { if (failed) failed(message); });
        }
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
    return cancel;
}

}  // namespace sy::gui
