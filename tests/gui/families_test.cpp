// Every view works on every fixture family (Mixtral is covered by workbench_test.cpp with the
// bundled model): dense first layers (DeepSeek, GLM), shared experts (Qwen2-MoE, DeepSeek, GLM,
// Qwen3-Next), fused expert layout (Qwen3-MoE), FP8 weights, sigmoid routing (DeepSeek, GLM,
// MiniMax), gpt-oss MXFP4 experts, Qwen3-Next's linear-attention layers.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <QString>

#include "gui/gui_test_util.h"
#include "main_window.h"
#include "placement_view.h"
#include "routing_view.h"
#include "run_panel.h"
#include "switchyard/core/trace_store.h"
#include "test_paths.h"

namespace sy::test {
namespace {

constexpr int kTokens = 512;

class GuiFamiliesIntegration : public ::testing::TestWithParam<const char*> {};

TEST_P(GuiFamiliesIntegration, EveryViewReceivesDataAndExports) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    bool opened = false, finished = false;
    QObject::connect(&window, &gui::MainWindow::model_opened, [&opened]() { opened = true; });
    QObject::connect(&window, &gui::MainWindow::trace_finished, [&finished]() { finished = true; });
    window.open_model(QString::fromStdString((data_dir() / "models" / GetParam()).string()));
    ASSERT_TRUE(wait_until([&]() { return opened || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(opened) << window.last_error().toStdString();

    window.run_panel()->set_data_path(QString::fromStdString((examples_dir() / "corpus-sample.jsonl").string()));
    window.run_panel()->set_max_tokens(kTokens);
    window.run_panel()->set_output_path(QString::fromStdString((dir.path() / "trace.h5").string()));
    window.start_trace();
    ASSERT_TRUE(wait_until([&]() { return finished || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(finished) << window.last_error().toStdString();
    EXPECT_EQ(TraceReader::open(dir.path() / "trace.h5").token_count(), kTokens);
    ASSERT_TRUE(wait_until([&]() { return window.placement_view()->up_to_date(); }));

    for (int i = 0; i < static_cast<int>(window.trace_views().size()); ++i) {
        gui::RoutingView* view = window.trace_views()[i];
        view->redraw_now();
        EXPECT_TRUE(view->has_data()) << view->name().toStdString() << " received no data";
        ASSERT_NE(view->snapshot(), nullptr) << view->name().toStdString();
        EXPECT_EQ(view->snapshot()->tokens, kTokens) << view->name().toStdString();
        window.show_view(i);
        const QString png = QString::fromStdString((dir.path() / ("view" + std::to_string(i) + ".png")).string());
        EXPECT_TRUE(window.export_current_view(png)) << view->name().toStdString() << ": "
                                                     << window.last_error().toStdString();
        EXPECT_GT(QFileInfo(png).size(), 20) << view->name().toStdString();
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GuiFamiliesIntegration,
                         ::testing::Values("tiny-qwen2-moe", "tiny-qwen3-moe", "tiny-qwen3-moe-fused", "tiny-olmoe",
                                           "tiny-deepseek-v3", "tiny-deepseek-v3-fp8", "tiny-glm4-moe",
                                           "tiny-minimax-m2", "tiny-gpt-oss", "tiny-qwen3-next"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             std::string name = info.param;
                             for (char& c : name)
                                 if (c == '-') c = '_';
                             return name;
                         });

}  // namespace
}  // namespace sy::test
