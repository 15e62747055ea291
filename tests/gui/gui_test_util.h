#pragma once
// Helpers for driving the window in tests: run the event loop until a condition holds, open the
// bundled model, trace a few tokens, click a plot as a user would.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QMouseEvent>
#include <QObject>
#include <QString>
#include <QTimer>
#include <filesystem>
#include <functional>
#include <qcustomplot.h>

#include "edit_stack_panel.h"
#include "main_window.h"
#include "placement_view.h"
#include "run_panel.h"
#include "surgery_jobs.h"
#include "switchyard/core/expert_selection.h"
#include "switchyard/core/model.h"
#include "test_paths.h"

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

inline QString q(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }
inline QString bundled_model() { return q(examples_dir() / "tiny-mixtral"); }
inline QString bundled_corpus() { return q(examples_dir() / "corpus-sample.jsonl"); }

// Opens `dir` (the bundled model by default) and waits for it; false on an error.
inline bool open_model_and_wait(gui::MainWindow& window, const QString& dir = bundled_model()) {
    bool opened = false, failed = false;
    QObject::connect(&window, &gui::MainWindow::model_opened, [&opened]() { opened = true; });
    QObject::connect(&window, &gui::MainWindow::error_shown, [&failed]() { failed = true; });
    window.open_model(dir);
    return wait_until([&]() { return opened || failed; }) && opened;
}

// The window shown with the bundled model open and the Run panel on the bundled corpus (what
// scores, previews and training entries read).
inline bool open_with_bundled_corpus(gui::MainWindow& window) {
    window.show();
    if (!open_model_and_wait(window)) return false;
    window.run_panel()->set_data_path(bundled_corpus());
    return true;
}

inline void configure_run(gui::MainWindow& window, const std::filesystem::path& output, int max_tokens) {
    window.run_panel()->set_data_path(bundled_corpus());
    window.run_panel()->set_max_tokens(max_tokens);
    window.run_panel()->set_output_path(q(output));
}

// Traces `max_tokens` of the bundled corpus into `output` and waits for every view (placement
// included) to hold the finished trace; false on an error.
inline bool trace_and_wait(gui::MainWindow& window, const std::filesystem::path& output, int max_tokens) {
    configure_run(window, output, max_tokens);
    bool finished = false;
    QObject::connect(&window, &gui::MainWindow::trace_finished, [&finished]() { finished = true; });
    window.start_trace();
    return wait_until([&]() { return finished || !window.last_error().isEmpty(); }) && finished &&
           wait_until([&]() { return window.placement_view()->up_to_date(); });
}

// Previews the edit stack on `tokens` of the Run panel's data and waits; null on an error (the
// window's last_error says which). On success the Compare view shows the result.
inline std::shared_ptr<const gui::Comparison> preview_and_wait(gui::MainWindow& window, int tokens) {
    gui::EditStackPanel* panel = window.edit_panel();
    std::shared_ptr<const gui::Comparison> comparison;
    QObject::connect(panel, &gui::EditStackPanel::comparison_ready,
                     [&comparison](std::shared_ptr<const gui::Comparison> c) { comparison = std::move(c); });
    panel->set_preview_tokens(tokens);
    panel->preview();
    wait_until([&]() { return comparison || !window.last_error().isEmpty(); });
    return comparison;
}

// Exports the window's stack to `output` (dtype kept, 5GB shards) and waits: the exported
// folder, or empty on an error (window.last_error() says which) or a timeout.
inline QString export_and_wait(gui::MainWindow& window, const QString& output) {
    QString exported;
    QObject::connect(window.edit_panel(), &gui::EditStackPanel::exported, [&exported](const QString& path) { exported = path; });
    window.edit_panel()->export_model({output, QStringLiteral("keep"), QStringLiteral("5GB"), false});
    wait_until([&]() { return !exported.isEmpty() || !window.last_error().isEmpty(); });
    return exported;
}

// The same experts in every MoE layer of the open model.
inline sy::ExpertsByLayer in_every_layer(const gui::MainWindow& window, std::vector<int> experts) {
    sy::ExpertsByLayer out;
    for (int layer : window.model()->description.moe_layers) out[layer] = experts;
    return out;
}

// A left click (press and release at one point) at axis coordinates (x, y) of `plot`.
inline void click_plot(QCustomPlot* plot, double x, double y, bool ctrl = false) {
    plot->replot();
    const QPointF at(plot->xAxis->coordToPixel(x), plot->yAxis->coordToPixel(y));
    const Qt::KeyboardModifiers modifiers = ctrl ? Qt::ControlModifier : Qt::NoModifier;
    QMouseEvent press(QEvent::MouseButtonPress, at, plot->mapToGlobal(at), Qt::LeftButton, Qt::LeftButton, modifiers);
    QCoreApplication::sendEvent(plot, &press);
    QMouseEvent release(QEvent::MouseButtonRelease, at, plot->mapToGlobal(at), Qt::LeftButton, Qt::NoButton, modifiers);
    QCoreApplication::sendEvent(plot, &release);
}

}  // namespace sy::test
