// a trace that a separate `switchyard trace` process is still writing opens in
// the window (HDF5 SWMR) and the views keep growing until the writer is done.
#include <gtest/gtest.h>

#include <QProcess>
#include <QString>
#include <QStringList>
#include <set>

#include "gui/gui_test_util.h"
#include "main_window.h"
#include "routing_view.h"
#include "switchyard/core/trace_store.h"
#include "test_paths.h"

namespace sy::test {
namespace {

constexpr int64_t kTokens = 16384;

// Tokens the writer has committed so far, or 0 while the file cannot be opened yet (the writer
// creates it and only then switches to SWMR, when readers may join).
int64_t committed_tokens(const std::filesystem::path& path) {
    try {
        return TraceReader::open(path).token_count();
    } catch (const std::exception&) {
        return 0;
    }
}

TEST(GuiWorkbenchIntegration, FollowsATraceAnotherProcessIsWriting) {
    TempDir dir;
    const std::filesystem::path trace = dir.path() / "live.h5";
    QProcess writer;
    writer.start(QString::fromUtf8(SY_CLI_BINARY),
                 QStringList{"trace", QString::fromStdString((examples_dir() / "tiny-mixtral").string()), "--data",
                             QString::fromStdString((examples_dir() / "corpus-sample.jsonl").string()),
                             "--seq-len", "256", "--batch-tokens", "256", "--max-tokens", QString::number(kTokens), "-q", "-o",
                             QString::fromStdString(trace.string())});
    ASSERT_TRUE(writer.waitForStarted());
    ASSERT_TRUE(wait_until([&]() { return committed_tokens(trace) > 0 || writer.state() == QProcess::NotRunning; }));

    gui::MainWindow window;
    window.show();
    window.open_trace(QString::fromStdString(trace.string()));
    gui::RoutingView* view = window.views().front();
    std::set<int64_t> seen;   // token counts the view showed
    const bool done = wait_until([&]() {
        if (view->snapshot()) seen.insert(view->snapshot()->tokens);
        return writer.state() == QProcess::NotRunning && !seen.empty() && *seen.rbegin() == kTokens;
    });
    writer.waitForFinished();
    ASSERT_EQ(writer.exitCode(), 0) << writer.readAllStandardError().toStdString();
    ASSERT_TRUE(done) << "view stopped at " << (seen.empty() ? -1 : *seen.rbegin()) << " tokens; "
                      << window.last_error().toStdString();
    EXPECT_EQ(committed_tokens(trace), kTokens);
    // The window opened the file mid-run (the writer had committed only its first batches), so it
    // must have shown the trace at some smaller size first and then followed it to the end.
    EXPECT_GE(seen.size(), 2u) << "the view never showed the trace while it was growing";
    EXPECT_LT(*seen.begin(), kTokens);
}

}  // namespace
}  // namespace sy::test
