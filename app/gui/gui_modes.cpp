#include "gui_modes.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

#include <QDockWidget>

#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_selection.h"
#include "experts_view.h"
#include "main_window.h"
#include "placement_view.h"
#include "routing_view.h"
#include "similarity_view.h"
#include "switchyard/core/model.h"
#include "run_panel.h"
#include "token_inspector_view.h"
#include "training_panel.h"

namespace sy::gui {

namespace {

int fail_on_error(MainWindow& window) {
    QObject::connect(&window, &MainWindow::error_shown, qApp, [](const QString& message) {
        std::fprintf(stderr, "error: %s\n", message.toUtf8().constData());
        QApplication::exit(1);
    });
    return 0;
}

void save_views(MainWindow& window, const QString& dir) {
    QDir().mkpath(dir);
    for (int i = 0; i < static_cast<int>(window.views().size()); ++i) {
        window.show_view(i);
        RoutingView* view = window.views()[static_cast<std::size_t>(i)];
        view->redraw_now();
        QApplication::processEvents();   // scripted mode only: let the tab switch paint before grabbing
        const QString name = QStringLiteral("%1/%2-%3.png").arg(dir).arg(i + 1, 2, 10, QLatin1Char('0')).arg(view->name().toLower());
        window.grab().save(name);
        std::printf("%s\n", name.toUtf8().constData());
    }
}

}  // namespace

int run_screenshots(MainWindow& window, const QString& dir) {
    fail_on_error(window);
    window.resize(1500, 900);
    // The whole loop, one step after the other: trace, route a line of text, prune two experts
    // and merge two others in every layer, compute layer 0's similarity and a score file,
    // preview, then save.
    auto every_layer = [&window](std::vector<int> experts) {
        sy::ExpertsByLayer out;
        for (int layer : window.model()->description.moe_layers) out[layer] = experts;
        return out;
    };
    QObject::connect(&window, &MainWindow::model_opened, &window, [&window]() { window.start_trace(); });
    QObject::connect(&window, &MainWindow::trace_finished, &window, [&window]() {
        window.token_inspector()->route_text(QStringLiteral("def add(a, b):\n    return a + b  # The experts route code and prose differently."));
    });
    QObject::connect(window.token_inspector(), &TokenInspectorView::routed, &window, [&window, every_layer]() {
        if (window.model()->description.moe_layers.empty()) return;
        window.selection()->set(every_layer({1, 6}));
        window.edit_panel()->prune_selection();
        window.selection()->set(every_layer({2, 4}));
        window.edit_panel()->merge_selection();
    });
    QObject::connect(window.edit_panel(), &EditStackPanel::entry_added, &window, [&window]() {
        if (window.edit_stack()->size() != 2) return;
        window.selection()->set({{window.model()->description.moe_layers.front(), {2, 4}}});
        window.similarity_view()->set_tokens(512);
        window.similarity_view()->compute();
    });
    // Scores for the Experts table's EAN / REAP columns, in a folder that goes away afterwards.
    QTemporaryDir scores_dir;
    const QString scores = scores_dir.filePath(QStringLiteral("scores.h5"));
    QObject::connect(window.similarity_view(), &SimilarityView::computed, &window,
                     [&window, scores]() { window.experts_view()->compute_scores(scores); });
    QObject::connect(window.experts_view(), &ExpertsView::scores_loaded, &window, [&window]() {
        window.edit_panel()->set_preview_tokens(2048);
        window.edit_panel()->preview();
    });
    QObject::connect(window.edit_panel(), &EditStackPanel::comparison_ready, &window, [&window, dir]() {
        if (auto* dock = window.findChild<QDockWidget*>(QStringLiteral("EditDock"))) dock->raise();
        // Wait for the placement job of the final snapshot, polling (never blocking the loop).
        auto* poll = new QTimer(&window);
        QObject::connect(poll, &QTimer::timeout, &window, [&window, dir, poll]() {
            if (!window.placement_view()->up_to_date()) return;
            poll->stop();
            save_views(window, dir);
            // Last: tune two experts of every layer on the pruned and merged model, and grab
            // the edit stack with the training entry and its loss curve.
            TrainingPanel* training = window.edit_panel()->training_panel();
            training->set_mode(QStringLiteral("tune"));
            training->set_data(QString::fromStdString(window.run_panel()->corpus().data.front().string()));
            training->set_expert_choice(QStringLiteral("esft-gate"));
            training->set_steps(40);
            training->set_lr(1e-3);
            training->set_batch(512, 128, 16384, 0);
            window.edit_panel()->train_entry();
        });
        poll->start(100);
    });
    QObject::connect(window.edit_panel(), &EditStackPanel::entry_added, &window, [&window, dir]() {
        if (!window.edit_stack()->trains()) return;
        QDockWidget* dock = window.findChild<QDockWidget*>(QStringLiteral("EditDock"));
        if (dock != nullptr) dock->raise();
        QApplication::processEvents();
        const QString name = QStringLiteral("%1/%2.png").arg(dir, QStringLiteral("edit-stack-training"));
        (dock != nullptr ? dock->grab() : window.grab()).save(name);
        std::printf("%s\n", name.toUtf8().constData());
        QApplication::exit(0);
    });
    return QApplication::exec();
}

int run_latency_bench(MainWindow& window) {
    fail_on_error(window);
    auto* tick = new QTimer(&window);
    tick->setInterval(5);
    tick->setTimerType(Qt::PreciseTimer);
    auto* clock = new QElapsedTimer;
    auto* lateness_ms = new std::vector<double>;
    auto* since_start = new QElapsedTimer;
    QObject::connect(tick, &QTimer::timeout, &window, [clock, lateness_ms, since_start]() {
        lateness_ms->push_back(std::max(0.0, clock->nsecsElapsed() / 1e6 - 5.0));
        if (lateness_ms->back() >= 50)   // name the slow moments, to find what blocked
            std::printf("  %.0f ms late at %.2f s\n", lateness_ms->back(), since_start->elapsed() / 1000.0);
        clock->restart();
    });
    QObject::connect(&window, &MainWindow::model_opened, &window, [&window, tick, clock, since_start]() {
        since_start->start();
        window.start_trace();
        clock->start();
        tick->start();
    });
    QElapsedTimer wall;
    wall.start();
    QObject::connect(&window, &MainWindow::trace_finished, &window, [tick, lateness_ms, &wall](const QString& path) {
        tick->stop();
        std::vector<double> sorted = *lateness_ms;
        std::sort(sorted.begin(), sorted.end());
        if (sorted.empty()) sorted.push_back(0);
        auto at = [&sorted](double q) { return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * sorted.size()))]; };
        std::printf("event-loop latency during the trace (%zu ticks of a 5 ms timer, %.1f s): max %.1f ms, p99 %.1f ms, "
                    "median %.1f ms\ntrace: %s\n",
                    sorted.size(), wall.elapsed() / 1000.0, sorted.back(), at(0.99), at(0.5), path.toUtf8().constData());
        QApplication::exit(sorted.back() < 100 ? 0 : 2);
    });
    return QApplication::exec();
}

}  // namespace sy::gui
