// The Compare view on two traces of the same tokens (File → Compare traces), and the Experts
// table and Similarity view: trace statistics, a score file computed in the window, the
// nearest expert by similarity, sorting, filtering.
#include <gtest/gtest.h>

#include <map>

#include "compare_view.h"
#include "expert_selection.h"
#include "experts_view.h"
#include "gui/gui_test_util.h"
#include "plot_export.h"
#include "similarity_view.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/core/model.h"
#include "switchyard/editing/expert_choice.h"

namespace sy::test {
namespace {

TEST(GuiCompareIntegration, ComparesTwoTracesOfTheSameTokens) {
    TempDir dir;
    const std::filesystem::path a = dir.path() / "a.h5", b = dir.path() / "b.h5";
    {   // the model, and the model with experts 0 and 1 of layer 1 masked (`trace --mask-experts 1:0,1:1`)
        const sy::Model model = sy::open_model(examples_dir() / "tiny-mixtral");
        sy::TraceOptions options;
        options.corpus.data = {examples_dir() / "corpus-sample.jsonl"};
        options.corpus.max_tokens = 1024;
        sy::NullProgress progress;
        sy::CancelToken cancel;
        options.output = a;
        sy::run_trace(model, options, progress, cancel);
        options.output = b;
        options.runner.masked_experts = {{1, {0, 1}}};
        sy::run_trace(model, options, progress, cancel);
    }
    gui::MainWindow window;
    window.show();
    gui::CompareView* view = window.compare_view();
    bool compared = false;
    QObject::connect(view, &gui::CompareView::compared, [&compared]() { compared = true; });
    window.compare_traces(q(a), q(b));
    ASSERT_TRUE(wait_until([&]() { return compared || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(compared) << window.last_error().toStdString();
    EXPECT_EQ(window.current_view(), view);
    ASSERT_TRUE(view->has_data());
    const auto& layers = view->comparison()->compare.layers;
    ASSERT_EQ(layers.size(), 4u);
    EXPECT_DOUBLE_EQ(layers[0].topk_overlap, 1.0);   // before the masked layer nothing changes
    EXPECT_LT(layers[1].topk_overlap, 1.0);
    EXPECT_EQ(layers[1].counts_b[0], 0);              // masked experts are never selected
    EXPECT_GT(layers[1].drift[2] + layers[1].drift[3] + layers[1].drift[4], 0.0);
    EXPECT_FALSE(view->comparison()->compare.domains.empty());
    EXPECT_GT(view->comparison()->compare.all.mean_nll_b, 0.0);
    EXPECT_GT(view->changed_rows(), 0);
    for (int row = 0; row < view->changed_rows(); ++row) EXPECT_FALSE(view->changed_text(row).contains(QChar(0x0120)));
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard compare")));
    // A click on a drift bar selects that expert of the layer shown.
    view->set_drift_layer(1);
    click_plot(view->plots()[2], 3, layers[1].drift[3] / 2);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{1, {3}}}));
    for (const char* suffix : {"png", "svg", "csv"}) {
        const QString path = q(dir.path()) + QStringLiteral("/compare.") + QLatin1String(suffix);
        EXPECT_EQ(gui::export_view(*view, path), QString()) << suffix;
    }
    // Traces of different tokens: the library's message.
    window.compare_traces(q(a), q(examples_dir() / "corpus-sample.jsonl"));
    ASSERT_TRUE(wait_until([&]() { return !window.last_error().isEmpty(); }));
}

TEST(GuiExpertsIntegration, TableScoresAndSimilarity) {
    TempDir dir;
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    ASSERT_TRUE(trace_and_wait(window, dir.path() / "trace.h5", 1024)) << window.last_error().toStdString();
    gui::ExpertsView* experts = window.experts_view();
    window.show_view(experts);
    experts->redraw_now();
    ASSERT_EQ(experts->visible_rows(), 32);   // 4 MoE layers x 8 experts
    experts->sort_by(QStringLiteral("load"), Qt::DescendingOrder);
    EXPECT_GE(experts->cell(0, QStringLiteral("load")).chopped(1).toDouble(), experts->cell(1, QStringLiteral("load")).chopped(1).toDouble());
    EXPECT_FALSE(experts->cell(0, QStringLiteral("top tokens")).isEmpty());
    EXPECT_FALSE(experts->cell(0, QStringLiteral("top tokens")).contains(QChar(0x0120)));
    experts->set_layer_filter(2);
    EXPECT_EQ(experts->visible_rows(), 8);
    // Within a layer the gate mass sums to 1 per token (Mixtral renormalises its top-k gates) and
    // each domain's shares of the routed slots to 100%.
    double gate_mass = 0;
    std::map<QString, double> domain_shares;
    for (int row = 0; row < 8; ++row) {
        gate_mass += experts->cell(row, QStringLiteral("gate mass")).toDouble();
        for (const char* domain : {"c", "english", "json", "python"}) {
            const QString share = experts->cell(row, QStringLiteral("in ") + QLatin1String(domain));
            if (share.endsWith(QLatin1Char('%'))) domain_shares[QLatin1String(domain)] += share.chopped(1).toDouble();
        }
    }
    EXPECT_NEAR(gate_mass, 1.0, 1e-3);
    EXPECT_FALSE(domain_shares.empty());
    for (const auto& [domain, sum] : domain_shares) EXPECT_NEAR(sum, 100.0, 0.05) << domain.toStdString();
    experts->set_layer_filter(-1);
    EXPECT_EQ(experts->cell(0, QStringLiteral("EAN")), QStringLiteral("—"));   // no score file yet

    // Scores computed in the window, as `switchyard score` does, fill EAN and REAP.
    const QString scores = q(dir.path() / "scores.h5");
    window.run_panel()->set_max_tokens(256);
    bool loaded = false;
    QObject::connect(experts, &gui::ExpertsView::scores_loaded, [&loaded]() { loaded = true; });
    experts->compute_scores(scores);
    ASSERT_TRUE(wait_until([&]() { return loaded || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(loaded) << window.last_error().toStdString();
    experts->redraw_now();
    const sy::ExpertScores file = sy::read_expert_scores(scores.toStdString());
    experts->sort_by(QStringLiteral("layer"), Qt::AscendingOrder);
    experts->set_text_filter(QString());
    experts->set_layer_filter(0);
    experts->sort_by(QStringLiteral("expert"), Qt::AscendingOrder);
    for (int e = 0; e < 8; ++e) {
        EXPECT_EQ(experts->cell(e, QStringLiteral("REAP")), QString::number(file.layers[0].reap[static_cast<std::size_t>(e)], 'f', 4));
        EXPECT_EQ(experts->cell(e, QStringLiteral("EAN")), QString::number(file.layers[0].ean[static_cast<std::size_t>(e)], 'f', 4));
    }
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard score")));
    // The two lowest-REAP experts of every layer, as `prune --method reap --keep 6` chooses them.
    experts->select_lowest(2, QStringLiteral("reap"));
    sy::PruneChoice choice;
    choice.keep = 6;
    EXPECT_EQ(window.selection()->experts(), sy::choose_pruned_experts(window.model()->description, &file, choice));
    EXPECT_EQ(window.selection()->experts().size(), 4u);

    // Similarity of layer 0: a heat map, and every expert of layer 0 gets a nearest expert.
    gui::SimilarityView* similarity = window.similarity_view();
    window.show_view(similarity);
    similarity->set_layer(0);
    similarity->set_tokens(128);
    bool computed = false;
    QObject::connect(similarity, &gui::SimilarityView::computed, [&computed]() { computed = true; });
    similarity->compute();
    ASSERT_TRUE(wait_until([&]() { return computed || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(computed) << window.last_error().toStdString();
    similarity->redraw_now();
    EXPECT_TRUE(similarity->has_data());
    click_plot(similarity->plot(), 5, 2);   // cell (row 2, column 5): experts 2 and 5
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{0, {2, 5}}}));
    EXPECT_EQ(similarity->marked_experts(), 2);
    experts->redraw_now();
    for (int e = 0; e < 8; ++e) EXPECT_NE(experts->cell(e, QStringLiteral("nearest")), QStringLiteral("—")) << e;
    EXPECT_TRUE(window.log_text().contains(QStringLiteral("switchyard similarity")));
}

}  // namespace
}  // namespace sy::test
