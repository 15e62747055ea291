// The real window, offscreen: open the bundled model, trace the bundled corpus,
// every view receives data and exports, cancel mid-run leaves a readable trace, a trace file
// opens into the same views, errors show the CLI's message. Behaviour only, no timings.
#include <gtest/gtest.h>

#include <QDir>
#include <fstream>
#include <QFileInfo>
#include <QString>

#include "gui/gui_test_util.h"
#include "main_window.h"
#include "model_tree.h"
#include "placement_view.h"
#include "routing_map_view.h"
#include "routing_view.h"
#include "run_panel.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "test_paths.h"
#include "token_inspector_view.h"

namespace sy::test {
namespace {

using gui::MainWindow;

QString model_dir() { return bundled_model(); }
bool open_bundled_model(MainWindow& window) { return open_model_and_wait(window); }
void configure_run(MainWindow& window, const TempDir& dir, int max_tokens) {
    test::configure_run(window, dir.path() / "trace.h5", max_tokens);
}

TEST(GuiWorkbenchIntegration, OpensBundledModelWithTreeAndTitle) {
    MainWindow window;
    window.show();
    ASSERT_TRUE(open_bundled_model(window)) << window.last_error().toStdString();
    EXPECT_TRUE(window.windowTitle().contains(QStringLiteral("Switchyard")));
    EXPECT_TRUE(window.windowTitle().contains(QStringLiteral("tiny-mixtral")));
    ASSERT_TRUE(window.model());
    // Every tensor the forward pass uses is listed once in the tree.
    const auto expected = sy::expected_tensors(window.model()->description, window.model()->layout);
    EXPECT_EQ(window.model_tree()->tensor_items(), static_cast<int>(expected.size()));
    EXPECT_TRUE(window.recent_files().contains(QFileInfo(model_dir()).absoluteFilePath()));
}

TEST(GuiWorkbenchIntegration, OpenErrorShowsTheCliMessageAndWindowStaysUsable) {
    TempDir dir;
    std::string cli_message;
    try {
        sy::open_model(dir.path());
    } catch (const sy::Error& error) {
        cli_message = error.what();
    }
    ASSERT_FALSE(cli_message.empty());
    MainWindow window;
    window.show();
    window.open_model(q(dir.path()));
    ASSERT_TRUE(wait_until([&]() { return !window.last_error().isEmpty(); }));
    EXPECT_EQ(window.last_error().toStdString(), cli_message);
    ASSERT_TRUE(open_bundled_model(window));   // still usable afterwards
}

TEST(GuiWorkbenchIntegration, TraceFillsEveryViewAndEveryViewExports) {
    TempDir dir;
    MainWindow window;
    window.show();
    ASSERT_TRUE(open_bundled_model(window));
    configure_run(window, dir, 2048);
    bool finished = false;
    QObject::connect(&window, &MainWindow::trace_finished, [&finished]() { finished = true; });
    window.start_trace();
    EXPECT_TRUE(window.trace_running());
    ASSERT_TRUE(wait_until([&]() { return finished || !window.last_error().isEmpty(); })) << "trace did not end";
    ASSERT_TRUE(finished) << window.last_error().toStdString();
    EXPECT_EQ(TraceReader::open(dir.path() / "trace.h5").token_count(), 2048);
    ASSERT_TRUE(wait_until([&]() { return window.placement_view()->up_to_date(); }));
    for (gui::RoutingView* view : window.trace_views()) {
        view->redraw_now();
        EXPECT_TRUE(view->has_data()) << view->name().toStdString() << " received no data";
        EXPECT_EQ(view->snapshot()->tokens, 2048) << view->name().toStdString();
    }
    // Hover text of the routing map names the token and its experts.
    auto* map = static_cast<gui::RoutingMapView*>(window.views()[0]);
    EXPECT_TRUE(map->describe(0, 0).contains(QStringLiteral("expert")));
    for (int i = 0; i < static_cast<int>(window.trace_views().size()); ++i) {
        window.show_view(i);
        for (const char* suffix : {"png", "svg", "pdf", "csv"}) {
            const QString path = q(dir.path()) + QStringLiteral("/view%1.%2").arg(i).arg(QLatin1String(suffix));
            EXPECT_TRUE(window.export_current_view(path)) << path.toStdString() << ": " << window.last_error().toStdString();
            EXPECT_GT(QFileInfo(path).size(), 20) << path.toStdString();
        }
    }
    // Token inspector: typed text routed through every layer.
    bool routed = false;
    QObject::connect(window.token_inspector(), &gui::TokenInspectorView::routed, [&routed]() { routed = true; });
    window.token_inspector()->route_text(QStringLiteral("def add(a, b): return a + b"));
    ASSERT_TRUE(wait_until([&]() { return routed || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(routed) << window.last_error().toStdString();
    EXPECT_GT(window.token_inspector()->token_rows(), 3);
    // A second request reuses the weights the first one loaded.
    routed = false;
    window.token_inspector()->route_text(QStringLiteral("print(add(1, 2))"));
    ASSERT_TRUE(wait_until([&]() { return routed || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(routed) << window.last_error().toStdString();
    EXPECT_GT(window.token_inspector()->token_rows(), 3);
    EXPECT_EQ(window.token_inspector()->model_loads(), 1);
    // Save the current trace.
    const QString copy = q(dir.path() / "saved.h5");
    ASSERT_TRUE(window.save_trace_as(copy));
    EXPECT_EQ(TraceReader::open(copy.toStdString()).token_count(), 2048);
}

TEST(GuiWorkbenchIntegration, CancelMidRunLeavesAReadableTrace) {
    TempDir dir;
    MainWindow window;
    window.show();
    ASSERT_TRUE(open_bundled_model(window));
    configure_run(window, dir, 0);   // the whole corpus: many batches
    bool cancelled = false, finished = false;
    QObject::connect(&window, &MainWindow::trace_cancelled, [&cancelled]() { cancelled = true; });
    QObject::connect(&window, &MainWindow::trace_finished, [&finished]() { finished = true; });
    window.start_trace();
    // Cancel once the first batch is in the views.
    ASSERT_TRUE(wait_until([&]() { return window.views()[1]->snapshot() != nullptr || finished; }));
    window.cancel_trace();
    ASSERT_TRUE(wait_until([&]() { return cancelled || finished || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(cancelled) << "the run was not cancelled: " << window.last_error().toStdString();
    EXPECT_FALSE(window.trace_running());
    {
        const TraceReader reader = TraceReader::open(dir.path() / "trace.h5");
        EXPECT_GT(reader.token_count(), 0);
        EXPECT_EQ(reader.routing(0, 0, reader.token_count()).tokens, reader.token_count());
    }
    // The window can run again after a cancel.
    bool again = false;
    QObject::connect(&window, &MainWindow::trace_finished, [&again]() { again = true; });
    configure_run(window, dir, 1024);
    window.start_trace();
    ASSERT_TRUE(wait_until([&]() { return again || !window.last_error().isEmpty(); }));
    EXPECT_TRUE(again) << window.last_error().toStdString();
}

TEST(GuiWorkbenchIntegration, OpensATraceFileIntoTheSameViews) {
    TempDir dir;
    const std::filesystem::path trace = dir.path() / "cli.h5";
    {   // written exactly as `switchyard trace` does
        const Model model = open_model(examples_dir() / "tiny-mixtral");
        TraceOptions options;
        options.corpus.data = {examples_dir() / "corpus-sample.jsonl"};
        options.corpus.max_tokens = 1024;
        options.output = trace;
        NullProgress progress;
        CancelToken cancel;
        run_trace(model, options, progress, cancel);
    }
    MainWindow window;
    window.show();
    bool opened = false;
    QObject::connect(&window, &MainWindow::trace_opened, [&opened]() { opened = true; });
    window.open_trace(q(trace));
    ASSERT_TRUE(wait_until([&]() { return opened || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(opened) << window.last_error().toStdString();
    EXPECT_EQ(window.current_trace(), q(trace));
    for (gui::RoutingView* view : window.trace_views()) {
        if (view == window.placement_view()) continue;   // asynchronous, checked below
        view->redraw_now();
        EXPECT_TRUE(view->has_data()) << view->name().toStdString();
        EXPECT_EQ(view->snapshot()->tokens, 1024);
    }
    EXPECT_TRUE(wait_until([&]() { return window.placement_view()->has_result(); }));
}

TEST(GuiWorkbenchIntegration, OpeningANonTraceFileShowsTheReaderError) {
    TempDir dir;
    const std::filesystem::path bogus = dir.path() / "not-a-trace.h5";
    { std::ofstream(bogus) << "nope"; }
    MainWindow window;
    window.open_trace(q(bogus));
    ASSERT_TRUE(wait_until([&]() { return !window.last_error().isEmpty(); }));
    std::string reader_message;
    try {
        TraceReader::open(bogus);
    } catch (const sy::Error& error) {
        reader_message = error.what();
    }
    EXPECT_EQ(window.last_error().toStdString(), reader_message);
}

}  // namespace
}  // namespace sy::test
