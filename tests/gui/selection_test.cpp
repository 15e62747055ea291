// One expert selection shared by every view: a click in one view selects the expert everywhere
// and names it in the status line; rows selected in the Experts table drive it too. Tokens read
// as text with visible whitespace marks; plot titles wrap instead of being cut off.
#include <gtest/gtest.h>

#include <QApplication>
#include <QFontMetrics>

#include "affinity_view.h"
#include "compare_view.h"
#include "domain_view.h"
#include "expert_selection.h"
#include "experts_view.h"
#include "flow_view.h"
#include "gui/gui_test_util.h"
#include "load_view.h"
#include "model_tree.h"
#include "routing_map_view.h"
#include "token_inspector_view.h"

namespace sy::test {
namespace {

template <class View>
View* find_view(gui::MainWindow& window) {
    for (gui::RoutingView* view : window.views())
        if (auto* found = dynamic_cast<View*>(view)) return found;
    return nullptr;
}

TEST(GuiSelectionIntegration, AClickInOneViewSelectsTheExpertInEveryView) {
    TempDir dir;
    gui::MainWindow window;
    window.resize(1500, 900);
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    ASSERT_TRUE(trace_and_wait(window, dir.path() / "trace.h5", 1024)) << window.last_error().toStdString();

    // Load view, bars of MoE layer 0: click expert 3's bar.
    auto* load = find_view<gui::LoadView>(window);
    load->set_layer(0);
    window.show_view(load);
    load->redraw_now();
    const double bar = load->snapshot()->stats.loads[0].fractions[3];
    click_plot(load->plot(), 3, bar / 2);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{0, {3}}}));
    EXPECT_EQ(window.status_text(), QStringLiteral("layer 0: expert 3"));
    EXPECT_EQ(load->marked_experts(), 1);

    // The Domains view of the same layer marks it; a Ctrl-click there adds expert 5.
    auto* domains = find_view<gui::DomainView>(window);
    window.show_view(domains);
    domains->set_layer(0);
    domains->redraw_now();
    EXPECT_EQ(domains->marked_experts(), 1);
    click_plot(domains->plot(), 5, 0, true);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{0, {3, 5}}}));
    EXPECT_EQ(window.status_text(), QStringLiteral("layer 0: experts 3, 5"));
    EXPECT_EQ(load->marked_experts(), 2);   // the other view followed without a click
    EXPECT_EQ(domains->marked_experts(), 2);

    // Rows picked in the Experts table select those experts: layer 1, expert 2.
    auto* experts = window.experts_view();
    window.show_view(experts);
    experts->redraw_now();
    experts->set_layer_filter(1);
    ASSERT_EQ(experts->visible_rows(), 8);
    experts->select_rows({2});
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{1, {2}}}));
    auto* flow = find_view<gui::FlowView>(window);
    window.show_view(flow);
    flow->redraw_now();
    EXPECT_EQ(flow->marked_experts(), 1);
    // A click on a Flow node (MoE layer 1's expert 4) selects it; the Placement cell follows.
    const QPointF center = flow->node_center(1, 4);
    ASSERT_GE(center.x(), 0);
    click_plot(flow->plot(), center.x(), center.y());
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{1, {4}}}));
    auto* placement = window.placement_view();
    window.show_view(placement);
    placement->redraw_now();
    EXPECT_EQ(placement->marked_experts(), 1);
    // A Ctrl-click on a Placement cell (MoE layer 3, expert 6) adds it.
    click_plot(placement->plot(), 6, 3, true);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{1, {4}}, {3, {6}}}));
    EXPECT_EQ(window.status_text(), QStringLiteral("layer 1: expert 4; layer 3: expert 6"));
    // A click on an Affinity cell (row 1 at layer 0, column 5 at layer 1) selects both experts;
    // the row and the column are outlined.
    auto* affinity = find_view<gui::AffinityView>(window);
    window.show_view(affinity);
    affinity->set_pair(0, 1);
    affinity->redraw_now();
    click_plot(affinity->plot(), 5, 1);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{0, {1}}, {1, {5}}}));
    EXPECT_EQ(affinity->marked_experts(), 2);
    auto* map = find_view<gui::RoutingMapView>(window);
    window.show_view(map);
    map->redraw_now();
    EXPECT_GT(map->marked_cells(), 0);
    // A click on the routing map selects the clicked token's first choice at that layer.
    const int first = map->first_choice(10, 2);
    click_plot(map->plot(), 10, 2);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{2, {first}}}));
    auto* tokens = window.token_inspector();
    window.show_view(tokens);
    tokens->redraw_now();
    EXPECT_GT(tokens->bold_cells(), 0);
    // An "expert N" node of the model tree selects that expert too.
    QTreeWidgetItem* node = window.model_tree()->expert_item(3, 7);
    ASSERT_NE(node, nullptr);
    emit window.model_tree()->itemClicked(node, 0);
    EXPECT_EQ(window.selection()->experts(), (sy::ExpertsByLayer{{3, {7}}}));
    window.selection()->clear();
    EXPECT_EQ(tokens->bold_cells(), 0);
    EXPECT_EQ(load->marked_experts(), 0);
}

TEST(GuiSelectionIntegration, TokensReadAsTextWithVisibleWhitespace) {
    gui::MainWindow window;
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    bool routed = false;
    QObject::connect(window.token_inspector(), &gui::TokenInspectorView::routed, [&routed]() { routed = true; });
    window.token_inspector()->route_text(QStringLiteral("def add(a, b):\n    return a + b"));
    ASSERT_TRUE(wait_until([&]() { return routed || !window.last_error().isEmpty(); }));
    ASSERT_TRUE(routed) << window.last_error().toStdString();
    QString all;
    for (int row = 0; row < window.token_inspector()->token_rows(); ++row) all += window.token_inspector()->cell_text(row, 0);
    EXPECT_FALSE(all.contains(QChar(0x0120))) << all.toStdString();   // "Ġ"
    EXPECT_FALSE(all.contains(QChar(0x010A))) << all.toStdString();   // "Ċ"
    EXPECT_TRUE(all.contains(QChar(0x2423))) << all.toStdString();    // "␣" before "add", "return"...
    EXPECT_TRUE(all.contains(QChar(0x21B5))) << all.toStdString();    // "↵"
    EXPECT_TRUE(all.contains(QStringLiteral("add")));
}

// Every plot title of every view fits the plot at a 1500-pixel-wide window: long ones wrap.
TEST(GuiSelectionIntegration, TitlesFitAt1500Pixels) {
    TempDir dir;
    gui::MainWindow window;
    window.resize(1500, 900);
    window.show();
    ASSERT_TRUE(open_model_and_wait(window));
    ASSERT_TRUE(trace_and_wait(window, dir.path() / "trace.h5", 1024)) << window.last_error().toStdString();
    bool compared = false;   // the Compare view's three plots, on the trace against itself
    QObject::connect(window.compare_view(), &gui::CompareView::compared, [&compared]() { compared = true; });
    window.compare_traces(q(dir.path() / "trace.h5"), q(dir.path() / "trace.h5"));
    ASSERT_TRUE(wait_until([&]() { return compared || !window.last_error().isEmpty(); })) << window.last_error().toStdString();
    int checked = 0, wrapped = 0;
    auto check = [&](const gui::RoutingView* view, QCustomPlot* plot) {
        plot->replot();
        for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
            auto* title = dynamic_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i));
            if (title == nullptr || title->text().isEmpty()) continue;
            const QRect box = title->rect();
            const QRect text = QFontMetrics(title->font()).boundingRect(box, title->textFlags(), title->text());
            EXPECT_LE(title->outerRect().width(), plot->width()) << view->name().toStdString();
            EXPECT_GE(box.left(), 0) << view->name().toStdString();
            EXPECT_LE(text.width(), box.width() + 1) << view->name().toStdString() << ": " << title->text().toStdString();
            EXPECT_LE(text.height(), box.height() + 1) << view->name().toStdString() << ": " << title->text().toStdString();
            wrapped += text.height() > QFontMetrics(title->font()).height() * 3 / 2;
            ++checked;
        }
    };
    for (gui::RoutingView* view : window.views()) {
        window.show_view(view);
        view->redraw_now();
        QApplication::processEvents();
        if (!view->has_data()) continue;
        if (view->plot() != nullptr) check(view, view->plot());
    }
    window.show_view(window.compare_view());
    QApplication::processEvents();
    for (QCustomPlot* plot : window.compare_view()->plots()) check(window.compare_view(), plot);
    EXPECT_GE(checked, 9);
    EXPECT_GE(wrapped, 1);   // the placement title is longer than a 1500-pixel line at least
    const QCPTextElement* placement = window.placement_view()->title();
    EXPECT_GT(placement->rect().height(), QFontMetrics(placement->font()).height() * 3 / 2) << placement->text().toStdString();
}

}  // namespace
}  // namespace sy::test
